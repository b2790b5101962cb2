"""Exact k nearest neighbours of every point, and the kNN graph built from them.

The neighbours are those of a float64 brute force, ties broken by point
index, but most of the work is done in float32:

1. The cloud is rescaled by a power of two (exact, so the result is exactly
   scale-invariant and nothing overflows or underflows at 1e-300 or 1e300);
   for the cosine metric each point is rescaled on its own, then made a unit
   vector.
2. Products of the centred points in float32 give every row's ``k + 9`` best
   candidates (numpy: one GEMM per strip of rows against the points after it,
   half the products of a full matrix; torch: full rows on any device, then
   ``topk``).
3. The first ``k + 8`` candidates are re-measured exactly (elementwise, float64)
   and sorted by (distance, index).
4. A proven bound on the float32 rounding (per row, in the centred norms:
   ``2 (γ_D + 3u) |c_i| max|c| + 2u max|c|²``, u = 2⁻²⁴, γ_D = Du / (1 − Du))
   shows that no point outside the candidates can come as close as the k-th:
   the row is *certified*. A row that is not (near-ties, duplicates) is
   settled exactly against every point that the bound cannot exclude.

So the graph never depends on rounding: the same input gives the same graph
on any machine and any device.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._validation import check_int, check_option

__all__ = ["knn_indices", "knn_graph", "graph_from_neighbours", "check_device", "METRICS", "GRAPHS"]

METRICS = ("euclidean", "cosine")
GRAPHS = ("union", "mutual")
_BLOCK_BYTES = 64 * 2**20  # float32 products per strip of rows
_EXTRA = 8  # candidates beyond k measured exactly, so that hardly any row needs the slow exact path
_THREADED = 1024  # from this many points on, selection and products overlap in two threads
_U32 = 2.0**-24  # unit roundoff of float32
_U64 = 2.0**-53


def _as_float64(points, caller: str = "knn_indices") -> np.ndarray:
    """A C-contiguous float64 copy of a 2-D array or tensor, checked for NaN/inf."""
    if hasattr(points, "detach") and hasattr(points, "cpu"):  # a torch tensor, without importing torch
        points = points.detach().cpu()
        if not points.dtype.is_floating_point:
            points = points.double()
        points = points.double().numpy()
    x = np.asarray(points)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{caller}: points must hold real numbers, got dtype {x.dtype}.")
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 2 or 0 in x.shape:
        raise ValueError(f"{caller}: points must be a non-empty 2-D array (n_points, n_features); got shape {x.shape}.")
    if not np.isfinite(x.sum()) and not np.isfinite(x).all():  # a finite sum proves every entry finite
        bad = np.flatnonzero(~np.isfinite(x).all(axis=1))[:5].tolist()
        raise ValueError(f"{caller}: points {bad} contain NaN or inf; drop or fix them.")
    return x


def _prepare(x: np.ndarray, metric: str) -> np.ndarray:
    """Rescale by powers of two (exact); unit rows for cosine (Euclidean order on the sphere = cosine order)."""
    if metric == "cosine":
        peak = np.abs(x).max(axis=1)
        if np.any(peak == 0):
            bad = np.flatnonzero(peak == 0)[:5].tolist()
            raise ValueError(f"The cosine metric is undefined for zero vectors (points {bad}); use metric='euclidean'.")
        x = np.ldexp(x, -np.frexp(peak)[1][:, None])
        return x / np.linalg.norm(x, axis=1, keepdims=True)
    peak = max(x.max(), -x.min())
    return _times_power_of_two(x, -int(np.frexp(peak)[1])) if peak > 0 else x.copy()


def _times_power_of_two(x: np.ndarray, exponent: int) -> np.ndarray:
    """``x * 2**exponent``, exact (a plain product while the power is a normal float)."""
    return x * 2.0**exponent if abs(exponent) < 1000 else np.ldexp(x, exponent)


class _Bound:
    """The centred float32 points and each row's proven rounding bound (see the module docstring)."""

    def __init__(self, x: np.ndarray):
        centred = x - x.mean(axis=0)
        sqn = np.einsum("ij,ij->i", centred, centred)
        norm_max = float(np.sqrt(sqn.max()))
        shift = -int(np.frexp(norm_max)[1]) if norm_max > 0 else 0
        # max centred norm in [0.5, 1): no float32 overflow or underflow; exact, so the norms scale exactly
        self.points32 = _times_power_of_two(centred, shift).astype(np.float32)
        self.sqn = np.ldexp(sqn, 2 * shift)
        self.sq32 = self.sqn.astype(np.float32)
        dim = x.shape[1]
        big = float(np.sqrt(self.sqn.max()))
        gamma32 = dim * _U32 / (1 - dim * _U32)
        self.err = (2 * (gamma32 + 3 * _U32) * np.sqrt(self.sqn) * big + 2 * _U32 * big**2) * (1 + 2.0**-8)
        self.err += dim * 2.0**-100  # float32 underflow of tiny coordinates and products
        self.eps_abs = 2.0001 * _U64 * big + 2.0**-1000  # rounding of the centring, in norm
        self.gamma64 = (dim + 2) * _U64 / (1 - (dim + 2) * _U64)  # the exact distances' own rounding
        self.shift2 = 2 * shift  # exact squared distances times 2**shift2 are in centred units
        self.m_sq = big**2


