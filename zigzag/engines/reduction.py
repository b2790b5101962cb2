"""Persistence pairs of the zigzag cone: union-find for H0, then a twist reduction compiled with numba.

The cone (:mod:`zigzag.engines.cone`) is an ordinary filtration, reduced over Z/2:

* **Union-find** pairs every vertex with the edge that merges its component
  into an older one (the elder rule), in milliseconds. Those edges are
  *negative*; they can never be the pivot of a 2-column, so their rows are
  dropped from every 2-column before reducing it (compression, Bauer, Kerber
  and Reininghaus, "Clear and compress", 2014).
* **Twist reduction with clearing** (Chen and Kerber 2011): the columns of the
  top dimension first, then each lower one. A column whose cell is already
  the pivot of a higher column is positive and skipped. Each column is
  reduced in a *bit tree* (a 64-ary tree of bit words over all rows: toggling
  a row and finding the highest set row cost a few word operations), and the
  reduced columns are kept in one int32 arena for later additions.

The kernels are compiled by numba on first use and cached on disk
(``cache=True``): in ``__pycache__`` beside this file when that folder is
writable, else in numba's user-wide cache (``NUMBA_CACHE_DIR`` overrides both).
A fresh process then loads them instead of compiling;
:func:`zigzag.pipeline.warm_up` compiles them (and the kNN kernels) ahead of
the first barcode, for example at set-up.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from .cone import ConeMatrix

__all__ = ["persistence_pairs", "warm_up"]

_CHUNK = 1 << 16  # columns per kernel call, so that the progress bar moves


@intrinsic
def _leading_zeros(typingctx, word):
    """Count of leading zero bits of a uint64 (LLVM ctlz)."""
    if not isinstance(word, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        from llvmlite import ir

        return builder.ctlz(args[0], ir.Constant(ir.IntType(1), 0))

    return types.uint64(types.uint64), codegen


@njit(cache=True, nogil=True, inline="always")
def _toggle(tree, level_start, n_levels, bit):
    """Flip one bit of the tree's leaves and keep the summary levels in step."""
    for level in range(n_levels):
        word = bit >> 6
        where = level_start[level] + word
        old = tree[where]
        new = old ^ (np.uint64(1) << np.uint64(bit & 63))
        tree[where] = new
        if (old == 0) == (new == 0):
            break
        bit = word


@njit(cache=True, nogil=True, inline="always")
def _highest(tree, level_start, n_levels):
    """Highest set bit of the leaves, or -1 when the tree is empty."""
    top = tree[level_start[n_levels - 1]]
    if top == 0:
        return -1
    index = 63 - np.int64(_leading_zeros(top))
    for level in range(n_levels - 2, -1, -1):
        word = tree[level_start[level] + index]
        index = index * 64 + 63 - np.int64(_leading_zeros(word))
    return index


@njit(cache=True, nogil=True)
def _union_find(edges, col_ptr, rows, n_cells, births, deaths, negative):
    """Pair vertices with the edges that kill their components (elder rule); returns the pair count."""
    parent = np.arange(n_cells, dtype=np.int32)
    n_pairs = 0
    for e in range(len(edges)):
        j = edges[e]
        a = rows[col_ptr[j]]
        b = rows[col_ptr[j] + 1]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a == b:
            continue
        if a > b:
            a, b = b, a
        parent[b] = a  # the root of a component is its oldest vertex
        births[n_pairs] = b
        deaths[n_pairs] = j
        n_pairs += 1
        negative[j] = True
    return n_pairs


