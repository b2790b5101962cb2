"""Figures of zigzag persistence (matplotlib).

Every ``plot_<thing>(..., ax=None, **style)`` draws only on ``ax`` (a new
figure when None), returns the :class:`~matplotlib.figure.Figure`, and never
calls ``plt.show``, ``savefig`` or ``plt.style.use``. Layers are 0-based and
the axes say so. Colours come from the Okabe–Ito palette (colour-blind safe);
``**style`` goes to the main artist (``scatter``, ``plot``, ``pcolormesh``).

Functions
---------
plot_diagram      birth layer vs death layer, per dimension, size = multiplicity
plot_barcode      one horizontal segment per bar
plot_histogram    birth × persistence (or birth × death) histogram, log counts
plot_betti        Betti curves per layer
plot_similarity   heatmap of S_p(i, j) / beta_p(i)
plot_curves       S̄ / ILP / BRF / ... over relative depth, several models on one axes
plot_profile      the pruning profile r(l) with the removed blocks shaded per q
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .barcode import Barcode
from .descriptors import CURVES, Descriptors, SubsetDescriptors, _check_dims, describe
from .pruning import PrunePlan, prune_plans
from ._validation import check_barcode, check_option

__all__ = [
    "OKABE_ITO",
    "plot_diagram",
    "plot_barcode",
    "plot_histogram",
    "plot_betti",
    "plot_similarity",
    "plot_curves",
    "plot_profile",
]

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


# ---------------------------------------------------------------- persistence diagram
def plot_diagram(barcode, dims=None, *, ax=None, jitter: float = 0.12, **style):
    """Persistence diagram in layer units: birth layer vs death layer.

    One marker per distinct (dimension, birth layer, death layer), its area
    growing with the logarithm of the number of bars there; one colour per
    dimension, dimensions side by side (shifted by ``jitter`` layers). Bars
    still alive at the last layer (death layer n) sit on a separate "alive at
    the end" line above the plot. Layer-level bars only.

    Parameters
    ----------
    barcode : Barcode
    dims : int or iterable of int, optional
        Homology dimensions; default all with bars.
    ax : matplotlib Axes, optional
    jitter : float, default=0.12
        Horizontal shift between dimensions, in layers (0 to overlay them).
    **style
        Passed to ``ax.scatter``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_barcode(barcode, "plot_diagram")
    dims = barcode.dims if dims is None else _check_dims(dims, "plot_diagram")
    ax = _axes(ax, (5.0, 4.6))
    n = barcode.n_layers
    end_y = n + 1.5
    selected = [barcode.select(p, layer_level=True) for p in dims]
    # the dimension with the most bars goes at the back, so the rarer ones stay visible
    back_to_front = np.argsort([-len(bars) for bars in selected], kind="stable")
    for z, k in enumerate(back_to_front):
        p, bars = dims[k], selected[k]
        if not len(bars):
            continue
        pairs, counts = np.unique(np.column_stack([bars.birth_layer, bars.death_layer]), axis=0, return_counts=True)
        x = pairs[:, 0] + (k - (len(dims) - 1) / 2) * jitter
        y = np.where(pairs[:, 1] == n, end_y, pairs[:, 1]).astype(float)
        kwargs = {"s": 4 + 6 * np.log2(counts), "color": _dim_color(p), "alpha": 0.8, "linewidths": 0,
                  "label": f"$H_{p}$ ({len(bars):,} bars)", "zorder": 2 + z}
        kwargs.update(style)
        ax.scatter(x, y, **kwargs)
    ax.plot([-0.5, n - 0.5], [-0.5, n - 0.5], color="0.6", lw=0.8, zorder=0)
    ax.axhline(n + 0.5, color="0.4", lw=0.8, ls="--", zorder=0)
    ax.set_xlim(-0.7, n - 0.3)
    ax.set_ylim(0, end_y + 1.0)
    step = max(1, int(np.ceil((n - 1) / 8)))
    ticks = list(range(1, n, step))
    ax.set_yticks(ticks + [end_y])
    ax.set_yticklabels([str(t) for t in ticks] + ["alive at\nthe end"])
    _layer_ticks(ax.xaxis, n)
    ax.set_xlabel("birth layer (layer index)")
    ax.set_ylabel("death layer (first layer without the bar)")
    ax.set_title(f"Persistence diagram ({n} layers)")
    if ax.collections:
        handles, labels = ax.get_legend_handles_labels()
        order = np.argsort([int(label.split("_")[1].split("$")[0]) for label in labels])
        legend = ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower right",
                           fontsize="small", title="marker area ~ log(count)", title_fontsize="x-small")
        for handle in legend.legend_handles:
            handle.set_sizes([30])
    return ax.figure


