"""Input checks used at the public boundary.

Every message names the parameter, what was expected, what was received and,
where there is one, the fix. Internal functions trust what these return.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

from .errors import InputError, InputTypeError


def check_int(value, name: str, *, minimum: int | None = None, caller: str = "") -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the allowed range."""
    where = f" of {caller}" if caller else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputTypeError(
            f"The {name!r} parameter{where} must be an int, got {type(value).__name__} {value!r}."
        )
    if minimum is not None and value < minimum:
        raise InputError(
            f"The {name!r} parameter{where} must be an int in the range [{minimum}, inf). "
            f"Got {value!r} instead."
        )
    return int(value)


def check_float(value, name: str, *, low=None, high=None, caller: str = "") -> float:
    """Return ``value`` as a float in the closed range [low, high]."""
    where = f" of {caller}" if caller else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputTypeError(
            f"The {name!r} parameter{where} must be a real number, got {type(value).__name__} {value!r}."
        )
    value = float(value)
    if not np.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise InputError(
            f"The {name!r} parameter{where} must be a finite number in [{lo}, {hi}]. Got {value!r} instead."
        )
    return value


def check_option(value, name: str, options: Iterable[str], *, caller: str = "") -> str:
    """Return ``value`` if it is one of ``options``, else raise listing them."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        where = f" of {caller}" if caller else ""
        choices = ", ".join(repr(o) for o in options)
        raise InputError(f"The {name!r} parameter{where} must be one of {choices}. Got {value!r} instead.")
    return value


def python_scalar(value):
    """numpy scalars to Python ones, so the checks above see ints and floats."""
    return value.item() if isinstance(value, np.generic) else value


def check_dims(dims, caller: str) -> tuple:
    """``dims`` (one int or several) as a tuple of distinct homology dimensions >= 0."""
    values = [dims] if np.isscalar(dims) else list(dims)
    out = tuple(check_int(python_scalar(p), "dims", minimum=0, caller=caller) for p in values)
    if not out:
        raise InputError(f"The 'dims' parameter of {caller} must name at least one homology dimension, e.g. (0, 1).")
    if len(set(out)) != len(out):
        raise InputError(f"The 'dims' parameter of {caller} has repeated dimensions {out}; list each once.")
    return out


def check_alphas(alpha, caller: str) -> tuple:
    """``alpha`` (one float or several) as a tuple of exponents >= 0."""
    values = [alpha] if np.isscalar(alpha) else list(alpha)
    out = tuple(check_float(python_scalar(a), "alpha", low=0.0, caller=caller) for a in values)
    if not out:
        raise InputError(f"The 'alpha' parameter of {caller} must hold at least one exponent >= 0, e.g. 1.0.")
    return out


def barcode_max_dim(barcode):
    """The highest homology dimension the barcode's complexes make exact (``params['max_dim']``), or None.

    ``zigzag.compute`` records it; an authors' CSV carries none unless it was
    read with ``max_dim=`` (``Barcode.load(path, max_dim=3)``, ``--max-dim``).
    """
    value = barcode.params.get("max_dim")
    return None if value is None else int(value)


def computed_dims(barcode) -> tuple:
    """Default dimensions of descriptors: ``0 .. max_dim`` when known, else those with bars (at least H_0)."""
    top = barcode_max_dim(barcode)
    if top is not None:
        return tuple(range(top + 1))
    return barcode.dims or (0,)


def drawn_dims(barcode) -> tuple:
    """Default dimensions of plots: those with bars, none above ``max_dim`` (bars above it are artefacts)."""
    top = barcode_max_dim(barcode)
    return tuple(p for p in barcode.dims if top is None or p <= top)
