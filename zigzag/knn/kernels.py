"""numba kernels of the certified kNN (:mod:`zigzag.knn`): candidate selection and exact re-measuring.

All kernels release the GIL, so the driver overlaps them with the next
matrix product, and are cached on disk like those of
:mod:`zigzag.engines.reduction`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

@njit(cache=True, nogil=True, inline="always")
def _insert(vals, idx, thr, row, value, col):
    """Put (value, col) into the row's ascending candidate list, dropping its largest entry."""
    pos = vals.shape[1] - 1
    while pos > 0 and vals[row, pos - 1] > value:
        vals[row, pos] = vals[row, pos - 1]
        idx[row, pos] = idx[row, pos - 1]
        pos -= 1
    vals[row, pos] = value
    idx[row, pos] = col
    thr[row] = vals[row, vals.shape[1] - 1]


@njit(cache=True, nogil=True)
def update_strip(products, first, sq, vals, idx, thr):
    """Offer the strip's upper triangle to both of its rows' candidate lists.

    ``products[a, b]`` is ``-2 x[first + a] . x[first + b]`` (float32); the
    value of column c for row r is ``products + sq[c]``. Only ``b > a`` is
    read: the pair also updates row ``first + b`` with the value ``products + sq[r]``.
    Each row is first screened against the current thresholds in one
    vectorised pass (thresholds only fall, so the screen never misses a hit),
    then the few hits are inserted one by one.
    """
    n_rows, width = products.shape
    hit = np.empty(width, np.bool_)
    sq_cols = sq[first:first + width]
    thr_cols = thr[first:first + width]
    for a in range(n_rows):
        r = first + a
        sq_r = sq[r]
        limit = thr[r]
        row = products[a]
        for t in range(width):
            v = row[t]
            hit[t] = (v + sq_cols[t] < limit) | (v + sq_r < thr_cols[t])
        for t in range(a + 1, width):
            if hit[t]:
                c = first + t
                v = row[t]
                value = v + sq_cols[t]
                if value < thr[r]:
                    _insert(vals, idx, thr, r, value, c)
                value = v + sq_r
                if value < thr[c]:
                    _insert(vals, idx, thr, c, value, r)


@njit(cache=True, nogil=True)
def _exact_sq(x, i, j):
    """Squared distance between rows i and j in float64, in four running sums (a fixed order on every machine)."""
    dim = x.shape[1]
    s0 = s1 = s2 = s3 = 0.0
    f = 0
    while f + 4 <= dim:
        d0 = x[i, f] - x[j, f]
        d1 = x[i, f + 1] - x[j, f + 1]
        d2 = x[i, f + 2] - x[j, f + 2]
        d3 = x[i, f + 3] - x[j, f + 3]
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        f += 4
    while f < dim:
        d0 = x[i, f] - x[j, f]
        s0 += d0 * d0
        f += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, nogil=True)
def refine(x, rows, idx, vals, k, m, sqn, err, eps_abs, gamma, shift2, m_sq, nbrs, threshold, certified):
    """Re-measure each row's first m candidates exactly; certify that no other point comes as close.

    For row ``rows[r]`` the candidates ``idx[r, :m]`` are measured in float64,
    sorted by (distance, index) and the first k kept. With ``K`` the k-th exact
    distance, ``threshold[r]`` is the largest approximate value a point could
    have and still be within ``K``; the row is certified when the best value
    left out, ``vals[r, m]``, is above it (or when there is none).
    """
    dist = np.empty(m)
    cand = np.empty(m, np.int64)
    for r in range(len(rows)):
        i = rows[r]
        for a in range(m):  # insertion sort by (distance, index)
            j = idx[r, a]
            d = _exact_sq(x, i, j)
            pos = a
            while pos > 0 and (dist[pos - 1] > d or (dist[pos - 1] == d and cand[pos - 1] > j)):
                dist[pos] = dist[pos - 1]
                cand[pos] = cand[pos - 1]
                pos -= 1
            dist[pos] = d
            cand[pos] = j
        for a in range(k):
            nbrs[r, a] = cand[a]
        kth = math.ldexp(dist[k - 1], shift2) / (1.0 - gamma)
        reach = np.sqrt(kth) + eps_abs
        pad = 8 * 2.0**-52 * (kth + sqn[i] + err[i] + m_sq)
        threshold[r] = reach * reach - sqn[i] + err[i] + pad
        certified[r] = vals.shape[1] == m or vals[r, m] > threshold[r]


@njit(cache=True, nogil=True)
def collect(x, row, approx, threshold, k, out):
    """Exact k nearest of ``row`` among all points whose approximate value is at most ``threshold``."""
    n = approx.shape[0]
    count = 0
    dist = np.empty(n)
    cand = np.empty(n, np.int64)
    for j in range(n):
        if j != row and approx[j] <= threshold:
            dist[count] = _exact_sq(x, row, j)
            cand[count] = j
            count += 1
    if count < k:
        raise RuntimeError("certified kNN: fewer candidates than k; the rounding bound was violated")
    order = np.argsort(dist[:count], kind="mergesort")  # stable: ties stay in index order
    for a in range(k):
        out[a] = cand[order[a]]
