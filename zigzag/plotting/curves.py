"""Figures of descriptors: Betti curves, similarity heatmap, curves over depth, the pruning profile."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._validation import check_dims, check_option
from ..barcode import Barcode, check_barcode
from ..descriptors import CURVES, Descriptors, describe
from ..pipeline import SubsetDescriptors
from ..pruning import PrunePlan, prune_plans
from ._style import (CURVE_LABELS, CURVE_NAMES, LINE_COLORS, PLAN_SHADES, _axes, _default_dims, _descriptors,
                     _dim_color, _layer_ticks, _model_name, _title)


def plot_betti(barcode, dims=None, *, ax=None, logy: bool = False, **style):
    """Betti curves ``beta_p(l)`` over the layers, one line per dimension.

    Parameters
    ----------
    barcode : Barcode or Descriptors
    dims : int or iterable of int, optional
        Default: the dimensions with bars, none above the barcode's
        ``max_dim`` (the descriptors' dims for :class:`Descriptors`).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    logy : bool, default=False
        Log scale on the count axis (useful when beta_0 and beta_1 differ a lot).
    **style
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import zigzag
    >>> bars = zigzag.Barcode.from_arrays([0, 1, 1], [0, 0, 2], [5, 3, 5], n_layers=3)
    >>> ax = zigzag.plot_betti(bars)
    >>> [line.get_ydata().tolist() for line in ax.lines]  # beta_0, beta_1
    [[1, 1, 1], [1, 2, 1]]
    """
    if isinstance(barcode, Descriptors):
        desc = barcode
        dims = desc.dims if dims is None else check_dims(dims, "plot_betti")
    else:
        check_barcode(barcode, "plot_betti")
        dims = (_default_dims(barcode) or (0,)) if dims is None else check_dims(dims, "plot_betti")
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
    ax.set_title(_title("Betti curves (bars alive at each layer)", desc.params))
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


# ---------------------------------------------------------------- similarity heatmap
def plot_similarity(barcode, dim: int = 1, *, ax=None, normalize: bool = True, colorbar: bool = True,
                    cmap: str = "viridis", **style):
    """Heatmap of ``P_p(i, j) = S_p(i, j) / beta_p(i)``: the share of layer i's cycles alive through layer j.

    Parameters
    ----------
    barcode : Barcode or Descriptors
    dim : int, default=1
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    normalize : bool, default=True
        False shows the raw counts ``S_p(i, j)``.
    colorbar : bool, default=True
    cmap : str, default="viridis"
    **style
        Passed to ``ax.pcolormesh``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import zigzag
    >>> bars = zigzag.Barcode.from_arrays([1, 1], [0, 2], [5, 5], n_layers=3)
    >>> ax = zigzag.plot_similarity(bars, 1, colorbar=False)
    >>> ax.get_title()
    'inter-layer persistence $P_1(i, j)$'
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
    if normalize:
        label = f"$P_{dim}(i, j) = S_{dim}(i, j) / \\beta_{dim}(i)$"
        what = f"inter-layer persistence $P_{dim}(i, j)$"
    else:
        label = f"$S_{dim}(i, j)$ (bars)"
        what = f"persistence similarity $S_{dim}(i, j)$"
    ax.set_title(_title(what, desc.params))
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=label)
    return ax


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
        Where to draw; a new figure when None.
    relative : bool, default=True
        x axis in relative depth ``l / (n-1)`` (models of different depth
        line up); False for the layer index.
    **style
        Passed to ``ax.plot`` for every line.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> import zigzag
    >>> a = zigzag.Barcode.from_arrays([1, 1], [0, 2], [5, 5], n_layers=3)
    >>> b = zigzag.Barcode.from_arrays([1, 1, 1], [0, 2, 4], [9, 5, 9], n_layers=5)
    >>> ax = zigzag.plot_curves({"three layers": a, "five layers": b}, "average_similarity")
    >>> [line.get_xdata().tolist() for line in ax.lines]
    [[0.0, 0.5, 1.0], [0.0, 0.25, 0.5, 0.75, 1.0]]
    """

    check_option(curve, "curve", CURVES, caller="plot_curves")
    if not isinstance(results, Mapping):
        results = {"": results}
    ax = _axes(ax, (5.5, 3.6))
    notes, described = set(), []
    for k, (label, item) in enumerate(results.items()):
        std = None
        if isinstance(item, SubsetDescriptors):
            item, std = item.mean, item.std
        if isinstance(item, Barcode):
            item = describe(item, dims=(dim,), alpha=(1.0 if alpha is None else alpha,))
        if not isinstance(item, Descriptors):
            raise TypeError(f"plot_curves: entry {label!r} is a {type(item).__name__}; "
                            "expected a Barcode, Descriptors or SubsetDescriptors.")
        described.append(item)
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
    models = {_model_name(item.params) for item in described}
    what = f"{CURVE_NAMES[curve]} of $H_{dim}$ over {'relative depth' if relative else 'layers'}"
    title = _title(what, described[0].params) if len(models) == 1 and not any(map(str, results)) else what
    ax.set_title("\n".join([title] + ([", ".join(sorted(notes))] if notes else [])))
    if any(str(label) for label in results):
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return ax


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
        Where to draw; a new figure when None.
    **style
        Passed to ``ax.plot`` for the profile.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one shaded band per contiguous run of removed blocks, the widest
        plan at the back; a dashed line at ``q * max r`` per tolerance.

    Examples
    --------
    >>> import zigzag
    >>> bars = zigzag.Barcode.from_arrays([1, 1, 1, 1], [0, 1, 2, 4], [7, 5, 3, 7], n_layers=4)
    >>> ax = zigzag.plot_profile(bars, q=(0.9, 0.8))
    >>> [text.get_text() for text in ax.get_legend().get_texts()][:2]
    ['q=0.8: remove 2 of 3 (degenerate)', 'q=0.9: remove 1 of 3']
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
    order = sorted(range(len(plans)), key=lambda i: -plans[i].n_removed)
    for rank, i in enumerate(order):
        plan = plans[i]
        color = PLAN_SHADES[rank % len(PLAN_SHADES)]
        label = f"{plan.label}: remove {plan.n_removed} of {plan.n_blocks}"
        label += " (degenerate)" if plan.degenerate else ""  # hatched: every block, or all but one
        for n_run, (a, b) in enumerate(plan.ranges()):
            ax.axvspan(a - 0.5, b + 0.5, facecolor=color, edgecolor="#D55E00", alpha=0.35, lw=0, zorder=rank,
                       hatch="//" if plan.degenerate else None, label=label if n_run == 0 else None)
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
    ax.set_xlabel(f"layer index\n(blocks 0..{r.size - 2}; {r.size - 1} = final representation, never removed)")
    ax.set_ylabel(r"$\bar S_{%d}$" % dim)
    ax.set_title(_title("pruning profile and removed blocks", plans[0].params))
    ax.legend(fontsize="small", loc="lower center")
    ax.grid(alpha=0.3)
    return ax
