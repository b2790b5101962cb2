"""Figures of zigzag persistence (matplotlib).

Every ``plot_<thing>(..., ax=None, **style)`` draws only on ``ax`` (a new
figure when None), returns that :class:`~matplotlib.axes.Axes` (as matplotlib
itself, scikit-learn's displays and persim do; the figure is ``ax.figure``),
and never calls ``plt.show``, ``savefig`` or ``plt.style.use``. Layers are
0-based and the axes say so; titles name the model when the barcode's
parameters know it. Colours come from the Okabe–Ito palette (colour-blind
safe); ``**style`` goes to the main artist (``scatter``, ``plot``,
``pcolormesh``). :func:`save_figure` writes a figure atomically.

Functions
---------
plot_diagram      birth layer vs death layer, per dimension, size = multiplicity
plot_barcode      one horizontal segment per bar
plot_histogram    birth × persistence (or birth × death) histogram, log counts
plot_betti        Betti curves per layer
plot_similarity   heatmap of S_p(i, j) / beta_p(i)
plot_curves       S̄ / ILP / BRF / ... over relative depth, several models on one axes
plot_profile      the pruning profile r(l) with the removed blocks shaded per q
plot_cycle        a representative cycle in its layer, with its points' neighbours
save_figure       write ``ax.figure`` (or any figure) to .png/.pdf/.svg atomically
"""

from .._files import save_figure
from ._style import CURVE_LABELS, DIM_COLORS, LINE_COLORS, OKABE_ITO
from .bars import plot_barcode, plot_diagram, plot_histogram
from .curves import plot_betti, plot_curves, plot_profile, plot_similarity
from .cycles import persistent_loops_section, plot_cycle

__all__ = [
    "CURVE_LABELS",
    "DIM_COLORS",
    "LINE_COLORS",
    "OKABE_ITO",
    "plot_diagram",
    "plot_barcode",
    "plot_histogram",
    "plot_betti",
    "plot_similarity",
    "plot_curves",
    "plot_profile",
    "plot_cycle",
    "persistent_loops_section",
    "save_figure",
]
