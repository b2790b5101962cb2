"""Figures of representative cycles: a loop of prompts in its layer, and the report's "Persistent loops" section."""

from __future__ import annotations

import numpy as np

from ..clouds import as_layer_clouds
from ..cycles import Cycle, cycles
from ..knn import knn_indices
from ._style import OKABE_ITO, _axes

_LABEL = 28  # characters of a prompt shown beside its point


def _snippet(text: str, width: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _projection(points: np.ndarray) -> np.ndarray:
    """2-D PCA of the rows, each axis signed so that its largest loading is positive (deterministic)."""
    centred = points - points.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2]
    axes = axes * np.sign(axes[np.arange(len(axes)), np.argmax(np.abs(axes), axis=1)])[:, None]
    out = centred @ axes.T
    return np.column_stack([out, np.zeros((len(out), 2 - out.shape[1]))])


def plot_cycle(clouds, cycle: Cycle, *, ax=None, texts=None, neighbours: bool = True, label_width: int = _LABEL,
               **style):
    """A representative cycle in its layer: its points, their kNN neighbours and its edges, in 2-D.

    The projection is the PCA of the points shown (the cycle's points and
    their neighbours) at the layer the cycle is read at. Grey lines are that
    layer's kNN edges among the points shown; the cycle's edges are drawn on
    top, each cycle point labelled with the start of its prompt (or its index).

    Parameters
    ----------
    clouds : LayerClouds or array-like of shape (n_layers, n_points, n_features)
        The clouds the cycle comes from.
    cycle : Cycle
        From :func:`zigzag.cycles`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    texts : sequence of str, optional
        One prompt per point, for the labels.
    neighbours : bool, default=True
        Also show the cycle points' k nearest neighbours at that layer.
    label_width : int, default=28
        Characters of each prompt in its label.
    **style
        Passed to the cycle's edges (a ``LineCollection``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        When ``cycle`` is not a :class:`zigzag.Cycle`.
    ValueError
        When the clouds do not match the cycle, or ``texts`` has the wrong length.

    Examples
    --------
    >>> import zigzag
    >>> clouds = zigzag.synthetic_trajectory(4, 80, 3, seed=0)
    >>> [loop] = zigzag.cycles(clouds, k=4, top=1, progress=False)
    >>> ax = plot_cycle(clouds, loop, texts=[f"prompt {i}" for i in range(80)])
    >>> len(ax.texts) == len(loop.vertices)
    True
    """
    from matplotlib.collections import LineCollection

    if not isinstance(cycle, Cycle):
        raise TypeError(f"plot_cycle needs a zigzag.Cycle (from zigzag.cycles), got {type(cycle).__name__}.")
    clouds = as_layer_clouds(clouds)
    if clouds.n_points != cycle.n_points or cycle.layer >= clouds.n_layers:
        raise ValueError(f"plot_cycle: the cycle comes from clouds of {cycle.n_points} points (read at layer "
                         f"{cycle.layer}); these have {clouds.n_points} points and {clouds.n_layers} layers.")
    labels = cycle.texts(texts) if texts is not None else [str(v) for v in cycle.vertices.tolist()]
    points = np.asarray(clouds[cycle.layer], dtype=np.float64)
    k = int(cycle.params.get("k", 5))
    metric = cycle.params.get("metric", "euclidean")
    shown = cycle.vertices
    graph = np.empty((0, 2), dtype=np.int64)
    if neighbours and len(shown) and k < clouds.n_points:
        nbrs = knn_indices(points, k, metric=metric)
        graph = np.column_stack([np.repeat(shown, k), nbrs[shown].ravel()])
        shown = np.union1d(shown, nbrs[shown].ravel())
    xy = _projection(points[shown])
    where = {int(v): i for i, v in enumerate(shown.tolist())}
    ax = _axes(ax, (6.4, 5.2))
    if len(graph):
        segments = [(xy[where[u]], xy[where[v]]) for u, v in graph.tolist()]
        ax.add_collection(LineCollection(segments, colors="0.8", linewidths=0.6, zorder=1))
    on_cycle = np.isin(shown, cycle.vertices)
    ax.scatter(xy[~on_cycle, 0], xy[~on_cycle, 1], s=10, color="0.6", zorder=2, label="kNN neighbours")
    kwargs = {"colors": OKABE_ITO["vermillion"], "linewidths": 2.0, "zorder": 3}
    kwargs.update(style)
    segments = [(xy[where[u]], xy[where[v]]) for u, v in cycle.edges.tolist() if u in where and v in where]
    ax.add_collection(LineCollection(segments, label=f"cycle edges ({len(segments)})", **kwargs))
    ax.scatter(xy[on_cycle, 0], xy[on_cycle, 1], s=28, color=OKABE_ITO["blue"], zorder=4,
               label=f"cycle points ({int(on_cycle.sum())})")
    for vertex, label in zip(cycle.vertices.tolist(), labels):
        x, y = xy[where[vertex]]
        ax.annotate(_snippet(label, label_width), (x, y), xytext=(4, 3), textcoords="offset points",
                    fontsize="x-small", zorder=5)
    ax.autoscale_view()
    ax.set_xlabel(f"PC 1 of the points shown at layer {cycle.layer}")
    ax.set_ylabel("PC 2")
    ax.set_title(f"H{cycle.dimension} bar {cycle.bar_index}: layers {cycle.birth_layer}–{cycle.death_layer - 1}, "
                 f"read at layer {cycle.layer}", fontsize="medium")
    ax.legend(fontsize="x-small", loc="best")
    return ax


