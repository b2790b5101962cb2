"""Every descriptor of a barcode at once: :class:`Descriptors` and :func:`describe`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .._files import json_text, jsonable, write_text
from .._frozen import FrozenRecord
from .._validation import check_alphas, check_dims, check_float, check_option, computed_dims
from ..barcode import MAX_LAYERS, check_barcode
from ._kernels import (ALPHA_CURVES, BRF_INDEX, CURVES, MATRICES, NORMALIZATIONS, _average, _birth_persistence, _brf,
                       _histogram, _ilp, _safe_div, _similarity)


FORMAT = "zigzag-descriptors"
#: Version written; versions read (files written before versions existed count as 1).
FORMAT_VERSION = 1
READ_VERSIONS = (1,)
_SCALARS = {"n_layers": int, "dims": list, "alpha": list, "threshold": (int, float), "brf_index": str,
            "normalization": str}


def _check_payload(data) -> None:
    """Raise a ValueError naming what is wrong with a descriptors dict read from a file."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ValueError(f"not a descriptors file: expected 'format': {FORMAT!r}.")
    version = data.get("format_version", 1)
    if version not in READ_VERSIONS or isinstance(version, bool):
        raise ValueError(f"format_version {version!r} is not one this zigzag reads (versions "
                         f"{', '.join(map(str, READ_VERSIONS))}); it was written by a newer zigzag: upgrade "
                         "(pip install -U zigzag-tda).")
    missing = [key for key in (*_SCALARS, *CURVES, *MATRICES) if key not in data]
    if missing:
        raise ValueError(f"keys {missing} are missing; the file is damaged or was not written by zigzag describe.")
    for key, types in _SCALARS.items():
        if isinstance(data[key], bool) or not isinstance(data[key], types):
            raise ValueError(f"{key!r} has the wrong type ({type(data[key]).__name__} {data[key]!r:.40}).")
    if not 1 <= data["n_layers"] <= MAX_LAYERS:
        raise ValueError(f"'n_layers' must be from 1 to {MAX_LAYERS:,}; got {data['n_layers']}.")
    for key in ("dims", "alpha"):
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data[key]):
            raise ValueError(f"{key!r} must be a list of numbers; got {data[key]!r:.60}.")
    if data["brf_index"] not in BRF_INDEX or data["normalization"] not in NORMALIZATIONS:
        raise ValueError(f"'brf_index' must be one of {BRF_INDEX} and 'normalization' one of {NORMALIZATIONS}; got "
                         f"{data['brf_index']!r:.20} and {data['normalization']!r:.20}.")
    if not isinstance(data.get("params", {}), Mapping):
        raise ValueError("'params' must be a JSON object.")


def _frozen(mapping) -> Mapping:
    out = {}
    for key, value in mapping.items():
        value = np.asarray(value)
        value.setflags(write=False)
        out[int(key)] = value
    return MappingProxyType(out)


