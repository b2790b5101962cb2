"""Flag (clique) complexes of kNN graphs, one per layer.

Cliques are enumerated with numpy, level by level: a clique ``(v0 < ... < vs)``
grows by every forward neighbour ``w > vs`` of its last vertex that is
adjacent to all of ``v0 .. v(s-1)``. Each clique is found once, and every
level comes out in lexicographic order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_int
from .knn import knn_graph

__all__ = ["FlagComplex", "flag_complex", "knn_complex"]


@dataclass(frozen=True, eq=False)
class FlagComplex:
    """Simplices of one layer's flag complex, by dimension.

    Attributes
    ----------
    simplices : tuple of ndarray
        ``simplices[d]`` has shape (n_d, d + 1): sorted vertex tuples in
        lexicographic order, for d = 0 .. max_simplex_dim.
    n_points : int
    """

    simplices: tuple
    n_points: int

    @property
    def max_simplex_dim(self) -> int:
        return len(self.simplices) - 1

    @property
    def edges(self) -> np.ndarray:
        return self.simplices[1]

    def __len__(self) -> int:
        return sum(len(s) for s in self.simplices)


def flag_complex(edges, n_points: int, max_simplex_dim: int) -> FlagComplex:
    """Flag complex of a graph, truncated at simplex dimension ``max_simplex_dim``.

    Parameters
    ----------
    edges : array-like of shape (n_edges, 2)
        Undirected edges (any order, duplicates allowed).
    n_points : int
        Number of vertices; every vertex is in the complex.
    max_simplex_dim : int
        Highest simplex dimension (``max_dim + 1`` for exact H_0..H_max_dim).

    Returns
    -------
    FlagComplex
    """
    max_simplex_dim = check_int(max_simplex_dim, "max_simplex_dim", minimum=0, caller="flag_complex")
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if len(edges) and (edges.min() < 0 or edges.max() >= n_points or np.any(edges[:, 0] == edges[:, 1])):
        raise ValueError(f"edges must join two different vertices in 0..{n_points - 1}.")
    lo, hi = edges.min(axis=1), edges.max(axis=1)
    keys = np.unique(lo * n_points + hi)  # canonical: u < v, unique, lexicographic
    edges = np.column_stack([keys // n_points, keys % n_points])
    levels = [np.arange(n_points, dtype=np.int64)[:, None]]
    if max_simplex_dim >= 1:
        levels.append(edges)
    if max_simplex_dim >= 2 and len(edges):
        start = np.searchsorted(edges[:, 0], np.arange(n_points + 1))  # CSR of forward neighbours
        forward = edges[:, 1]
        edge_keys = edges[:, 0] * n_points + edges[:, 1]
        cliques = edges
        for _ in range(2, max_simplex_dim + 1):
            last = cliques[:, -1]
            counts = start[last + 1] - start[last]
            owner = np.repeat(np.arange(len(cliques)), counts)
            offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            w = forward[start[last][owner] + offset]
            keep = np.ones(len(w), dtype=bool)
            for col in range(cliques.shape[1] - 1):
                keys = cliques[owner, col] * n_points + w
                pos = np.minimum(np.searchsorted(edge_keys, keys), len(edge_keys) - 1)
                keep &= edge_keys[pos] == keys
            cliques = np.column_stack([cliques[owner[keep]], w[keep]])
            levels.append(cliques)
            if not len(cliques):
                break
    while len(levels) < max_simplex_dim + 1:
        levels.append(np.empty((0, len(levels) + 1), dtype=np.int64))
    return FlagComplex(tuple(levels), int(n_points))


def knn_complex(points, k: int, *, max_dim: int = 1, metric: str = "euclidean", graph: str = "union") -> FlagComplex:
    """kNN graph of one cloud and its flag complex up to simplex dimension ``max_dim + 1``.

    Examples
    --------
    >>> import numpy as np
    >>> square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    >>> [len(s) for s in knn_complex(square, 2, max_dim=1).simplices]
    [4, 4, 0]
    """
    max_dim = check_int(max_dim, "max_dim", minimum=0, caller="knn_complex")
    points = np.asarray(points)
    edges = knn_graph(points, k, metric=metric, graph=graph)
    return flag_complex(edges, points.shape[0], max_dim + 1)
