"""Shared look of every figure: palettes, labels, titles and axes helpers (the one place they are defined)."""

from __future__ import annotations

from collections.abc import Mapping

from .._validation import drawn_dims
from ..barcode import Barcode
from ..descriptors import Descriptors, describe

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7",
}
#: One colour per homology dimension, then a cycle for lines.
DIM_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
LINE_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: Nested pruning plans, widest (lightest) first.
PLAN_SHADES = ("#56B4E9", "#0072B2", "#009E73", "#CC79A7", "#E69F00")
CURVE_LABELS = {
    "betti": r"Betti number $\beta_{P}$",
    "average_similarity": r"average similarity $\bar S_{P}$",
    "ilp": r"inter-layer persistence ILP$_{P,\alpha}$",
    "brf": r"births' relative frequency BRF$_{P,\alpha}$",
    "correlation_length": r"correlation length $\kappa_{P}$ (layers)",
    "correlation_length_left": r"left correlation length $\kappa_{P}^{\leftarrow}$ (layers)",
}
#: Short names of the curves for titles.
CURVE_NAMES = {
    "betti": "Betti curve",
    "average_similarity": "average similarity",
    "ilp": "inter-layer persistence",
    "brf": "births' relative frequency",
    "correlation_length": "correlation length",
    "correlation_length_left": "left correlation length",
}
_MODEL_CHARS = 40


def _dim_color(p: int) -> str:
    return DIM_COLORS[p % len(DIM_COLORS)]


def _axes(ax, figsize):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _layer_ticks(axis, n: int):
    """Integer ticks on a layer axis, at most ~12 of them."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=min(n, 12), integer=True))


def _bars(count: int) -> str:
    """``1 bar``, ``2 bars``, ``1,234 bars``."""
    return f"{count:,} bar" + ("" if count == 1 else "s")


def _model_name(params) -> str:
    """The model a result comes from, from its parameters (``""`` when unknown).

    Looks at ``model``, then the clouds' provenance, then (for plans) the
    barcode's parameters. Local paths keep their last two parts; long names
    keep their end.
    """
    if not isinstance(params, Mapping):
        return ""
    name = params.get("model")
    if not name:
        for key in ("clouds", "barcode"):
            inner = params.get(key)
            if isinstance(inner, Mapping) and (name := _model_name(inner)):
                return name
        return ""
    name = str(name).rstrip("/\\")
    if name.startswith(("/", "\\", ".", "~")) or ":\\" in name:
        name = "/".join(name.replace("\\", "/").split("/")[-2:])
    return name if len(name) <= _MODEL_CHARS else "…" + name[-(_MODEL_CHARS - 1):]


def _title(what: str, params) -> str:
    """``what``, under the model's name when the parameters name one (two lines, so that both fit)."""
    model = _model_name(params)
    return f"{model}\n{what}" if model else what


def _descriptors(obj, dim, caller, **kwargs) -> Descriptors:
    if isinstance(obj, Descriptors):
        if dim not in obj.dims:
            raise ValueError(f"{caller}: these descriptors have dims {obj.dims}, not {dim}.")
        return obj
    if isinstance(obj, Barcode):
        return describe(obj, dims=(dim,), **kwargs)
    raise TypeError(f"{caller} needs a zigzag.Barcode or Descriptors, got {type(obj).__name__}.")


def _default_dims(barcode: Barcode) -> tuple:
    """The dimensions a plot shows by default: those with bars, up to the barcode's max_dim."""
    return drawn_dims(barcode)