@njit(cache=True, nogil=True)
def _reduce(columns, col_ptr, rows, dropped, owner, cleared, start, length, arena, used,
            tree, level_start, n_levels, births, deaths, n_pairs):
    """Twist-reduce ``columns`` (one dimension, increasing order); returns (arena, used, n_pairs, additions)."""
    additions = 0
    for c in range(len(columns)):
        j = columns[c]
        if cleared[j]:
            continue
        for e in range(col_ptr[j], col_ptr[j + 1]):
            r = rows[e]
            if not dropped[r]:
                _toggle(tree, level_start, n_levels, r)
        while True:
            pivot = _highest(tree, level_start, n_levels)
            if pivot < 0:
                break
            other = owner[pivot]
            if other < 0:
                owner[pivot] = j
                cleared[pivot] = True  # its own column is positive: clearing
                births[n_pairs] = pivot
                deaths[n_pairs] = j
                n_pairs += 1
                start[j] = used
                while pivot >= 0:  # store the reduced column and empty the tree
                    if used == len(arena):
                        bigger = np.empty(2 * len(arena), dtype=arena.dtype)
                        bigger[:used] = arena[:used]
                        arena = bigger
                    arena[used] = pivot
                    used += 1
                    _toggle(tree, level_start, n_levels, pivot)
                    pivot = _highest(tree, level_start, n_levels)
                length[j] = used - start[j]
                break
            additions += 1
            for e in range(start[other], start[other] + length[other]):
                _toggle(tree, level_start, n_levels, arena[e])
    return arena, used, n_pairs, additions


def _bit_tree(n_bits: int):
    """Empty bit tree over ``n_bits`` leaves: (words, start of each level, number of levels)."""
    sizes = [max(1, -(-n_bits // 64))]
    while sizes[-1] > 1:
        sizes.append(-(-sizes[-1] // 64))
    level_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return np.zeros(int(sum(sizes)), np.uint64), level_start, len(sizes)


def persistence_pairs(cone: ConeMatrix, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray, dict]:
    """All persistence pairs (birth cell, death cell) of the cone over Z/2.

    Parameters
    ----------
    cone : ConeMatrix
    progress : bool, default=False
        A tqdm bar over the columns of dimension 2 and up.

    Returns
    -------
    births, deaths : ndarray of int64
        Cell indices, ``births[i] < deaths[i]``.
    stats : dict
        ``additions`` (column additions of the reduction) and ``arena`` (int32
        entries kept for reduced columns).
    """
    n = cone.n_cells
    births = np.empty(n // 2 + 1, np.int64)
    deaths = np.empty(n // 2 + 1, np.int64)
    negative = np.zeros(n, np.bool_)
    by_dim = np.argsort(cone.dimension, kind="stable")  # cells of each dimension in filtration order
    bounds = np.searchsorted(cone.dimension[by_dim], np.arange(int(cone.dimension.max(initial=0)) + 2))
    columns = {q: by_dim[bounds[q]:bounds[q + 1]].astype(np.int64) for q in range(len(bounds) - 1)}
    n_pairs = _union_find(columns.get(1, np.empty(0, np.int64)), cone.col_ptr, cone.rows, n, births, deaths,
                          negative) if 1 in columns else 0
    owner = np.full(n, -1, np.int32)
    cleared = np.zeros(n, np.bool_)
    start = np.zeros(n, np.int64)
    length = np.zeros(n, np.int32)
    arena = np.empty(max(1024, 4 * n), np.int32)
    used = 0
    additions = 0
    tree, level_start, n_levels = _bit_tree(n)
    high = [q for q in sorted(columns, reverse=True) if q >= 2]
    total = sum(len(columns[q]) for q in high)
    from .._progress import progress_bar

    with progress_bar(total=total, desc="zigzag reduction", unit="col", unit_scale=True, disable=not progress,
              leave=False) as bar:
        for q in high:
            cols = columns[q]
            for lo in range(0, len(cols), _CHUNK):
                chunk = cols[lo:lo + _CHUNK]
                arena, used, n_pairs, added = _reduce(chunk, cone.col_ptr, cone.rows, negative, owner, cleared,
                                                      start, length, arena, used, tree, level_start, n_levels,
                                                      births, deaths, n_pairs)
                additions += added
                bar.update(len(chunk))
    return births[:n_pairs].copy(), deaths[:n_pairs].copy(), {"additions": int(additions), "arena": int(used)}


def warm_up() -> None:
    """Compile (or load from the cache) the kernels on a tiny cone."""
    from ..complexes import flag_complex
    from ..filtration import zigzag_schedule
    from .cone import cone_matrix

    triangle = flag_complex([(0, 1), (1, 2), (0, 2)], 3, 2)
    path = flag_complex([(0, 1), (1, 2)], 3, 2)
    persistence_pairs(cone_matrix(zigzag_schedule([triangle, path, triangle])))