# ---------------------------------------------------------------- barcode
def plot_barcode(barcode, dim: int = 1, *, ax=None, max_bars: int | None = 500, **style):
    """Barcode view: one horizontal segment per layer-level bar, from birth to death layer.

    Bars are sorted by birth layer, then by death layer. With more than
    ``max_bars`` bars only the longest ``max_bars`` are drawn (the title says so).

    Parameters
    ----------
    barcode : Barcode
    dim : int, default=1
    ax : matplotlib Axes, optional
    max_bars : int or None, default=500
        None draws all bars.
    **style
        Passed to the ``LineCollection``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.collections import LineCollection

    check_barcode(barcode, "plot_barcode")
    ax = _axes(ax, (5.5, 4.0))
    bars = barcode.select(dim, layer_level=True)
    birth, death = bars.birth_layer, bars.death_layer
    total = len(bars)
    if max_bars is not None and total > max_bars:
        keep = np.argsort(-(death - birth), kind="stable")[:max_bars]
        birth, death = birth[keep], death[keep]
    order = np.lexsort((death, birth))
    birth, death = birth[order], death[order]
    rows = np.arange(len(birth))
    # a bar alive in layers b..d-1 spans [b - 0.5, d - 0.5] on the layer axis
    segments = np.stack([np.column_stack([birth - 0.5, rows]), np.column_stack([death - 0.5, rows])], axis=1)
    kwargs = {"colors": _dim_color(dim), "linewidths": 1.0 if len(rows) < 300 else 0.4}
    kwargs.update(style)
    ax.add_collection(LineCollection(segments, **kwargs))
    n = barcode.n_layers
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(-1, max(len(rows), 1))
    _layer_ticks(ax.xaxis, n)
    ax.set_xlabel("layer index")
    ax.set_ylabel("bar (sorted by birth layer)")
    shown = f"longest {len(rows):,} of {total:,}" if len(rows) < total else f"{total:,}"
    ax.set_title(f"$H_{dim}$ barcode ({shown} bars)")
    return ax.figure


# ---------------------------------------------------------------- histogram
def plot_histogram(barcode, dim: int = 1, *, view: str = "persistence", ax=None, colorbar: bool = True,
                   cmap: str = "viridis", **style):
    """Birth × persistence histogram of ``H_p`` with log10 counts (the paper's Fig. 2).

    Parameters
    ----------
    barcode : Barcode or Descriptors
    dim : int, default=1
    view : {"persistence", "death"}, default="persistence"
        y axis: persistence ``d - b`` in layers, or the death layer d.
    ax : matplotlib Axes, optional
    colorbar : bool, default=True
    cmap : str, default="viridis"
        A perceptually uniform, colour-blind-safe map.
    **style
        Passed to ``ax.pcolormesh``.

    Returns
    -------
    matplotlib.figure.Figure
        Empty cells are left blank.
    """
    from matplotlib.colors import LogNorm


    view = check_option(view, "view", ("persistence", "death"), caller="plot_histogram")
    desc = _descriptors(barcode, dim, "plot_histogram")
    hist = desc.birth_persistence(dim) if view == "persistence" else np.asarray(desc.histogram[dim])
    n = desc.n_layers
    ax = _axes(ax, (5.5, 4.2))
    counts = np.ma.masked_less_equal(hist.T.astype(float), 0)  # rows: persistence (or death), columns: birth
    x_edges = np.arange(n + 1) - 0.5
    y_edges = np.arange(n + 2) - 0.5
    kwargs = {"cmap": cmap}
    if counts.count():
        kwargs["norm"] = LogNorm(vmin=1, vmax=max(float(counts.max()), 10.0))
    kwargs.update(style)
    mesh = ax.pcolormesh(x_edges, y_edges, counts, **kwargs)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(0.5, n + 0.5)
    _layer_ticks(ax.xaxis, n)
    _layer_ticks(ax.yaxis, n)
    ax.set_xlabel("birth layer (layer index)")
    ax.set_ylabel("persistence (layers)" if view == "persistence" else "death layer (layer index)")
    ax.set_title(f"$H_{dim}$ bars: birth × {view}")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label="number of bars (log scale)")
    return ax.figure


def _descriptors(obj, dim, caller, **kwargs) -> Descriptors:
    if isinstance(obj, Descriptors):
        if dim not in obj.dims:
            raise ValueError(f"{caller}: these descriptors have dims {obj.dims}, not {dim}.")
        return obj
    if isinstance(obj, Barcode):
        return describe(obj, dims=(dim,), **kwargs)
    raise TypeError(f"{caller} needs a zigzag.Barcode or Descriptors, got {type(obj).__name__}.")


# ---------------------------------------------------------------- Betti curves
def plot_betti(barcode, dims=None, *, ax=None, logy: bool = False, **style):
    """Betti curves ``beta_p(l)`` over the layers, one line per dimension.

    Parameters
    ----------
    barcode : Barcode or Descriptors
    dims : int or iterable of int, optional
        Default: the barcode's dimensions (the descriptors' dims).
    ax : matplotlib Axes, optional
    logy : bool, default=False
        Log scale on the count axis (useful when beta_0 and beta_1 differ a lot).
    **style
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(barcode, Descriptors):
        desc = barcode
        dims = desc.dims if dims is None else _check_dims(dims, "plot_betti")
    else:
        check_barcode(barcode, "plot_betti")
        dims = (barcode.dims or (0,)) if dims is None else _check_dims(dims, "plot_betti")
        desc = describe(barcode, dims=dims)
    ax = _axes(ax, (5.5, 3.6))
    layers = np.arange(desc.n_layers)
    for p in dims:
        kwargs = {"color": _dim_color(p), "marker": "o", "ms": 3, "lw": 1.5, "label": f"$\\beta_{p}$"}
        kwargs.update(style)
        ax.plot(layers, desc.betti[p], **kwargs)
    if logy:
        ax.set_yscale("log")
    ax.set_xlim(-0.5, desc.n_layers - 0.5)
    _layer_ticks(ax.xaxis, desc.n_layers)
    ax.set_xlabel("layer index")
    ax.set_ylabel("Betti number (layer-level bars)")
    ax.set_title("Betti curves")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax.figure


