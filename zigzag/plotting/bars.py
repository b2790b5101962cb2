"""Figures of the bars themselves: persistence diagram, barcode, birth × persistence histogram."""

from __future__ import annotations

import numpy as np

from .._validation import check_dims, check_option
from ..barcode import check_barcode
from ._style import _axes, _bars, _default_dims, _descriptors, _dim_color, _layer_ticks, _title


# ---------------------------------------------------------------- persistence diagram
def plot_diagram(barcode, dims=None, *, ax=None, jitter: float = 0.12, **style):
    """Persistence diagram in layer units: birth layer vs death layer.

    One marker per distinct (dimension, birth layer, death layer), its area
    growing with the logarithm of the number of bars there; one colour per
    dimension, dimensions side by side (shifted by ``jitter`` layers). Bars
    still alive at the last layer (death layer n) sit on a separate "alive at
    the end" line above the plot.

    Only layer-level bars are drawn: a bar that lives only inside one link
    step (an intersection, ``birth_layer == death_layer``) has no extent in
    layer units. The legend gives, per dimension, how many bars are drawn
    and how many the barcode holds.

    Parameters
    ----------
    barcode : Barcode
    dims : int or iterable of int, optional
        Homology dimensions. Default: those with bars, none above the
        barcode's ``max_dim`` (``params["max_dim"]``), whose bars would be
        artefacts of the truncated complexes.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    jitter : float, default=0.12
        Horizontal shift between dimensions, in layers (0 to overlay them).
    **style
        Passed to ``ax.scatter``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import zigzag
    >>> bars = zigzag.Barcode.from_arrays([0, 1, 1], [0, 0, 1], [5, 3, 2], n_layers=3)
    >>> ax = zigzag.plot_diagram(bars)  # the H1 bar on steps [1, 2) lives inside one intersection
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['$H_0$: 1 bar', '$H_1$: 1 of 2 bars']
    """
    check_barcode(barcode, "plot_diagram")
    dims = _default_dims(barcode) if dims is None else check_dims(dims, "plot_diagram")
    ax = _axes(ax, (5.0, 4.6))
    n = barcode.n_layers
    end_y = n + 1.5
    selected = [barcode.select(p, layer_level=True) for p in dims]
    hidden = 0
    # the dimension with the most bars goes at the back, so the rarer ones stay visible
    back_to_front = np.argsort([-len(bars) for bars in selected], kind="stable")
    for z, k in enumerate(back_to_front):
        p, bars = dims[k], selected[k]
        total = int(np.sum(barcode.dimension == p))
        hidden += total - len(bars)
        if not len(bars):
            continue
        pairs, counts = np.unique(np.column_stack([bars.birth_layer, bars.death_layer]), axis=0, return_counts=True)
        x = pairs[:, 0] + (k - (len(dims) - 1) / 2) * jitter
        y = np.where(pairs[:, 1] == n, end_y, pairs[:, 1]).astype(float)
        label = f"$H_{p}$: {_bars(len(bars))}" if total == len(bars) else f"$H_{p}$: {len(bars):,} of {_bars(total)}"
        kwargs = {"s": 4 + 6 * np.log2(counts), "color": _dim_color(p), "alpha": 0.8, "linewidths": 0,
                  "label": label, "zorder": 2 + z}
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
    ax.set_title(_title(f"persistence diagram in layers ({n} layers)", barcode.params))
    if ax.collections:
        handles, labels = ax.get_legend_handles_labels()
        order = np.argsort([int(label.split("_")[1].split("$")[0]) for label in labels])
        note = "marker area ~ log(count)"
        if hidden:
            note += f"\nnot drawn: {_bars(hidden)} inside\none link step (no layer extent)"
        legend = ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="lower right",
                           fontsize="small", title=note, title_fontsize="x-small")
        for handle in legend.legend_handles:
            handle.set_sizes([30])
    return ax


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
        Where to draw; a new figure when None.
    max_bars : int or None, default=500
        None draws all bars.
    **style
        Passed to the ``LineCollection``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import zigzag
    >>> bars = zigzag.Barcode.from_arrays([1, 1], [0, 2], [5, 3], n_layers=3)
    >>> zigzag.plot_barcode(bars, 1).get_title()
    '$H_1$ barcode (2 bars)'
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
    shown = f"longest {len(rows):,} of {_bars(total)}" if len(rows) < total else _bars(total)
    ax.set_title(_title(f"$H_{dim}$ barcode ({shown})", barcode.params))
    return ax


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
        Where to draw; a new figure when None.
    colorbar : bool, default=True
        Add a colour bar beside ``ax`` (taking room from it).
    cmap : str, default="viridis"
        A perceptually uniform, colour-blind-safe map.
    **style
        Passed to ``ax.pcolormesh``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; empty cells are left blank.

    Examples
    --------
    >>> import zigzag
    >>> bars = zigzag.Barcode.from_arrays([1, 1], [0, 2], [5, 3], n_layers=3)
    >>> zigzag.plot_histogram(bars, 1, colorbar=False).get_ylabel()
    'persistence (layers)'
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
    ax.set_title(_title(f"$H_{dim}$ bars: birth × {view}", desc.params))
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label="number of bars (log scale)")
    return ax