@dataclass(frozen=True, eq=False)
class Descriptors(FrozenRecord):
    """Every descriptor of a barcode, per homology dimension, with the parameters that made them.

    Built by :func:`describe`. Each descriptor field maps a homology
    dimension p to an array; layers are 0-based, ``n = n_layers``.

    Attributes
    ----------
    n_layers : int
    dims : tuple of int
    alpha : tuple of float
        The exponents of ``ilp`` and ``brf`` (their first axis).
    threshold : float
        The threshold q of the correlation lengths.
    brf_index : {"birth", "death"}
        Which layer a bar counts at in ``brf``.
    normalization : {"column", "row", "none"}
        The normalisation of ``average_similarity``.
    betti : mapping p -> ndarray of shape (n,)
    histogram : mapping p -> ndarray of shape (n, n+1)
        ``H_p(b, d)``.
    similarity : mapping p -> ndarray of shape (n, n)
        ``S_p(i, j)``.
    average_similarity : mapping p -> ndarray of shape (n,)
        ``S̄_p``.
    ilp, brf : mapping p -> ndarray of shape (len(alpha), n)
    correlation_length, correlation_length_left : mapping p -> ndarray of shape (n,)
    params : mapping
        The barcode's parameters (k, metric, model, ...).

    For :func:`describe_subsets` means and standard deviations the same
    fields hold floats.
    """

    n_layers: int
    dims: tuple
    alpha: tuple
    threshold: float
    brf_index: str
    normalization: str
    betti: Mapping
    histogram: Mapping
    similarity: Mapping
    average_similarity: Mapping
    ilp: Mapping
    brf: Mapping
    correlation_length: Mapping
    correlation_length_left: Mapping
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        for name in CURVES + MATRICES:
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "dims", tuple(int(p) for p in self.dims))
        object.__setattr__(self, "alpha", tuple(float(a) for a in self.alpha))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __repr__(self) -> str:
        return (
            f"Descriptors(n_layers={self.n_layers}, dims={self.dims}, alpha={self.alpha}, "
            f"threshold={self.threshold:g}, brf_index={self.brf_index!r}, normalization={self.normalization!r})"
        )

    # ------------------------------------------------------------------ views
    @property
    def relative_depth(self) -> np.ndarray:
        """``l / (n - 1)`` for every layer: ndarray of shape (n,) from 0 to 1."""
        return np.arange(self.n_layers) / max(self.n_layers - 1, 1)

    def _check_dim(self, dim) -> int:
        if dim not in self.dims:
            raise ValueError(f"No descriptors for dimension {dim!r}; these were computed for dims {self.dims}. "
                             f"Pass dims=(..., {dim}) to describe().")
        return int(dim)

    def curve(self, name: str, dim: int = 1, alpha: float | None = None) -> np.ndarray:
        """One curve over the layers.

        Parameters
        ----------
        name : {"betti", "average_similarity", "ilp", "brf", "correlation_length", "correlation_length_left"}
        dim : int, default=1
        alpha : float, optional
            For ``ilp`` and ``brf``: which exponent (default: the first one).

        Returns
        -------
        ndarray of shape (n_layers,)
        """
        check_option(name, "name", CURVES, caller="Descriptors.curve")
        values = getattr(self, name)[self._check_dim(dim)]
        if name not in ALPHA_CURVES:
            return values
        if alpha is None:
            return values[0]
        hits = [i for i, a in enumerate(self.alpha) if np.isclose(a, alpha)]
        if not hits:
            raise ValueError(f"No {name} for alpha={alpha!r}; these descriptors have alpha={self.alpha}.")
        return values[hits[0]]

    def birth_persistence(self, dim: int = 1) -> np.ndarray:
        """Birth × persistence view of ``histogram[dim]``, ndarray of shape (n, n+1)."""
        return _birth_persistence(self.histogram[self._check_dim(dim)])

    def persistence_matrix(self, dim: int = 1) -> np.ndarray:
        """``P_p(l, j) = S_p(l, j) / beta_p(l)``, ndarray of shape (n, n)."""
        dim = self._check_dim(dim)
        return _safe_div(self.similarity[dim], np.asarray(self.betti[dim], dtype=float)[:, None])

    # ------------------------------------------------------------------ conversion
    def to_dict(self) -> dict:
        """Plain, JSON-ready dict: parameters, then each descriptor keyed by dimension (as a string)."""
        out = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "n_layers": self.n_layers,
            "dims": list(self.dims),
            "alpha": list(self.alpha),
            "threshold": self.threshold,
            "brf_index": self.brf_index,
            "normalization": self.normalization,
            "params": jsonable(dict(self.params)),
        }
        for name in CURVES + MATRICES:
            out[name] = {str(p): getattr(self, name)[p].tolist() for p in self.dims}
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "Descriptors":
        """Inverse of :meth:`to_dict`, checking every key, type and shape.

        Raises
        ------
        ValueError
            Not a descriptors dict, a ``format_version`` from a newer zigzag,
            or keys missing or of the wrong type or shape.
        """
        _check_payload(data)
        n, dims, n_alpha = data["n_layers"], [int(p) for p in data["dims"]], len(data["alpha"])
        arrays = {}
        for name in CURVES + MATRICES:
            shape = {"histogram": (n, n + 1), "similarity": (n, n), "ilp": (n_alpha, n), "brf": (n_alpha, n)}.get(name, (n,))
            values = data[name]
            if not isinstance(values, Mapping) or sorted(values) != sorted(str(p) for p in dims):
                raise ValueError(f"descriptors: {name!r} must map each of the dims {dims} (as strings) to values; "
                                 f"found {sorted(values) if isinstance(values, Mapping) else type(values).__name__}.")
            arrays[name] = {}
            for p in dims:
                array = np.asarray(values[str(p)]) if isinstance(values[str(p)], list) else np.asarray(None)
                if array.shape != shape or array.dtype.kind not in "iuf":
                    raise ValueError(f"descriptors: {name}[{p}] must be numbers of shape {shape} for n_layers={n}; "
                                     f"found shape {array.shape} of {array.dtype}.")
                arrays[name][p] = array
        return cls(
            n_layers=n, dims=dims, alpha=data["alpha"], threshold=float(data["threshold"]),
            brf_index=data["brf_index"], normalization=data["normalization"], params=data.get("params", {}), **arrays,
        )

    def dumps(self) -> str:
        """The text :meth:`save` writes: strict JSON (a non-finite value is an error, never ``NaN``)."""
        return json_text(self.to_dict(), what="the descriptors")

    def save(self, path):
        """Write :meth:`to_dict` as JSON (atomically); returns the path."""
        return write_text(path, self.dumps())

    @classmethod
    def load(cls, path) -> "Descriptors":
        """Read a file written by :meth:`save`; a damaged file or one from a newer zigzag is a ValueError."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No descriptors file at {path}.")
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path} is not valid JSON ({str(err).splitlines()[0][:80]}); it is damaged or cut "
                             "short. Write it again with 'zigzag describe'.") from None
        try:
            return cls.from_dict(data)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None

    def to_records(self) -> list:
        """The curves as a tidy list of dicts, one per (descriptor, dim, alpha, layer).

        Keys: ``descriptor, dim, alpha`` (None for curves without one),
        ``layer, relative_depth, value``. The matrices (``histogram``,
        ``similarity``) are not included; take them from the attributes.
        """
        depth = self.relative_depth
        rows = []
        for name in CURVES:
            for p in self.dims:
                values = getattr(self, name)[p]
                series = zip(self.alpha, values) if name in ALPHA_CURVES else [(None, values)]
                for a, curve in series:
                    rows.extend(
                        {"descriptor": name, "dim": p, "alpha": a, "layer": layer,
                         "relative_depth": float(depth[layer]), "value": curve[layer].item()}
                        for layer in range(self.n_layers)
                    )
        return rows

    def to_frame(self):
        """:meth:`to_records` as a pandas DataFrame (needs the ``tables`` extra: ``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "Descriptors.to_frame needs pandas; install it with `pip install zigzag-tda[tables]` "
                "or use Descriptors.to_records() for plain dicts."
            ) from None
        return pd.DataFrame.from_records(self.to_records(),
                                         columns=["descriptor", "dim", "alpha", "layer", "relative_depth", "value"])


