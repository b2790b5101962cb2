"""The Dey–Hou cone of a window of a zigzag, read forward or backward, reduced by dionysus one dimension at a time.

Cone cells: the cone vertex ``w`` (position 0); one *up* cell per presence
run at its insertion step; one *coned* cell ``w * sigma`` (one dimension
higher) per run at its deletion step. Up cells come first (insertion step,
then dimension), coned cells after them (deletion step descending, then
dimension). A face of a cell is the copy of that face alive at the cell's
step; for a coned cell, just before its deletion.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ..filtration import ZigzagSchedule

log = logging.getLogger("zigzag.representatives")


def _face_rows(rows: np.ndarray, faces: np.ndarray, n_points: int) -> np.ndarray:
    """Index of each face in ``rows`` (distinct, lexicographic); every face must be there."""
    width = rows.shape[1]
    if width * np.log2(max(n_points, 2)) < 62:
        radix = np.int64(max(n_points, 2)) ** np.arange(width - 1, -1, -1, dtype=np.int64)
        return np.searchsorted(rows @ radix, faces @ radix)
    _, inverse = np.unique(np.concatenate([rows, faces]), axis=0, return_inverse=True)
    return inverse.ravel()[len(rows):]


class Runs:
    """Every presence run of a schedule once (ids by dimension), with the runs of its faces at both ends."""

    def __init__(self, schedule: ZigzagSchedule, top: int):
        self.n_dims = min(len(schedule.simplices), top + 1)
        self.start = np.cumsum([0] + [len(schedule.run_simplex[d]) for d in range(self.n_dims)])
        self.dim = np.repeat(np.arange(self.n_dims), np.diff(self.start))
        self.insert = np.concatenate(schedule.run_insert[: self.n_dims]).astype(np.int64)
        self.delete = np.concatenate(schedule.run_delete[: self.n_dims]).astype(np.int64)
        self.vertices = [schedule.simplices[d][schedule.run_simplex[d]] for d in range(self.n_dims)]
        self.last = 2 * schedule.n_layers - 1  # the final deletion
        n_points = len(schedule.simplices[0])
        big = self.last + 2
        self.face_at_insert, self.face_at_delete = {}, {}  # dimension d >= 1 -> (n_runs_d, d + 1) face run ids
        for d in range(1, self.n_dims):
            lower = schedule.run_simplex[d - 1] * big + schedule.run_insert[d - 1]
            at_insert = np.empty((len(self.vertices[d]), d + 1), dtype=np.int64)
            at_delete = np.empty_like(at_insert)
            for c in range(d + 1):
                row = _face_rows(schedule.simplices[d - 1], np.delete(self.vertices[d], c, axis=1), n_points)
                for step, out in ((schedule.run_insert[d], at_insert), (schedule.run_delete[d] - 1, at_delete)):
                    out[:, c] = np.searchsorted(lower, row * big + step, side="right") - 1 + self.start[d - 1]
            self.face_at_insert[d], self.face_at_delete[d] = at_insert, at_delete

    def of_dim(self, d: int) -> np.ndarray:
        if d < 0 or d >= self.n_dims:
            return np.empty(0, dtype=np.int64)
        return np.arange(self.start[d], self.start[d + 1])

    def count(self, d: int, lo: int, hi: int, *, deleted_from=None, inserted_until=None) -> int:
        """Runs of dimension d alive somewhere in steps lo..hi, optionally deleted from / inserted until a step."""
        ids = self.of_dim(d)
        alive = (self.insert[ids] <= hi) & (self.delete[ids] > lo)
        if deleted_from is not None:
            alive &= self.delete[ids] >= deleted_from
        if inserted_until is not None:
            alive &= self.insert[ids] <= inserted_until
        return int(np.count_nonzero(alive))


class Cone:
    """The cone of the zigzag restricted to steps ``lo..hi``, in that window's time, forward or backward.

    The window's zigzag starts from nothing, takes ``K_lo`` at its step 0 and
    deletes everything after ``K_hi``. Read backward, window step t is the
    forward step ``last - 1 - t``.
    """

    def __init__(self, runs: Runs, lo: int, hi: int, backward: bool):
        self.runs, self.backward, self.lo, self.hi = runs, backward, lo, hi
        self.last = hi + 1 - lo
        selected = (runs.insert <= hi) & (runs.delete > lo)
        insert = np.maximum(runs.insert, lo) - lo
        delete = np.minimum(runs.delete, hi + 1) - lo
        if backward:  # alive on a..e-1 forward is alive on last-e .. last-1-a backward
            insert, delete = self.last - delete, self.last - insert
            self.face_up, self.face_coned = runs.face_at_delete, runs.face_at_insert
        else:
            self.face_up, self.face_coned = runs.face_at_insert, runs.face_at_delete
        self.insert, self.delete, self.selected = insert, delete, selected
        ids = np.flatnonzero(selected)
        n = len(ids)
        up_order = ids[np.lexsort((ids, runs.dim[ids], insert[ids]))]
        coned_order = ids[np.lexsort((ids, runs.dim[ids], -delete[ids]))]
        self.up_pos = np.full(len(selected), -1, dtype=np.int64)
        self.up_pos[up_order] = 1 + np.arange(n)
        self.coned_pos = np.full(len(selected), -1, dtype=np.int64)
        self.coned_pos[coned_order] = 1 + n + np.arange(n)
        self.run_at = np.concatenate([[-1], up_order, coned_order])  # cone position -> run
        self.is_up_at = np.arange(1 + 2 * n) <= n

    def of_dim(self, d: int) -> np.ndarray:
        ids = self.runs.of_dim(d)
        return ids[self.selected[ids]]

    def reduce(self, q: int, threshold: int, *, with_v: bool, cleared=()) -> "Reduction":
        """Reduce the columns of cone dimension q in the prefix whose coned cells are deleted at or after ``threshold``.

        The rows (cells of dimension q - 1) are empty placeholder columns;
        ``cleared`` holds cone positions of columns known to be positive,
        which are left out.
        """
        import dionysus

        started = time.perf_counter()
        runs = self.runs
        up_rows, coned_rows = self.of_dim(q - 1), self.of_dim(q - 2)
        up_cols, coned_cols = self.of_dim(q), self.of_dim(q - 1)
        coned_rows = coned_rows[self.delete[coned_rows] >= threshold]
        coned_cols = coned_cols[self.delete[coned_cols] >= threshold]
        if len(cleared):
            up_cols = up_cols[~np.isin(self.up_pos[up_cols], cleared)]
            coned_cols = coned_cols[~np.isin(self.coned_pos[coned_cols], cleared)]
        up_faces = self.up_pos[self.face_up[q][up_cols - runs.start[q]]] if len(up_cols) else np.empty((0, q + 1))
        if q - 1 >= 1:
            lower = self.coned_pos[self.face_coned[q - 1][coned_cols - runs.start[q - 1]]]
        else:
            lower = np.zeros((len(coned_cols), 1), dtype=np.int64)  # the face of a coned vertex is w
        coned_faces = np.concatenate([self.up_pos[coned_cols][:, None], lower], axis=1)
        col_pos = np.concatenate([self.up_pos[up_cols], self.coned_pos[coned_cols]])
        pos = np.sort(np.concatenate([[0] if q == 1 else [], self.up_pos[up_rows], self.coned_pos[coned_rows],
                                      col_pos]).astype(np.int64))
        columns = np.searchsorted(pos, col_pos)
        matrix = dionysus.ReducedMatrix(dionysus.Zp(2))
        matrix.resize(len(pos))
        for faces in (up_faces, coned_faces):
            if not len(faces):
                continue
            rows = np.sort(np.searchsorted(pos, faces.astype(np.int64)), axis=1).tolist()
            for j, column in zip(columns[: len(faces)].tolist(), rows):
                matrix[j] = [(1, i) for i in column]
            columns = columns[len(faces):]
        is_column = np.zeros(len(pos), dtype=bool)
        is_column[np.searchsorted(pos, col_pos)] = True
        built = time.perf_counter()
        filtration = dionysus.MatrixFiltration(matrix, np.where(is_column, q, q - 1).tolist(), pos.astype(float).tolist())
        result = dionysus.homology_persistence(filtration, method="matrix_v" if with_v else "column")
        reduced, v = result if with_v else (result, None)
        log.info("cone of steps %d..%d %s, dimension %d from window step %d: %d columns%s "
                 "(%.2f s to build, %.2f s to reduce)", self.lo, self.hi, "backward" if self.backward else "forward",
                 q, threshold, int(is_column.sum()), " with V" if with_v else "", built - started,
                 time.perf_counter() - built)
        return Reduction(self, q, pos, np.flatnonzero(is_column), reduced, v)


class Reduction:
    """One reduced dimension of a cone: its pairs and the columns of ``R`` and ``V``, in cone terms."""

    def __init__(self, cone: Cone, q: int, pos: np.ndarray, columns: np.ndarray, reduced, v):
        self.cone, self.q, self.pos, self.columns, self.reduced, self.v = cone, q, pos, columns, reduced, v

    def runs_of(self, local) -> tuple:
        """(is_up, run) of local indices; the cone vertex counts as up, with run -1."""
        position = self.pos[np.asarray(local, dtype=np.int64)]
        return self.cone.is_up_at[position], self.cone.run_at[position]

    def lows(self) -> np.ndarray:
        """Cone positions of the rows paired with a column: positive cells of the dimension below."""
        pair, unpaired = self.reduced.pair, self.reduced.unpaired
        rows = [i for i in map(pair, self.columns.tolist()) if i != unpaired]
        return np.sort(self.pos[np.asarray(rows, dtype=np.int64)])

    def bars(self, candidates: np.ndarray) -> list:
        """``(type, dimension, birth, death, j)`` of the candidate columns j that end a bar (cone time)."""
        cone, out = self.cone, []
        for j in candidates.tolist():
            i = self.reduced.pair(j)
            if i == self.reduced.unpaired or i > j:
                continue
            (i_up, j_up), (ri, rj) = self.runs_of([i, j])
            if ri < 0:
                continue  # the cone vertex starts no bar
            ti = cone.insert[ri] if i_up else cone.delete[ri]
            tj = cone.insert[rj] if j_up else cone.delete[rj]
            if i_up and j_up:
                bar = ("co", self.q - 1, ti, tj)
            elif not i_up:
                bar = ("oc", self.q - 2, tj, ti)
            elif ti < tj:
                bar = ("cc", self.q - 1, ti, tj)
            else:
                bar = ("oo", self.q - 2, tj, ti)
            if bar[2] != bar[3]:
                out.append((bar[0], int(bar[1]), int(bar[2]), int(bar[3]), j))
        return out

    def chain(self, j: int, which: str) -> tuple:
        """(is_up, run) of the entries of column j of ``R`` or ``V``."""
        column = self.reduced[j] if which == "R" else self.v[j]
        return self.runs_of([entry.index for entry in column if entry.element % 2])

    def columns_at(self, up: bool, dim: int, steps) -> np.ndarray:
        """Local indices of the columns of up (or coned) cells of simplex dimension ``dim`` at the given steps."""
        cone = self.cone
        ids = cone.of_dim(dim)
        ids = ids[np.isin((cone.insert if up else cone.delete)[ids], list(steps))]
        position = (cone.up_pos if up else cone.coned_pos)[ids]
        if not len(position):
            return np.empty(0, dtype=np.int64)
        local = np.minimum(np.searchsorted(self.pos, position), len(self.pos) - 1)
        return np.sort(local[self.pos[local] == position])


def slice_chain(reduction: Reduction, kind: str, p: int, birth: int, death: int, step: int, j: int) -> np.ndarray:
    """The representative at ``step`` (cone time) of the bar ended by column j, as sorted p-simplex rows.

    The apex representative of the pair, sliced (mod 2):

    * ``co``: the boundary of the cells of ``V[j]`` inserted after ``step``;
    * ``cc``: the up cells of ``R[j]``, plus the boundary of the up cells of
      ``V[j]`` inserted at or before ``step``;
    * ``oc``: the boundary of the up cells of ``R[j]`` whose copy is deleted at
      or before ``step``;
    * ``oo``: the boundary of the cells of ``R[j]`` placed after ``step`` (up
      cells by insertion; a coned cell ``w * tau`` by deletion, giving ``tau``),

    each over the cells whose step lies within ``birth..death``.
    """
    cone = reduction.cone
    runs = cone.runs
    pieces = [np.empty((0, p + 1), dtype=np.int64)]

    def in_life(key):
        return (key >= birth) & (key <= death)

    def faces(ids):
        verts = runs.vertices[p + 1][ids - runs.start[p + 1]]
        return np.concatenate([np.delete(verts, c, axis=1) for c in range(p + 2)])

    def own(ids):
        return runs.vertices[p][ids - runs.start[p]]

    if kind == "co":
        up, run = reduction.chain(j, "V")
        run = run[up]
        key = cone.insert[run]
        pieces.append(faces(run[in_life(key) & (key > step)]))
    elif kind == "cc":
        up, run = reduction.chain(j, "R")
        pieces.append(own(run[up & (run >= 0)]))
        up, run = reduction.chain(j, "V")
        run = run[up]
        key = cone.insert[run]
        pieces.append(faces(run[in_life(key) & (key <= step)]))
    elif kind == "oc":
        up, run = reduction.chain(j, "R")
        run = run[up]
        key = cone.delete[run]
        pieces.append(faces(run[in_life(key) & (key <= step)]))
    else:  # oo
        up, run = reduction.chain(j, "R")
        key = np.where(up, cone.insert[run], cone.delete[run])
        keep = in_life(key) & (key > step)
        pieces.append(faces(run[keep & up]))
        pieces.append(own(run[keep & ~up]))
    rows = np.concatenate(pieces)
    if not len(rows):
        return rows
    uniq, counts = np.unique(rows, axis=0, return_counts=True)
    return uniq[counts % 2 == 1]
