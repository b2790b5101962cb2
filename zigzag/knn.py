"""Exact k nearest neighbours of every point, and the kNN graph built from them.

Distances come from blocked matrix products, so memory stays O(N * block)
and no N x N matrix is ever formed. Ties are broken by point index: every
candidate near the k-th distance is re-measured exactly, pair by pair, and
neighbours are sorted by (exact distance, index). The same input therefore
gives the same graph on any machine.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_int, check_option

__all__ = ["knn_indices", "knn_graph", "METRICS", "GRAPHS"]

METRICS = ("euclidean", "cosine")
GRAPHS = ("union", "mutual")
_BLOCK_BYTES = 64 * 2**20  # distance block size: 64 MiB of float64
_SLACK = 8  # extra candidates per row re-measured exactly, to settle near-ties


def _prepare(points: np.ndarray, metric: str) -> np.ndarray:
    """Float64 points; unit rows for cosine (Euclidean order on the sphere = cosine order)."""
    x = np.ascontiguousarray(points, dtype=np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1)
        if np.any(norms == 0):
            bad = np.flatnonzero(norms == 0)[:5].tolist()
            raise ValueError(f"The cosine metric is undefined for zero vectors (points {bad}); use metric='euclidean'.")
        x = x / norms[:, None]
    return x


def _exact_sq_dist(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Squared distances between x[rows[i]] and x[cols[i, j]], computed elementwise (no cancellation)."""
    diff = x[cols] - x[rows][:, None, :]
    return np.einsum("ijk,ijk->ij", diff, diff)


def knn_indices(points, k: int, *, metric: str = "euclidean", block_size: int | None = None) -> np.ndarray:
    """Indices of the k nearest neighbours of every point, self excluded.

    Parameters
    ----------
    points : array-like of shape (n_points, n_features)
    k : int
        Number of neighbours, ``1 <= k < n_points``.
    metric : {"euclidean", "cosine"}, default="euclidean"
    block_size : int, optional
        Rows per distance block; by default about 64 MiB of distances.

    Returns
    -------
    ndarray of shape (n_points, k), dtype int64
        Neighbours of each point by increasing distance, ties by index.

    Examples
    --------
    >>> import numpy as np
    >>> knn_indices(np.array([[0.0], [1.0], [3.0], [4.5]]), 1).ravel().tolist()
    [1, 0, 3, 2]
    """
    metric = check_option(metric, "metric", METRICS, caller="knn_indices")
    x = _prepare(points, metric)
    n = x.shape[0]
    k = check_int(k, "k", minimum=1, caller="knn_indices")
    if k >= n:
        raise ValueError(f"k={k} neighbours need more than k points, got n_points={n}; lower k or add points.")
    m = min(k + _SLACK, n - 1)  # candidates per row
    if block_size is None:
        block_size = max(1, _BLOCK_BYTES // (8 * n))
    sq_norms = np.einsum("ij,ij->i", x, x)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, block_size):
        rows = np.arange(start, min(start + block_size, n))
        approx = sq_norms[rows, None] + sq_norms[None, :] - 2.0 * (x[rows] @ x.T)
        approx[np.arange(len(rows)), rows] = np.inf
        cand = np.argpartition(approx, m - 1, axis=1)[:, :m] if m < n - 1 else np.argsort(approx, axis=1)[:, :m]
        approx_cand = np.take_along_axis(approx, cand, axis=1)
        exact = _exact_sq_dist(x, rows, cand)
        order = np.lexsort((cand, exact), axis=1)
        cand, exact = np.take_along_axis(cand, order, 1), np.take_along_axis(exact, order, 1)
        out[rows] = cand[:, :k]
        # A row is settled when no point outside its candidates can tie or beat its k-th
        # neighbour; the matrix-product distances are accurate to a relative ~1e-12.
        if m < n - 1:
            scale = sq_norms[rows] + sq_norms.max()
            kth = exact[:, k - 1]
            outside = approx_cand.max(axis=1)
            unsettled = np.flatnonzero(outside <= kth + 1e-9 * scale)
            for i in unsettled:
                out[rows[i]] = _knn_row_exact(x, int(rows[i]), k)
    return out


def _knn_row_exact(x: np.ndarray, row: int, k: int) -> np.ndarray:
    """Slow exact neighbours of one point (used only for rows with many near-ties)."""
    d = np.einsum("ij,ij->i", x - x[row], x - x[row])
    d[row] = np.inf
    idx = np.arange(len(x))
    return np.lexsort((idx, d))[:k]


def knn_graph(points, k: int, *, metric: str = "euclidean", graph: str = "union") -> np.ndarray:
    """Undirected kNN graph as sorted unique edges.

    ``{u, v}`` is an edge when v is among u's k nearest neighbours **or**
    (``graph="union"``, the paper's choice) **and** (``graph="mutual"``) u is
    among v's.

    Returns
    -------
    ndarray of shape (n_edges, 2), dtype int64
        Rows ``(u, v)`` with ``u < v``, in lexicographic order.
    """
    graph = check_option(graph, "graph", GRAPHS, caller="knn_graph")
    nbrs = knn_indices(points, k, metric=metric)
    n = nbrs.shape[0]
    src = np.repeat(np.arange(n, dtype=np.int64), nbrs.shape[1])
    dst = nbrs.ravel()
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    keys = lo * n + hi
    if graph == "union":
        keys = np.unique(keys)
    else:
        keys, counts = np.unique(keys, return_counts=True)
        keys = keys[counts == 2]  # each direction contributes once
    return np.column_stack([keys // n, keys % n])