def describe(barcode, dims=None, alpha=(0.0, 1.0), *, threshold: float = 0.5, brf_index: str = "birth",
             normalization: str = "column") -> Descriptors:
    """Compute every descriptor (docs/descriptors.md) for the given homology dimensions.

    Parameters
    ----------
    barcode : Barcode
    dims : int or iterable of int, optional
        Homology dimensions p. Default: the dimensions the barcode has,
        ``0 .. params["max_dim"]`` when it records one (``zigzag.compute``
        does), else those with bars. Dimensions without bars give zero curves.
    alpha : float or iterable of float >= 0, default=(0.0, 1.0)
        Exponents of ``ILP_{p,alpha}`` and ``BRF_{p,alpha}``.
    threshold : float in [0, 1], default=0.5
        Threshold q of the correlation lengths.
    brf_index : {"birth", "death"}, default="birth"
        Count bars at their birth layer or at their last layer alive.
    normalization : {"column", "row", "none"}, default="column"
        Normalisation of ``S̄_p`` (column is the paper's, used for pruning).

    Returns
    -------
    Descriptors

    Examples
    --------
    >>> import zigzag
    >>> bars = zigzag.Barcode.from_arrays([1, 1, 1], [0, 2, 2], [7, 5, 3], n_layers=4, params={"max_dim": 1})
    >>> desc = zigzag.describe(bars)
    >>> desc.dims
    (0, 1)
    >>> desc.betti[1].tolist()
    [1, 3, 2, 1]
    >>> int(desc.average_similarity[1].argmax())
    1
    """
    check_barcode(barcode, "describe")
    dims = computed_dims(barcode) if dims is None else check_dims(dims, "describe")
    alphas = check_alphas(alpha, "describe")
    threshold = check_float(threshold, "threshold", low=0.0, high=1.0, caller="describe")
    brf_index = check_option(brf_index, "brf_index", BRF_INDEX, caller="describe")
    normalization = check_option(normalization, "normalization", NORMALIZATIONS, caller="describe")
    fields = {name: {} for name in CURVES + MATRICES}
    for p in dims:
        hist = _histogram(barcode, p)
        sim = _similarity(hist)
        betti = np.diagonal(sim).copy()
        pers = _safe_div(sim, betti[:, None])
        above = pers > threshold
        fields["histogram"][p] = hist
        fields["similarity"][p] = sim
        fields["betti"][p] = betti
        fields["average_similarity"][p] = _average(sim, betti, normalization)
        fields["ilp"][p] = np.stack([_ilp(pers, a) for a in alphas])
        fields["brf"][p] = np.stack([_brf(hist, a, brf_index) for a in alphas])
        fields["correlation_length"][p] = above.sum(axis=1)
        fields["correlation_length_left"][p] = np.tril(above).sum(axis=1)
    return Descriptors(
        n_layers=barcode.n_layers, dims=dims, alpha=alphas, threshold=threshold, brf_index=brf_index,
        normalization=normalization, params=dict(barcode.params), **fields,
    )
