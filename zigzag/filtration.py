"""The zigzag schedule: when each simplex is inserted and deleted.

Layers ``K_0 .. K_{n-1}`` are linked either through intersections
(``K_l ⊇ K_l ∩ K_{l+1} ⊆ K_{l+1}``, the paper's choice) or unions
(``K_l ⊆ K_l ∪ K_{l+1} ⊇ K_{l+1}``). Step ``2l`` is layer ``l`` and step
``2l+1`` the link between ``l`` and ``l+1``. A simplex present in the
consecutive layers ``a .. b`` (a maximal run) is

* intersection zigzag: inserted at step ``2a``, deleted at ``2b + 1``;
* union zigzag: inserted at ``max(2a - 1, 0)``, deleted at ``2b + 2``
  (``2n - 1`` when ``b = n - 1``).

Step ``2n - 1`` deletes everything still alive, so every bar is finite.
Going into an intersection only deletes and going out only inserts (the
reverse for unions), so no step mixes insertions and deletions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_option

__all__ = ["ZigzagSchedule", "zigzag_schedule", "ZIGZAGS"]

ZIGZAGS = ("intersection", "union")


@dataclass(frozen=True, eq=False)
class ZigzagSchedule:
    """Every simplex of the zigzag once, with its insertion/deletion steps.

    Attributes
    ----------
    simplices : tuple of ndarray
        ``simplices[d]`` of shape (m_d, d + 1): each distinct d-simplex of any
        layer, in lexicographic order. Faces come before cofaces when the
        levels are concatenated (the order dionysus needs).
    run_simplex, run_insert, run_delete : tuple of ndarray
        Per dimension, one entry per maximal presence run: the simplex's row
        in ``simplices[d]``, its insertion step and its deletion step, sorted
        by (simplex, step).
    n_layers : int
    kind : {"intersection", "union"}
    """

    simplices: tuple
    run_simplex: tuple
    run_insert: tuple
    run_delete: tuple
    n_layers: int
    kind: str

    @property
    def n_simplices(self) -> int:
        return sum(len(s) for s in self.simplices)

    @property
    def n_operations(self) -> int:
        """Insertions plus deletions."""
        return 2 * sum(len(r) for r in self.run_simplex)

    def to_dionysus_input(self) -> tuple[list, list]:
        """``(simplices, times)`` lists as dionysus' zigzag functions take them."""
        simplices, times = [], []
        for d, verts in enumerate(self.simplices):
            flat = np.column_stack([self.run_insert[d], self.run_delete[d]]).ravel().tolist()
            ends = (2 * np.searchsorted(self.run_simplex[d], np.arange(len(verts) + 1))).tolist()
            simplices.extend(verts.tolist())
            times.extend([flat[a:b] for a, b in zip(ends[:-1], ends[1:])])
        return simplices, times


def _row_keys(rows: np.ndarray, n_points: int):
    """Encode sorted vertex tuples as int64 keys (mixed radix), or None when they would overflow."""
    width = rows.shape[1]
    if width * np.log2(max(n_points, 2)) >= 62:
        return None
    keys = np.zeros(len(rows), dtype=np.int64)
    for col in range(width):
        keys = keys * n_points + rows[:, col]
    return keys


def _unique_rows(rows: np.ndarray, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows in lexicographic order and, for each input row, its index among them."""
    keys = _row_keys(rows, n_points)
    if keys is None:
        return np.unique(rows, axis=0, return_inverse=True)
    uniq, inverse = np.unique(keys, return_inverse=True)
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inverse] = np.arange(len(rows))
    return rows[first], inverse.ravel()


def zigzag_schedule(complexes, *, kind: str = "intersection") -> ZigzagSchedule:
    """Insertion and deletion steps of every simplex across the layers' complexes.

    Parameters
    ----------
    complexes : sequence of FlagComplex
        One per layer, on the same vertices ``0 .. n_points-1``, all truncated
        at the same simplex dimension.
    kind : {"intersection", "union"}, default="intersection"

    Returns
    -------
    ZigzagSchedule
    """
    kind = check_option(kind, "zigzag", ZIGZAGS, caller="zigzag_schedule")
    n = len(complexes)
    n_points = complexes[0].n_points
    top = max(c.max_simplex_dim for c in complexes)
    simplices, run_simplex, run_insert, run_delete = [], [], [], []
    for d in range(top + 1):
        per_layer = [c.simplices[d] if d <= c.max_simplex_dim else np.empty((0, d + 1), np.int64) for c in complexes]
        sizes = [len(s) for s in per_layer]
        if sum(sizes) == 0:
            simplices.append(np.empty((0, d + 1), dtype=np.int64))
            run_simplex.append(np.empty(0, np.int64))
            run_insert.append(np.empty(0, np.int64))
            run_delete.append(np.empty(0, np.int64))
            continue
        rows = np.concatenate(per_layer)
        layer = np.repeat(np.arange(n, dtype=np.int64), sizes)
        uniq, sid = _unique_rows(rows, n_points)
        order = np.lexsort((layer, sid))
        sid, layer = sid[order], layer[order]
        starts = np.ones(len(sid), dtype=bool)
        starts[1:] = (sid[1:] != sid[:-1]) | (layer[1:] != layer[:-1] + 1)
        first = np.flatnonzero(starts)
        last = np.r_[first[1:] - 1, len(sid) - 1]
        a, b = layer[first], layer[last]
        if kind == "intersection":
            insert, delete = 2 * a, 2 * b + 1
        else:
            insert = np.maximum(2 * a - 1, 0)
            delete = np.where(b < n - 1, 2 * b + 2, 2 * n - 1)
        simplices.append(uniq)
        run_simplex.append(sid[first])
        run_insert.append(insert)
        run_delete.append(delete)
    return ZigzagSchedule(tuple(simplices), tuple(run_simplex), tuple(run_insert), tuple(run_delete), n, kind)
