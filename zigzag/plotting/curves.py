"""Figures of descriptors: Betti curves, similarity heatmap, curves over depth, the pruning profile."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..barcode import Barcode
from ..descriptors import CURVES, Descriptors, describe
from .._validation import check_dims
from ..pipeline import SubsetDescriptors
from ..pruning import PrunePlan, prune_plans
from .._validation import check_barcode, check_option
from ._style import _descriptors, CURVE_LABELS, LINE_COLORS, _axes, _dim_color, _layer_ticks


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
        dims = desc.dims if dims is None else check_dims(dims, "plot_betti")
    else:
        check_barcode(barcode, "plot_betti")
        dims = (barcode.dims or (0,)) if dims is None else check_dims(dims, "plot_betti")
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
    ax.set_xlabel(f"layer index (block 0..{r.size - 2}; {r.size - 1} = final representation, never removed)")
    ax.set_ylabel(r"$\bar S_{%d}$" % dim)
    ax.set_title("Pruning profile and removed blocks")
    ax.legend(fontsize="small", loc="lower center")
    ax.grid(alpha=0.3)
    return ax.figure
