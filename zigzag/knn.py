"""Exact k nearest neighbours of every point, and the kNN graph built from them.

Distances come from blocked matrix products, so memory stays O(N * block)
and no N x N matrix is ever formed. Ties are broken by point index: the
chosen neighbours are re-measured exactly (elementwise, float64) and sorted
by (exact distance, index), and any row whose k-th and (k+1)-th candidates
are within the products' rounding error is settled against every point
exactly. The same input therefore gives the same graph on any machine.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_int, check_option

__all__ = ["knn_indices", "knn_graph", "METRICS", "GRAPHS"]

METRICS = ("euclidean", "cosine")
GRAPHS = ("union", "mutual")
_BLOCK_BYTES = 64 * 2**20  # distance block size in bytes
_CHUNK = 64  # columns per chunk when bounding the (k+1)-th smallest distance


def _prepare(points, metric: str) -> np.ndarray:
    """Float64 points; unit rows for cosine (Euclidean order on the sphere = cosine order)."""
    x = np.ascontiguousarray(points, dtype=np.float64)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1)
        if np.any(norms == 0):
            bad = np.flatnonzero(norms == 0)[:5].tolist()
            raise ValueError(f"The cosine metric is undefined for zero vectors (points {bad}); use metric='euclidean'.")
        x = x / norms[:, None]
    return x


def _smallest(values: np.ndarray, m: int, chunk: int) -> np.ndarray:
    """Column indices of the m smallest entries of each row, ascending (ties in any order).

    Faster than ``argpartition`` on wide rows: the m-th smallest of the
    chunk minima bounds the m-th smallest entry from above (m disjoint chunks
    each hold an entry at most that large), so only the few chunks whose
    minimum is under that bound are looked into. ``values.shape[1]`` must be
    a multiple of ``chunk`` with at least ``m`` chunks.
    """
    b, width = values.shape
    chunks = values.reshape(b, width // chunk, chunk)
    mins = chunks.min(axis=2)
    bound = np.partition(mins, m - 1, axis=1)[:, m - 1]
    hit_rows, hit_chunks = np.nonzero(mins <= bound[:, None])
    vals = chunks[hit_rows, hit_chunks]
    keep = vals <= bound[hit_rows, None]
    rows = np.broadcast_to(hit_rows[:, None], keep.shape)[keep]
    cols = (hit_chunks[:, None] * chunk + np.arange(chunk))[keep]
    order = np.lexsort((cols, vals[keep], rows))
    starts = np.searchsorted(rows[order], np.arange(b))
    return cols[order][starts[:, None] + np.arange(m)]


def _exact_sq_dist(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Squared distances between x[rows[i]] and x[cols[i, j]], elementwise in float64 (no cancellation)."""
    diff = x[cols] - x[rows][:, None, :]
    return np.einsum("ijk,ijk->ij", diff, diff)


def _sort_exact(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Candidates of each row sorted by (exact distance, index)."""
    exact = _exact_sq_dist(x, rows, cols)
    order = np.lexsort((cols, exact), axis=1)
    return np.take_along_axis(cols, order, 1)


def knn_indices(points, k: int, *, metric: str = "euclidean", block_size: int | None = None) -> np.ndarray:
    """Indices of the k nearest neighbours of every point, self excluded.

    Candidates come from blocked float64 matrix products; whenever the k-th and (k+1)-th candidates are
    closer than the products' rounding bound, the row is settled by exact
    float64 distances to every point. Neighbours are then ordered by exact
    distance, ties by index.

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
    n, dim = x.shape
    k = check_int(k, "k", minimum=1, caller="knn_indices")
    if k >= n:
        raise ValueError(f"k={k} neighbours need more than k points, got n_points={n}; lower k or add points.")
    sq = np.einsum("ij,ij->i", x, x)
    # rounding bound of sq_j - 2 x_i.x_j in float64 (the row's own |x_i|^2 does not change its order)
    tol = 2 * (dim + 2) * np.finfo(np.float64).eps * (sq + float(sq.max()))
    m = min(k + 1, n - 1)
    chunk = max(1, min(_CHUNK, n // m))
    width = -(-n // chunk) * chunk  # columns padded to whole chunks, padding at distance +inf
    xt = np.zeros((dim, width))
    xt[:, :n] = x.T
    sq_padded = np.full(width, np.inf)
    sq_padded[:n] = sq
    if block_size is None:
        block_size = max(1, _BLOCK_BYTES // (8 * width))
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, block_size):
        rows = np.arange(start, min(start + block_size, n))
        approx = x[rows] @ xt
        approx *= -2
        approx += sq_padded
        approx[np.arange(len(rows)), rows] = np.inf
        cand = _smallest(approx, m, chunk)
        out[rows] = _sort_exact(x, rows, cand[:, :k])
        if m > k:
            gap = np.take_along_axis(approx, cand[:, k:], 1)[:, 0] - np.take_along_axis(approx, cand[:, k - 1:k], 1)[:, 0]
            for i in np.flatnonzero(gap <= 2 * tol[rows]):
                out[rows[i]] = _knn_row_exact(x, int(rows[i]), k)
    return out


def _knn_row_exact(x: np.ndarray, row: int, k: int) -> np.ndarray:
    """Exact neighbours of one point against every other (rows with near-ties only)."""
    d = _exact_sq_dist(x, np.array([row]), np.arange(len(x))[None, :])[0]
    d[row] = np.inf
    return np.lexsort((np.arange(len(x)), d))[:k]


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
