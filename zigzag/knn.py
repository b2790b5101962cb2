"""Exact k nearest neighbours of every point, and the kNN graph built from them.

Distances come from blocked matrix products, so memory stays O(N * block)
and no N x N matrix is ever formed. Ties are broken by point index: the
chosen neighbours are re-measured exactly (elementwise, float64) and sorted
by (exact distance, index), and any row whose k-th and (k+1)-th candidates
are within the products' rounding error is settled against every point
exactly. The same input therefore gives the same graph on any machine.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._validation import check_int, check_option

__all__ = ["knn_indices", "knn_graph", "METRICS", "GRAPHS"]

METRICS = ("euclidean", "cosine")
GRAPHS = ("union", "mutual")
_BLOCK_BYTES = 64 * 2**20  # distance block size in bytes
_CHUNK = 64  # columns per chunk when bounding the m-th smallest distance
_EXTRA = 8  # candidates beyond k measured exactly, so that hardly any row needs the slow exact path


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


def knn_indices(points, k: int, *, metric: str = "euclidean", block_size: int | None = None) -> np.ndarray:
    """Indices of the k nearest neighbours of every point, self excluded.

    Candidates come from blocked float64 matrix products of the centred
    points; the k + 8 best are re-measured exactly (elementwise). A row is
    accepted when the products' proven rounding bound shows that no other
    point can come as close as its k-th exact neighbour; the rare rows with
    near-ties beyond that are measured against every point exactly.
    Neighbours are ordered by exact distance, ties by index.

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
    xc = x - x.mean(axis=0)  # for the products only: smaller norms, smaller rounding; exact distances use x
    dim = x.shape[1]
    sq = np.einsum("ij,ij->i", xc, xc)
    eps = float(np.finfo(np.float64).eps)
    # |computed (|x_j|^2 - 2 x_i.x_j) - exact| <= (gamma_D + 3 eps)(max|x|^2 + 2 |x_i| max|x|) for the
    # centred points (gamma_D = D eps / (1 - D eps) bounds the dot product), plus the centring's rounding
    norm_max = float(np.sqrt(sq.max()))
    raw_max = float(np.abs(x).max())
    err = (dim * eps / (1 - dim * eps) + 3 * eps) * (norm_max**2 + 2 * np.sqrt(sq) * norm_max) * 1.01
    err += 16 * dim * eps * (raw_max + norm_max) ** 2
    m = min(k + _EXTRA, n - 1)  # candidates measured exactly
    look = min(m + 1, n - 1)  # one more bounds every point outside the candidates
    chunk = max(1, min(_CHUNK, n // look))
    width = -(-n // chunk) * chunk  # columns padded to whole chunks, padding at distance +inf
    xt = np.zeros((dim, width))
    xt[:, :n] = -2 * xc.T  # scaling by -2 is exact
    sq_padded = np.full(width, np.inf)
    sq_padded[:n] = sq
    if block_size is None:
        block_size = max(1, _BLOCK_BYTES // (8 * width))

    def block(start: int):
        rows = np.arange(start, min(start + block_size, n))
        approx = xc[rows] @ xt
        approx += sq_padded
        approx[np.arange(len(rows)), rows] = np.inf
        cand = _smallest(approx, look, chunk)
        exact = _exact_sq_dist(x, rows, cand[:, :m])
        order = np.lexsort((cand[:, :m], exact), axis=1)
        nbrs = np.take_along_axis(cand[:, :m], order, 1)[:, :k]
        unsettled = np.empty(0, dtype=np.int64)
        if look > m:  # the row is settled when nothing outside the candidates can reach its k-th
            kth = np.take_along_axis(exact, order[:, k - 1:k], 1)[:, 0]
            outside = np.take_along_axis(approx, cand[:, m:], 1)[:, 0] + sq[rows]
            unsettled = rows[outside - err[rows] <= kth * (1 + 4 * dim * eps)]
        return rows, nbrs, unsettled

    out = np.empty((n, k), dtype=np.int64)
    starts = range(0, n, block_size)
    if len(starts) == 1:
        results = [block(0)]
    else:  # numpy releases the GIL: one block's selection overlaps the next block's product
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(block, starts))
    for rows, nbrs, unsettled in results:
        out[rows] = nbrs
        for row in unsettled.tolist():
            out[row] = _knn_row_exact(x, row, k)
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
