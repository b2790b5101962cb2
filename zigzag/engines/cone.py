"""The FastZigzag cone of a zigzag schedule, as a sparse boundary matrix over Z/2.

Dey and Hou (FastZigzag, SoCG 2022) turn a zigzag into the ordinary
persistence of a cone: every presence run of a simplex ``σ`` (inserted at step
``a``, deleted at step ``b``) gives

* an *up* cell ``σ`` at time ``a`` (its dimension is ``dim σ``), and
* a *coned* cell ``w * σ`` at time ``b`` (dimension ``dim σ + 1``),

after the cone vertex ``w`` (cell 0). The up cells come first, by increasing
time, then the coned cells, by decreasing time; inside a time, faces before
cofaces. Each face of a cell is the copy of that face alive at the cell's
time (for a coned cell, just before its deletion): the run of the face that
contains the run of the cell. The boundary of ``w * σ`` is ``σ`` (the up cell
of the same run) plus ``w * τ`` for every facet ``τ``; the boundary of
``w * v`` for a vertex is ``v + w``. This is the matrix ``dionysus.fast_zigzag``
builds (tests/test_engine.py compares them cell by cell).

The bars depend only on each cell's time and dimension, so the order of cells
sharing both is free. :func:`cone_matrix` uses that freedom (``reorder=True``)
to order up cells by deletion step descending and coned cells by insertion
step ascending inside each level, which cuts the column additions of the
reduction by about 40% on kNN trajectories. :func:`bars_from_pairs` reads the
zigzag bars off the persistence pairs with the rules of dionysus'
``init_zigzag_diagrams``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..filtration import ZigzagSchedule

__all__ = ["ConeMatrix", "cone_matrix", "bars_from_pairs"]


@dataclass(frozen=True, eq=False)
class ConeMatrix:
    """The boundary matrix of the cone, columns in filtration order.

    Attributes
    ----------
    dimension : ndarray of shape (n_cells,), int8
        Dimension of each cell in the cone (the apex has 0).
    step : ndarray of shape (n_cells,), int64
        Zigzag step of the cell: insertion for up cells, deletion for coned
        cells, -1 for the apex.
    coned : ndarray of shape (n_cells,), bool
        Whether the cell is a cone ``w * σ`` (the apex counts as coned).
    base_dim, base_row : ndarray of shape (n_cells,), int64
        The simplex ``σ``: its dimension and row in ``schedule.simplices[base_dim]``
        (-1 for the apex).
    col_ptr : ndarray of shape (n_cells + 1,), int64
    rows : ndarray of shape (n_entries,), int32
        Column ``j`` holds the cells ``rows[col_ptr[j]:col_ptr[j + 1]]``.
    """

    dimension: np.ndarray
    step: np.ndarray
    coned: np.ndarray
    base_dim: np.ndarray
    base_row: np.ndarray
    col_ptr: np.ndarray
    rows: np.ndarray

    @property
    def n_cells(self) -> int:
        return len(self.dimension)

    def column(self, j: int) -> np.ndarray:
        """The boundary of cell ``j`` (cell indices, in no particular order)."""
        return self.rows[self.col_ptr[j]:self.col_ptr[j + 1]]


class _FaceIndex:
    """Row of any simplex in ``schedule.simplices[d]``, by exact integer keys.

    The key of a d-simplex is ``row(prefix) * n_points + last vertex``, where
    the prefix (its first d vertices) is a (d-1)-simplex of the same complex.
    Keys are increasing in lexicographic order and never overflow where a
    mixed-radix code over all vertices would.
    """

    def __init__(self, simplices):
        self.simplices = simplices
        self.n_points = int(simplices[0].max()) + 1 if len(simplices[0]) else 1
        self._keys = {}

    def keys(self, d: int) -> np.ndarray:
        if d not in self._keys:
            level = self.simplices[d]
            self._keys[d] = level[:, 0] if d == 0 else self._key(level)
        return self._keys[d]

    def _key(self, rows: np.ndarray) -> np.ndarray:
        d = rows.shape[1] - 1
        if d == 0:
            return rows[:, 0]
        prefix = self.rows_of(rows[:, :d])
        if len(self.simplices[d - 1]) * self.n_points >= 2**62:
            raise OverflowError("too many simplices for 64-bit face keys")
        return prefix * self.n_points + rows[:, d]

    def rows_of(self, rows: np.ndarray) -> np.ndarray:
        """Row index of each (sorted) vertex tuple in ``simplices[d]``; every tuple must be there."""
        d = rows.shape[1] - 1
        keys = self.keys(d)
        query = self._key(rows)
        found = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
        if len(query) and (len(keys) == 0 or np.any(keys[found] != query)):
            raise ValueError("the schedule is not a simplicial complex: a face of some simplex is missing")
        return found

    def facets(self, d: int) -> np.ndarray:
        """(m_d, d + 1) rows in ``simplices[d - 1]`` of the facets of every d-simplex."""
        level = self.simplices[d]
        return np.column_stack([self.rows_of(np.delete(level, q, axis=1)) for q in range(d + 1)])


def cone_matrix(schedule: ZigzagSchedule, *, reorder: bool = True) -> ConeMatrix:
    """Build the FastZigzag cone of a schedule, vectorised.

    Parameters
    ----------
    schedule : ZigzagSchedule
    reorder : bool, default=True
        Order the cells inside each level (same time, same dimension) to make
        the reduction cheaper: up cells by deletion step descending, coned cells
        by insertion step ascending. With False the order is dionysus' own
        (simplices in lexicographic order inside a level).

    Returns
    -------
    ConeMatrix

    Raises
    ------
    ValueError
        If a face of some simplex is missing, or a simplex's run is not inside a
        run of each of its faces (not a zigzag of simplicial complexes).
    """
    n_dims = len(schedule.simplices)
    runs = [len(r) for r in schedule.run_simplex]
    offset = np.concatenate([[0], np.cumsum(runs)]).astype(np.int64)
    n_runs = int(offset[-1])
    n_cells = 1 + 2 * n_runs
    if n_cells >= 2**31:
        raise ValueError(f"the cone has {n_cells} cells; the engine supports fewer than 2**31")
    run_dim = np.repeat(np.arange(n_dims, dtype=np.int64), runs)
    simplex = np.concatenate(schedule.run_simplex).astype(np.int64) if n_runs else np.empty(0, np.int64)
    insert = np.concatenate(schedule.run_insert).astype(np.int64) if n_runs else np.empty(0, np.int64)
    delete = np.concatenate(schedule.run_delete).astype(np.int64) if n_runs else np.empty(0, np.int64)
    if reorder:
        up_order = np.lexsort((simplex, -delete, run_dim, insert))
        cone_order = np.lexsort((simplex, insert, run_dim, -delete))
    else:
        up_order = np.lexsort((simplex, run_dim, insert))
        cone_order = np.lexsort((simplex, run_dim, -delete))
    up_pos = np.empty(n_runs, np.int64)
    up_pos[up_order] = 1 + np.arange(n_runs)
    cone_pos = np.empty(n_runs, np.int64)
    cone_pos[cone_order] = 1 + n_runs + np.arange(n_runs)

    dimension = np.zeros(n_cells, np.int8)
    dimension[up_pos] = run_dim
    dimension[cone_pos] = run_dim + 1
    step = np.full(n_cells, -1, np.int64)
    step[up_pos] = insert
    step[cone_pos] = delete
    coned = np.zeros(n_cells, bool)
    coned[0] = True
    coned[cone_pos] = True
    base_dim = np.full(n_cells, -1, np.int64)
    base_dim[up_pos] = run_dim
    base_dim[cone_pos] = run_dim
    base_row = np.full(n_cells, -1, np.int64)
    base_row[up_pos] = simplex
    base_row[cone_pos] = simplex

    sizes = np.where(dimension > 0, dimension.astype(np.int64) + 1, 0)  # up vertices and the apex: empty
    col_ptr = np.zeros(n_cells + 1, np.int64)
    np.cumsum(sizes, out=col_ptr[1:])
    rows = np.empty(int(col_ptr[-1]), np.int32)
    faces = _FaceIndex(schedule.simplices)
    n_steps = 2 * schedule.n_layers + 1
    for d in range(n_dims):
        lo, hi = offset[d], offset[d + 1]
        if hi == lo:
            continue
        own_up = up_pos[lo:hi]
        if d == 0:
            face_up = np.empty((hi - lo, 0), np.int64)
            face_cone = np.zeros((hi - lo, 1), np.int64)  # the apex
        else:
            face_run = _face_runs(schedule, d, faces.facets(d), n_steps) + offset[d - 1]
            face_up, face_cone = up_pos[face_run], cone_pos[face_run]
        _scatter(rows, col_ptr, own_up, face_up)
        _scatter(rows, col_ptr, cone_pos[lo:hi], np.column_stack([own_up, face_cone]))
    return ConeMatrix(dimension, step, coned, base_dim, base_row, col_ptr, rows)


def _face_runs(schedule: ZigzagSchedule, d: int, facets: np.ndarray, n_steps: int) -> np.ndarray:
    """For each run of a d-simplex, the run (index in dimension d - 1) of each facet that contains it."""
    sid, ins, dele = schedule.run_simplex[d], schedule.run_insert[d], schedule.run_delete[d]
    f_sid, f_ins, f_del = schedule.run_simplex[d - 1], schedule.run_insert[d - 1], schedule.run_delete[d - 1]
    face = facets[sid]  # (runs, d + 1) facet rows
    keys = f_sid.astype(np.int64) * n_steps + f_ins  # ascending: runs sorted by (simplex, step)
    found = np.searchsorted(keys, face * n_steps + ins[:, None], side="right") - 1
    ok = found >= 0
    safe = np.maximum(found, 0)
    ok &= (f_sid[safe] == face) & (f_del[safe] >= dele[:, None])
    if not ok.all():
        raise ValueError(
            f"the schedule is not a zigzag of simplicial complexes: some {d}-simplex is present at a step "
            "where one of its faces is not"
        )
    return safe


def _scatter(rows: np.ndarray, col_ptr: np.ndarray, columns: np.ndarray, entries: np.ndarray) -> None:
    """Write ``entries[i]`` as the boundary of cell ``columns[i]``."""
    if entries.shape[1]:
        rows[col_ptr[columns][:, None] + np.arange(entries.shape[1])] = entries


def bars_from_pairs(cone: ConeMatrix, births: np.ndarray, deaths: np.ndarray) -> dict:
    """Zigzag bars from the cone's persistence pairs (``init_zigzag_diagrams``' rules).

    For a pair (i, j), i < j, with times t_i and t_j:

    * both cells up: a bar of dimension ``dim i``, ``[t_i, t_j)``, type ``co``;
    * both coned: dimension ``dim i - 1``, ``[t_j, t_i)``, type ``oc``;
    * i up, j coned: ``cc`` with dimension ``dim i``, ``[t_i, t_j)`` when
      t_i < t_j, else ``oo`` with dimension ``dim i - 1``, ``[t_j, t_i)``.

    Pairs with equal times give no bar.

    Returns
    -------
    dict with ndarrays ``dimension``, ``birth_step``, ``death_step``, ``interval_type`` (unsorted)
    """
    i, j = np.asarray(births, np.int64), np.asarray(deaths, np.int64)
    ti, tj = cone.step[i], cone.step[j]
    ci, cj = cone.coned[i], cone.coned[j]
    dim_i = cone.dimension[i].astype(np.int64)
    keep = ti != tj
    i_up_j_cone = ~ci & cj
    swapped = (ci & cj) | (i_up_j_cone & (ti > tj))
    dimension = np.where(swapped, dim_i - 1, dim_i)
    birth = np.where(swapped, tj, ti)
    death = np.where(swapped, ti, tj)
    kind = np.where(~ci & ~cj, "co", np.where(ci & cj, "oc", np.where(ti > tj, "oo", "cc")))
    return {
        "dimension": dimension[keep],
        "birth_step": birth[keep],
        "death_step": death[keep],
        "interval_type": kind[keep].astype("<U2"),
    }
