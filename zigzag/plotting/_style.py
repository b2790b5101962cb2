"""Shared look of every figure: palettes, labels, axes helpers."""

from __future__ import annotations

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
CURVE_LABELS = {
    "betti": r"Betti number $\beta_{P}$",
    "average_similarity": r"average similarity $\bar S_{P}$",
    "ilp": r"inter-layer persistence ILP$_{P,\alpha}$",
    "brf": r"births' relative frequency BRF$_{P,\alpha}$",
    "correlation_length": r"correlation length $\kappa_{P}$ (layers)",
    "correlation_length_left": r"left correlation length $\kappa_{P}^{\leftarrow}$ (layers)",
}


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


def _descriptors(obj, dim, caller, **kwargs) -> Descriptors:
    if isinstance(obj, Descriptors):
        if dim not in obj.dims:
            raise ValueError(f"{caller}: these descriptors have dims {obj.dims}, not {dim}.")
        return obj
    if isinstance(obj, Barcode):
        return describe(obj, dims=(dim,), **kwargs)
    raise TypeError(f"{caller} needs a zigzag.Barcode or Descriptors, got {type(obj).__name__}.")