def knn_indices(points, k: int, *, metric: str = "euclidean", block_size: int | None = None,
                device=None) -> np.ndarray:
    """Indices of the k nearest neighbours of every point, self excluded.

    Exact: the same neighbours as a float64 brute force sorted by (distance,
    index), computed with certified float32 products (module docstring).

    Parameters
    ----------
    points : array-like or torch tensor of shape (n_points, n_features)
    k : int
        Number of neighbours, ``1 <= k < n_points``.
    metric : {"euclidean", "cosine"}, default="euclidean"
    block_size : int, optional
        Rows per matrix product; by default about 64 MiB of float32 products.
    device : str or torch.device, optional
        Compute the products with torch on this device (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ``"mps"``). Default: the tensor's device when ``points``
        is a torch tensor, else numpy.

    Returns
    -------
    ndarray of shape (n_points, k), dtype int64
        Neighbours of each point by increasing distance, ties by index.

    Raises
    ------
    ValueError
        NaN/inf or a zero vector (cosine) in the points, ``k >= n_points``, an
        unknown metric, or a device torch cannot use.

    Examples
    --------
    >>> import numpy as np
    >>> knn_indices(np.array([[0.0], [1.0], [3.0], [4.5]]), 1).ravel().tolist()
    [1, 0, 3, 2]
    """
    nbrs, _ = _knn(points, k, metric=metric, block_size=block_size, device=device)
    return nbrs


