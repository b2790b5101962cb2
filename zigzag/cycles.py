"""Which prompts form each persistent feature: representative cycles of the longest bars.

A bar of the zigzag barcode is a homology class that lives from one layer to
another. :func:`cycles` reads a representative of it at one layer inside its
life: for H1, a loop in that layer's kNN graph whose edges join prompts that
are neighbours there, and which no set of triangles (3-cliques) of that graph
fills in. Representatives are apex representatives of the Dey–Hou cone (see
:mod:`zigzag.representatives`); a bar has many representatives, this is one
of them (docs/cycles.md says what that means and what it does not).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ._frozen import FrozenRecord
from ._validation import check_int, check_option
from .barcode import check_barcode
from .clouds import as_layer_clouds
from .engines import ENGINES, interval_types, zigzag_bars
from .filtration import ZIGZAGS, zigzag_schedule
from .knn import GRAPHS, METRICS
from .pipeline import layer_complexes
from .representatives import bar_representatives

__all__ = ["Cycle", "cycles", "LAYER_CHOICES"]

log = logging.getLogger(__name__)

#: where a cycle is read when ``layer`` is not a layer index
LAYER_CHOICES = ("birth", "middle")
_SAME_AS_BARCODE = ("k", "metric", "graph", "zigzag")


@dataclass(frozen=True, eq=False)
class Cycle(FrozenRecord):
    """A representative of one bar, read at one layer.

    Attributes
    ----------
    dimension : int
        Homology dimension p of the bar.
    birth_step, death_step : int
        The bar's steps (alive on ``birth_step <= t < death_step``).
    interval_type : str
        ``"co"``, ``"cc"``, ``"oc"`` or ``"oo"``: closed or open at birth and death.
    layer : int
        The 0-based layer the cycle is read at, inside the bar's life.
    vertices : ndarray of int of shape (n_vertices,)
        Sorted point (prompt) indices. For H0 the whole connected component(s)
        of that layer's kNN graph the class stands for.
    edges : ndarray of int of shape (n_edges, 2)
        For H1 the cycle's edges (rows ``u < v``, sorted), each an edge of
        that layer's kNN graph; for H0 the graph's edges inside the component(s).
    simplices : ndarray of int of shape (n_simplices, dimension + 1)
        The representative chain itself (mod 2): edges for H1, vertices for H0.
    bar_index : int
        Row of the bar in the barcode (``zigzag.compute`` with the same
        parameters, or the barcode passed to :func:`cycles`).
    n_points : int
    params : mapping
        k, metric, graph, zigzag and the clouds' provenance.
    """

    dimension: int
    birth_step: int
    death_step: int
    interval_type: str
    layer: int
    vertices: np.ndarray
    edges: np.ndarray
    simplices: np.ndarray
    bar_index: int
    n_points: int
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        for name in ("vertices", "edges", "simplices"):
            getattr(self, name).setflags(write=False)

    @property
    def birth_layer(self) -> int:
        """First layer where the bar is alive."""
        return (self.birth_step + 1) // 2

    @property
    def death_layer(self) -> int:
        """First layer where the bar is dead again (n_layers if alive at the end)."""
        return (self.death_step + 1) // 2

    @property
    def persistence(self) -> int:
        """Number of layers the bar lives."""
        return self.death_layer - self.birth_layer

    def __repr__(self) -> str:
        return (f"Cycle(H{self.dimension} bar {self.bar_index}, layers {self.birth_layer}..{self.death_layer - 1}, "
                f"read at layer {self.layer}: {len(self.vertices)} points, {len(self.edges)} edges)")

    def texts(self, texts) -> list:
        """The prompts of the cycle's vertices, in vertex order.

        Raises
        ------
        ValueError
            When ``texts`` does not hold one string per point.
        """
        texts = list(texts)
        if len(texts) != self.n_points:
            raise ValueError(f"Cycle.texts needs one text per point ({self.n_points}); got {len(texts)}. "
                             "Pass the texts the clouds were extracted from, in the same order.")
        return [str(texts[i]) for i in self.vertices.tolist()]

    def to_dict(self, texts=None) -> dict:
        """JSON-ready dict (with the prompts under ``texts`` when given)."""
        out = {
            "dimension": self.dimension, "birth_step": self.birth_step, "death_step": self.death_step,
            "birth_layer": self.birth_layer, "death_layer": self.death_layer, "interval_type": self.interval_type,
            "layer": self.layer, "bar_index": self.bar_index, "vertices": self.vertices.tolist(),
            "edges": self.edges.tolist(),
        }
        if texts is not None:
            out["texts"] = self.texts(texts)
        return out


def _check_layer(layer, n_layers: int):
    if isinstance(layer, str):
        return check_option(layer, "layer", LAYER_CHOICES, caller="cycles")
    layer = check_int(layer.item() if isinstance(layer, np.generic) else layer, "layer", minimum=0, caller="cycles")
    if layer >= n_layers:
        raise ValueError(f"The 'layer' parameter of cycles must be a layer index in 0..{n_layers - 1}, "
                         f"'birth' or 'middle'. Got {layer} instead.")
    return layer


def _check_against_barcode(barcode, clouds, given: dict, dim: int):
    """The barcode must come from these clouds with these parameters."""
    check_barcode(barcode, "cycles")
    if barcode.n_layers != clouds.n_layers:
        raise ValueError(f"The barcode covers {barcode.n_layers} layers but the clouds have {clouds.n_layers}; "
                         "pass the barcode computed from these clouds.")
    stored = dict(barcode.params)
    if "n_points" in stored and int(stored["n_points"]) != clouds.n_points:
        raise ValueError(f"The barcode was computed on {stored['n_points']} points but the clouds have "
                         f"{clouds.n_points}; pass the barcode computed from these clouds.")
    for name in _SAME_AS_BARCODE:
        if name in stored and stored[name] != given[name]:
            raise ValueError(f"The barcode was computed with {name}={stored[name]!r} but cycles got "
                             f"{name}={given[name]!r}; pass {name}={stored[name]!r}.")
    if "max_dim" in stored and int(stored["max_dim"]) < dim:
        raise ValueError(f"The barcode holds dimensions up to {stored['max_dim']}, not {dim}; compute it with "
                         f"max_dim >= {dim}.")


def _select(dimension, birth, death, dim: int, layer, top):
    """Rows of the bars to read, longest first, and the layer to read each at."""
    birth_layer, death_layer = (birth + 1) // 2, (death + 1) // 2
    mask = (dimension == dim) & (birth_layer < death_layer)
    if not isinstance(layer, str):
        mask &= (birth_layer <= layer) & (layer < death_layer)
    rows = np.flatnonzero(mask)
    order = np.lexsort((rows, birth[rows], -(death[rows] - birth[rows]), -(death_layer[rows] - birth_layer[rows])))
    rows = rows[order][:top]
    if layer == "birth":
        at = birth_layer[rows]
    elif layer == "middle":
        at = (birth_layer[rows] + death_layer[rows] - 1) // 2
    else:
        at = np.full(len(rows), layer)
    return rows, at


def cycles(clouds, barcode=None, *, k: int = 5, dim: int = 1, top: int | None = 10, layer="birth",
           metric: str = "euclidean", graph: str = "union", zigzag: str = "intersection", engine: str = "fast",
           progress: bool = True) -> list:
    """Representative cycles of the longest bars: which prompts form each persistent feature.

    Parameters
    ----------
    clouds : LayerClouds or array-like of shape (n_layers, n_points, n_features)
        The layer clouds the bars come from.
    barcode : Barcode, optional
        Bars already computed from these clouds (with the same k, metric,
        graph and zigzag); computed here when None, exactly as
        :func:`zigzag.compute` does.
    k : int, default=5
        Neighbours per point, as in :func:`zigzag.compute`.
    dim : int, default=1
        Homology dimension of the bars: 1 for loops, 0 for components.
    top : int or None, default=10
        How many bars, longest first (in layers, then in steps; ties by
        birth); None for all of them. Only layer-level bars count.
    layer : {"birth", "middle"} or int, default="birth"
        Where to read each cycle: the bar's first layer, the middle of its
        life, or this layer index (then only the bars alive there).
    metric, graph, zigzag, engine
        As in :func:`zigzag.compute`.
    progress : bool, default=True
        Show progress bars on stderr.

    Returns
    -------
    list of Cycle
        Longest bar first. Each cycle is one representative of its bar; bars
        with the same life get different cycles.

    Raises
    ------
    ValueError
        Invalid clouds or options, a layer outside 0..n_layers-1, or a
        barcode that does not come from these clouds and parameters.

    Examples
    --------
    >>> from zigzag.datasets import synthetic_trajectory
    >>> loops = cycles(synthetic_trajectory(4, 60, 3, seed=0), k=4, top=2, progress=False)
    >>> [c.dimension for c in loops]
    [1, 1]
    """
    clouds = as_layer_clouds(clouds)
    k = check_int(k, "k", minimum=1, caller="cycles")
    dim = check_int(dim, "dim", minimum=0, caller="cycles")
    if top is not None:
        top = check_int(top, "top", minimum=1, caller="cycles")
    layer = _check_layer(layer, clouds.n_layers)
    given = {"k": k, "metric": check_option(metric, "metric", METRICS, caller="cycles"),
             "graph": check_option(graph, "graph", GRAPHS, caller="cycles"),
             "zigzag": check_option(zigzag, "zigzag", ZIGZAGS, caller="cycles")}
    check_option(engine, "engine", ENGINES, caller="cycles")
    if k >= clouds.n_points:
        raise ValueError(f"The 'k' parameter of cycles must be smaller than the number of points "
                         f"({clouds.n_points}); got k={k}.")
    if barcode is not None:
        _check_against_barcode(barcode, clouds, given, dim)
    complexes = layer_complexes(clouds, k=k, max_dim=dim, metric=metric, graph=graph, progress=progress)
    schedule = zigzag_schedule(complexes, kind=zigzag)
    if barcode is None:
        bars = zigzag_bars(schedule, max_dim=dim, engine=engine)
        dimension, birth, death = bars["dimension"], bars["birth_step"], bars["death_step"]
    else:
        dimension, birth, death = barcode.dimension, barcode.birth_step, barcode.death_step
    rows, at = _select(dimension, birth, death, dim, layer, top)
    log.info("reading %d H%d bars at their %s", len(rows), dim, layer if isinstance(layer, str) else f"layer {layer}")
    chains = bar_representatives(schedule, dimension[rows], birth[rows], death[rows], [[2 * a] for a in at],
                                 progress=progress)
    kinds = interval_types(birth[rows], death[rows], n_layers=clouds.n_layers, kind=zigzag)
    params = {**given, "dim": dim, "n_layers": clouds.n_layers, "layer_names": list(clouds.names),
              "clouds": dict(clouds.meta)}
    out = []
    for row, ell, kind, (chain,) in zip(rows.tolist(), at.tolist(), kinds.tolist(), chains):
        vertices, edges = _support(chain, dim, complexes[ell].edges, clouds.n_points)
        out.append(Cycle(dimension=dim, birth_step=int(birth[row]), death_step=int(death[row]), interval_type=kind,
                         layer=int(ell), vertices=vertices, edges=edges, simplices=chain, bar_index=row,
                         n_points=clouds.n_points, params=params))
    return out


def _support(chain: np.ndarray, dim: int, graph_edges: np.ndarray, n_points: int) -> tuple:
    """(vertices, edges) a representative chain stands for in its layer's graph."""
    if dim >= 1:
        edges = np.unique(np.concatenate([chain[:, [a, b]] for a in range(dim + 1) for b in range(a + 1, dim + 1)]),
                          axis=0) if len(chain) else np.empty((0, 2), dtype=np.int64)
        return np.unique(chain), edges
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(graph_edges)), (graph_edges[:, 0], graph_edges[:, 1])), shape=(n_points, n_points))
    _, label = connected_components(graph, directed=False)
    odd = np.flatnonzero(np.bincount(label[chain[:, 0]], minlength=label.max() + 1) % 2)
    vertices = np.flatnonzero(np.isin(label, odd))
    inside = np.isin(graph_edges[:, 0], vertices)
    return vertices, graph_edges[inside]