# ---------------------------------------------------------------- similarity heatmap
def plot_similarity(barcode, dim: int = 1, *, ax=None, normalize: bool = True, colorbar: bool = True,
                    cmap: str = "viridis", **style):
    """Heatmap of ``S_p(i, j) / beta_p(i)`` (row i: share of layer i's cycles alive through layer j).

    Parameters
    ----------
    barcode : Barcode or Descriptors
    dim : int, default=1
    ax : matplotlib Axes, optional
    normalize : bool, default=True
        False shows the raw counts ``S_p(i, j)``.
    colorbar : bool, default=True
    cmap : str, default="viridis"
    **style
        Passed to ``ax.pcolormesh``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    desc = _descriptors(barcode, dim, "plot_similarity")
    values = desc.persistence_matrix(dim) if normalize else np.asarray(desc.similarity[dim], dtype=float)
    n = desc.n_layers
    ax = _axes(ax, (5.0, 4.3))
    edges = np.arange(n + 1) - 0.5
    kwargs = {"cmap": cmap}
    if normalize:
        kwargs.update(vmin=0.0, vmax=1.0)
    kwargs.update(style)
    mesh = ax.pcolormesh(edges, edges, values, **kwargs)
    ax.set_aspect("equal")
    _layer_ticks(ax.xaxis, n)
    _layer_ticks(ax.yaxis, n)
    ax.set_xlabel("layer j (layer index)")
    ax.set_ylabel("layer i (layer index)")
    label = f"$S_{dim}(i, j) / \\beta_{dim}(i)$" if normalize else f"$S_{dim}(i, j)$ (bars)"
    ax.set_title(f"Persistence similarity {label}")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=label)
    return ax.figure


# ---------------------------------------------------------------- curves over relative depth
def plot_curves(results, curve: str = "average_similarity", dim: int = 1, *, alpha: float | None = None,
                ax=None, relative: bool = True, **style):
    """A descriptor curve for several models (or k, or datasets) on one axes.

    Parameters
    ----------
    results : Barcode, Descriptors, SubsetDescriptors, or a mapping label -> one of them
        A :class:`SubsetDescriptors` is drawn as its mean with a ±1 std band.
    curve : str, default="average_similarity"
        One of ``"betti"``, ``"average_similarity"``, ``"ilp"``, ``"brf"``,
        ``"correlation_length"``, ``"correlation_length_left"``.
    dim : int, default=1
    alpha : float, optional
        For ``ilp``/``brf``: the exponent (barcodes are described with it;
        default 1.0 for barcodes, the first one for descriptors).
    ax : matplotlib Axes, optional
    relative : bool, default=True
        x axis in relative depth ``l / (n-1)`` (models of different depth
        line up); False for the layer index.
    **style
        Passed to ``ax.plot`` for every line.

    Returns
    -------
    matplotlib.figure.Figure
    """

    check_option(curve, "curve", CURVES, caller="plot_curves")
    if not isinstance(results, Mapping):
        results = {"": results}
    ax = _axes(ax, (5.5, 3.6))
    notes = set()
    for k, (label, item) in enumerate(results.items()):
        std = None
        if isinstance(item, SubsetDescriptors):
            item, std = item.mean, item.std
        if isinstance(item, Barcode):
            item = describe(item, dims=(dim,), alpha=(1.0 if alpha is None else alpha,))
        if not isinstance(item, Descriptors):
            raise TypeError(f"plot_curves: entry {label!r} is a {type(item).__name__}; "
                            "expected a Barcode, Descriptors or SubsetDescriptors.")
        if curve == "brf":
            notes.add("at birth layer" if item.brf_index == "birth" else "at last layer alive")
        if curve.startswith("correlation_length"):
            notes.add(f"threshold q = {item.threshold:g}")
        if curve in ("ilp", "brf"):
            notes.add(f"$\\alpha$ = {item.alpha[0] if alpha is None else alpha:g}")
        x = item.relative_depth if relative else np.arange(item.n_layers)
        y = np.asarray(item.curve(curve, dim, alpha), dtype=float)
        color = LINE_COLORS[k % len(LINE_COLORS)]
        kwargs = {"color": color, "lw": 1.6, "marker": "o", "ms": 2.5, "label": str(label) or None}
        kwargs.update(style)
        ax.plot(x, y, **kwargs)
        if std is not None:
            s = np.asarray(std.curve(curve, dim, alpha), dtype=float)
            ax.fill_between(x, y - s, y + s, color=color, alpha=0.2, linewidth=0)
    ax.set_xlabel("relative depth (layer index / (n - 1))" if relative else "layer index")
    if not relative:
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(CURVE_LABELS[curve].replace("{P", "{" + str(dim)))
    ax.set_title(", ".join([f"$H_{dim}$"] + sorted(notes)))
    if any(str(label) for label in results):
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax.figure


# ---------------------------------------------------------------- pruning profile
def plot_profile(source, q=(0.9, 0.8), *, blocks=(), dim: int = 1, ax=None, **style):
    """The pruning profile ``r(l) = S̄_p(l)`` with each plan's removed blocks shaded.

    Parameters
    ----------
    source : Barcode or sequence of PrunePlan
        A barcode (plans are made with :func:`zigzag.pruning.prune_plans`
        for ``q`` and ``blocks``) or ready plans that share one profile.
    q : float or iterable of float, default=(0.9, 0.8)
        Tolerances (ignored when plans are given).
    blocks : int or iterable of int, default=()
        Exact block counts (ignored when plans are given).
    dim : int, default=1
    ax : matplotlib Axes, optional
    **style
        Passed to ``ax.plot`` for the profile.

    Returns
    -------
    matplotlib.figure.Figure
        One shaded band per contiguous run of removed blocks, the widest
        plan at the back; a dashed line at ``q * max r`` per tolerance.
    """
    if isinstance(source, Barcode):
        plans = prune_plans(source, q=q, blocks=blocks, dim=dim)
        if not plans:
            raise ValueError("plot_profile needs at least one tolerance q (e.g. q=0.9) or block count (blocks=8).")
    elif isinstance(source, PrunePlan):
        plans = [source]
    else:
        plans = list(source)
        if not plans or not all(isinstance(p, PrunePlan) for p in plans):
            raise TypeError("plot_profile needs a zigzag.Barcode or a non-empty sequence of PrunePlan.")
    r = np.asarray(plans[0].scores, dtype=float)
    ax = _axes(ax, (6.0, 3.6))
    layers = np.arange(r.size)
    # nested plans: the widest at the back in the lightest shade, narrower ones darker on top
    shade = ("#56B4E9", "#0072B2", "#009E73", "#CC79A7", "#E69F00")
    order = sorted(range(len(plans)), key=lambda i: -plans[i].n_removed)
    for rank, i in enumerate(order):
        plan = plans[i]
        color = shade[rank % len(shade)]
        for n_run, (a, b) in enumerate(plan.ranges()):
            ax.axvspan(a - 0.5, b + 0.5, color=color, alpha=0.35, lw=0, zorder=rank,
                       label=f"{plan.label}: remove {plan.n_removed} of {plan.n_blocks}" if n_run == 0 else None)
        if plan.q is not None:
            ax.axhline(plan.q * np.nanmax(r), color=color, ls="--", lw=1, zorder=len(plans) + 1)
    kwargs = {"color": "#000000", "lw": 1.6, "marker": "o", "ms": 3, "label": r"$r(\ell) = \bar S_{%d}(\ell)$" % dim}
    kwargs.update(style)
    ax.plot(layers, r, zorder=len(plans) + 2, **kwargs)
    peak = int(np.nanargmax(r))
    ax.annotate(f"peak: layer {peak}", (peak, r[peak]), xytext=(0, 8), textcoords="offset points",
                ha="center", fontsize="small")
    ax.set_xlim(-0.5, r.size - 0.5)
    ax.set_ylim(0, np.nanmax(r) * 1.15 if np.nanmax(r) > 0 else 1)
    _layer_ticks(ax.xaxis, r.size)
    ax.set_xlabel(f"layer index (block 0..{r.size - 2}; {r.size - 1} = final representation, never removed)")
    ax.set_ylabel(r"$\bar S_{%d}$" % dim)
    ax.set_title("Pruning profile and removed blocks")
    ax.legend(fontsize="small", loc="lower center")
    ax.grid(alpha=0.3)
    return ax.figure