def _knn(points, k, *, metric, block_size, device):
    """``knn_indices`` and the number of rows that were not certified by the bound."""
    from . import kernels

    metric = check_option(metric, "metric", METRICS, caller="knn_indices")
    device = check_device(points, device)
    x = _prepare(_as_float64(points), metric)
    n = x.shape[0]
    k = check_int(k, "k", minimum=1, caller="knn_indices")
    if k >= n:
        raise ValueError(f"k={k} neighbours need more than k points, got n_points={n}; lower k or add points.")
    if block_size is not None:
        block_size = check_int(block_size, "block_size", minimum=1, caller="knn_indices")
    bound = _Bound(x)
    m = min(k + _EXTRA, n - 1)
    look = min(m + 1, n - 1)
    if device is None:
        products = _NumpyProducts(bound, block_size)
    else:
        from ._torch import TorchProducts

        products = TorchProducts(bound, block_size, device)
    vals, idx = products.candidates(look)
    nbrs = np.empty((n, k), np.int64)
    threshold = np.empty(n)
    certified = np.empty(n, np.bool_)

    def refine(lo, hi):
        kernels.refine(x, np.arange(lo, hi), idx[lo:hi], vals[lo:hi], k, m, bound.sqn, bound.err, bound.eps_abs,
                       bound.gamma64, bound.shift2, bound.m_sq, nbrs[lo:hi], threshold[lo:hi], certified[lo:hi])

    if n < _THREADED:
        refine(0, n)
    else:  # the kernel releases the GIL: two threads, two halves
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda bounds: refine(*bounds), [(0, n // 2), (n // 2, n)]))
    uncertain = np.flatnonzero(~certified)
    step = max(1, _BLOCK_BYTES // (4 * n))
    for lo in range(0, len(uncertain), step):
        rows = uncertain[lo:lo + step]
        approx = products.rows(rows)
        for r, row in enumerate(rows.tolist()):
            kernels.collect(x, row, approx[r], threshold[row], k, nbrs[row])
    return nbrs, len(uncertain)


class _NumpyProducts:
    """Float32 products on the CPU with numpy; candidates from the upper triangle only (each pair once)."""

    def __init__(self, bound: _Bound, block_size):
        self.bound = bound
        n = len(bound.sqn)
        # strips of at least 1024 rows (smaller products lose more to BLAS's threading than the triangle saves),
        # at most 16 of them, within the memory budget
        self.block = block_size or min(max(1024, -(-n // 16)), 4096, max(32, _BLOCK_BYTES // (4 * n)))
        self.right = (-2 * bound.points32).T  # exact scaling; Fortran order, so column slices need no copy

    def candidates(self, look: int):
        from . import kernels

        n = len(self.bound.sqn)
        vals = np.full((n, look), np.inf, np.float32)
        idx = np.full((n, look), -1, np.int64)
        thr = np.full(n, np.inf, np.float32)
        strips = range(0, n, self.block)
        if n < _THREADED:
            for first in strips:
                kernels.update_strip(self._strip(first), first, self.bound.sq32, vals, idx, thr)
            return vals, idx
        pending = []
        with ThreadPoolExecutor(max_workers=1) as pool:  # one strip's selection overlaps the next product
            for first in strips:
                strip = self._strip(first)
                if len(pending) == 2:
                    pending.pop(0).result()
                pending.append(pool.submit(kernels.update_strip, strip, first, self.bound.sq32, vals, idx, thr))
            for job in pending:
                job.result()
        return vals, idx

    def _strip(self, first: int) -> np.ndarray:
        """Products of rows first.. first + block against every point from ``first`` on."""
        return self.bound.points32[first:first + self.block] @ self.right[:, first:]

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """Full approximate rows (float32), for the rows the bound did not certify."""
        return self.bound.points32[rows] @ self.right + self.bound.sq32


def check_device(points, device):
    """None for the numpy path, else the name of a torch device that torch can use (a ValueError if not)."""
    if device is None and not (hasattr(points, "detach") and hasattr(points, "device")):
        return None
    from ._torch import torch_device

    return torch_device(points.device if device is None else device)


def knn_graph(points, k: int, *, metric: str = "euclidean", graph: str = "union", device=None) -> np.ndarray:
    """Undirected kNN graph as sorted unique edges.

    ``{u, v}`` is an edge when v is among u's k nearest neighbours **or**
    (``graph="union"``, the paper's choice) **and** (``graph="mutual"``) u is
    among v's.

    Parameters
    ----------
    points, k, metric, device
        As in :func:`knn_indices`.
    graph : {"union", "mutual"}, default="union"

    Returns
    -------
    ndarray of shape (n_edges, 2), dtype int64
        Rows ``(u, v)`` with ``u < v``, in lexicographic order.
    """
    graph = check_option(graph, "graph", GRAPHS, caller="knn_graph")
    nbrs = knn_indices(points, k, metric=metric, device=device)
    return graph_from_neighbours(nbrs, graph=graph)


def graph_from_neighbours(nbrs: np.ndarray, *, graph: str = "union") -> np.ndarray:
    """Undirected edges ``u < v`` (lexicographic) of a neighbour table (union or mutual)."""
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