def persistent_loops_section(clouds, barcode, texts, folder, *, top: int = 5, n_panels: int = 3,
                             progress: bool = False) -> list:
    """The report's "Persistent loops" section: the longest H1 bars with their prompts, and one figure.

    Reads each of the ``top`` longest H1 bars at its first layer with
    :func:`zigzag.cycles` (with the barcode's k, metric, graph and zigzag),
    draws the ``n_panels`` longest side by side into ``folder/loops.png``,
    and returns the section as markdown lines.

    Parameters
    ----------
    clouds : LayerClouds
    barcode : Barcode
        Computed from ``clouds``.
    texts : sequence of str or None
        One prompt per point.
    folder : path-like or callable
        Where the figure goes: a folder (``folder/loops.png``), or a callable
        that maps the file name to its path (a report folder's ``path``),
        called only when there is a figure to save.
    top, n_panels : int
    progress : bool, default=False

    Returns
    -------
    list of str
    """
    from pathlib import Path

    from matplotlib.figure import Figure

    from .._files import save_figure

    params = {name: barcode.params[name] for name in ("k", "metric", "graph", "zigzag") if name in barcode.params}
    found = cycles(clouds, barcode, dim=1, top=top, layer="birth", progress=progress, **params)
    lines = ["## Persistent loops", ""]
    if not found:
        return lines + ["No H1 bar lives across a layer.", ""]
    lines += [f"The {len(found)} longest H1 bars, each read at its first layer: the prompts that form a loop in "
              "that layer's kNN graph which no triangle of neighbours fills. Each loop is one representative of "
              "its bar among many (see the package's docs/cycles.md).", ""]
    for rank, cycle in enumerate(found, start=1):
        prompts = cycle.texts(texts) if texts is not None else [str(v) for v in cycle.vertices.tolist()]
        shown = " · ".join(f"`{_snippet(p, 48)}`" for p in prompts[:8])
        more = f" … (+{len(prompts) - 8} more)" if len(prompts) > 8 else ""
        lines.append(f"{rank}. **Layers {cycle.birth_layer}–{cycle.death_layer - 1}** ({cycle.persistence} layers, "
                     f"bar {cycle.bar_index}, {len(cycle.vertices)} prompts at layer {cycle.layer}): {shown}{more}")
    panels = found[:n_panels]
    fig = Figure(figsize=(5.6 * len(panels), 5.0), layout="constrained")  # no pyplot state: safe off the main thread
    for cycle, ax in zip(panels, fig.subplots(1, len(panels), squeeze=False)[0]):
        plot_cycle(clouds, cycle, ax=ax, texts=texts)
    save_figure(fig, folder("loops.png") if callable(folder) else Path(folder) / "loops.png", dpi=110)
    return lines + ["", f"**The {len(panels)} longest loops in their layers (PCA of the loop's prompts and their "
                        "neighbours)**", "", "![persistent loops](loops.png)", ""]
