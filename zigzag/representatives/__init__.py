"""Representative cycles of zigzag bars, read at given steps: apex representatives of the Dey–Hou cone.

A zigzag becomes one ordinary filtration, the *cone* of Dey & Hou (the
construction behind ``dionysus.fast_zigzag``; see ``_cone.py``). Reducing its
boundary matrix ``R = D V`` pairs the cells and each pair is a bar: both up
-> ``co``; both coned -> ``oc``; up then coned -> ``cc`` when the insertion
comes first, else ``oo``. Dey, Hou & Morozov (*Apex representatives*, SoCG
2025) lift the pair's column of ``V`` or ``R`` to a cycle in space-time;
its slice at a step is a cycle of that step's complex, and the slices of all
bars of one reduction form compatible bases (an interval decomposition).
dionysus ships this lift as ``apex`` / ``point_representative``, but its
slicing is wrong on real barcodes (zero coefficients kept, the cells of one
step summed in the wrong order, the wrong end of ``co``/``oo`` intervals,
``oc`` sliced by insertion); ``_cone.slice_chain`` slices correctly.

Only what the requested bars need is computed:

* **Windows.** A bar on steps ``b..d-1`` is also a bar of the zigzag cut to
  steps ``b-1..d`` (it vanishes at both ends of that window), and a
  decomposition of the window extends to the whole zigzag, so its
  representative can be read in the window. Bars whose deaths lie close
  together share one window.
* **Prefixes.** A column's reduction depends only on the columns before it,
  so one cone dimension is reduced at a time (with ``V`` only where a bar
  needs it) and only the prefix up to the coned cells the bars end at.
  Columns known to be positive (pivots of the dimension above, reduced first
  on the same prefix) are left out, which changes no pair and no ``V`` of a
  negative column.
* **Direction.** Read backward (time reversed, ``co`` and ``oc`` swap), a bar
  ends at its birth instead of its death; each group of bars is read the way
  whose prefixes are smaller.

The reductions are dionysus' own (``homology_persistence`` on a
``MatrixFiltration``).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from .._progress import progress_bar

from ..engines import interval_types
from ..filtration import ZigzagSchedule
from ._cone import Cone, Runs, log, slice_chain

__all__ = ["bar_representatives", "DIRECTIONS"]

DIRECTIONS = ("auto", "forward", "backward")
_SPREAD = 4  # bars whose ends (in the direction read) lie within this many steps share one window
_V_WEIGHT = 3  # a coned cell reduced with V costs about this many reduced without it
_SWAP = {"co": "oc", "oc": "co", "cc": "cc", "oo": "oo"}


def _needs(kind: str, p: int, birth: int, death: int) -> tuple:
    """(cone dimension reduced, with V, first deletion step of the prefix or None) for a bar, in cone time."""
    if kind == "co":
        return p + 1, True, None  # up cells only
    if kind == "cc":
        return p + 1, True, death
    return p + 2, False, birth  # oc, oo: the R column of a coned (p + 1)-cell


def bar_representatives(schedule: ZigzagSchedule, dimension, birth_step, death_step, steps, *,
                        direction: str = "auto", progress: bool = False) -> list:
    """Representative cycles of the given bars, each read at the given steps.

    Parameters
    ----------
    schedule : ZigzagSchedule
        The zigzag the bars come from; its complexes must hold simplices of
        dimension ``p + 1`` for a bar of dimension p.
    dimension, birth_step, death_step : array-like of int of shape (n_bars,)
        Distinct bars of the schedule's barcode (0-based steps, alive on
        ``birth_step <= t < death_step``); equal rows are different bars
        with the same life.
    steps : sequence of n_bars sequences of int
        The steps at which to read each bar, inside its life.
    direction : {"auto", "forward", "backward"}, default="auto"
        Read the zigzag forward, backward (time reversed), or each group of
        bars the cheaper way. All give valid representatives.
    progress : bool, default=False
        Count the reductions on a progress bar (stderr).

    Returns
    -------
    list of list of ndarray of shape (m, p + 1)
        Per bar and step, the p-simplices (sorted vertex rows, in lexicographic
        order) of a mod-2 cycle of the complex at that step that is not a
        boundary there. The slices of one bar are compatible along its life
        (homologous through each inclusion, and 0 past an open end), and the
        bars read in one window form bases of the homology at every step.

    Raises
    ------
    ValueError
        When a bar is not in the schedule's barcode, or a step lies outside
        its bar.

    Examples
    --------
    A square (loop) present in both layers of a two-layer zigzag:

    >>> import numpy as np
    >>> from zigzag.complexes import flag_complex
    >>> from zigzag.filtration import zigzag_schedule
    >>> square = flag_complex([[0, 1], [1, 2], [2, 3], [0, 3]], 4, 2)
    >>> schedule = zigzag_schedule([square, square])
    >>> [[loop]] = bar_representatives(schedule, [1], [0], [3], [[2]])
    >>> loop.tolist()
    [[0, 1], [0, 3], [1, 2], [2, 3]]
    """
    dimension, birth, death = (np.asarray(a, dtype=np.int64).ravel() for a in (dimension, birth_step, death_step))
    steps = [np.asarray(s, dtype=np.int64).ravel() for s in steps]
    if not (len(dimension) == len(birth) == len(death) == len(steps)):
        raise ValueError("dimension, birth_step, death_step and steps must have the same length (one per bar).")
    for i, s in enumerate(steps):
        if np.any((s < birth[i]) | (s >= death[i])):
            raise ValueError(f"bar {i} lives on steps {birth[i]}..{death[i] - 1}; it cannot be read at steps {s.tolist()}.")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}.")
    if not len(dimension):
        return []
    top = int(dimension.max()) + 1
    if top >= len(schedule.simplices):
        raise ValueError(f"Representatives of H{top - 1} need simplices of dimension {top}; "
                         f"build the complexes with max_dim >= {top - 1}.")
    runs = Runs(schedule, top)
    kinds = [str(t) for t in interval_types(birth, death, n_layers=schedule.n_layers, kind=schedule.kind)]
    out = [None] * len(dimension)
    with progress_bar(desc="representatives (reductions)", unit="reduction", disable=not progress, leave=False) as bar:
        for backward, lo, hi, members in _plan(runs, dimension, kinds, birth, death, direction):
            cone = Cone(runs, lo, hi, backward)
            readings = {}
            for i in members:  # (kind, birth, death, steps) in the window's time, read its way
                b, d, s = birth[i] - lo, death[i] - lo, steps[i] - lo
                if backward:
                    readings[i] = (_SWAP[kinds[i]], cone.last - d, cone.last - b, cone.last - 1 - s)
                else:
                    readings[i] = (kinds[i], b, d, s)
            _read(cone, dimension, readings, out, bar)
    return out


def _groups(keys: np.ndarray, members: np.ndarray) -> list:
    """Members sorted by key, cut wherever a group's keys would spread over more than ``_SPREAD`` steps."""
    order = members[np.lexsort((members, keys[members]))]
    groups, current = [], []
    for i in order.tolist():
        if current and keys[i] - keys[current[0]] > _SPREAD:
            groups.append(current)
            current = []
        current.append(i)
    return groups + [current] if current else groups


def _plan(runs: Runs, dimension, kinds, birth, death, direction: str) -> list:
    """``(backward, lo, hi, members)`` for each window, choosing the cheaper direction per dimension.

    The cost counted for a window: its up cells, plus the coned cells of the
    prefixes its bars need (weighted by ``_V_WEIGHT`` when reduced with V).
    """
    plans = []
    for p in np.unique(dimension).tolist():
        members = np.flatnonzero(dimension == p)
        options = []
        for backward in (False, True):
            if direction != "auto" and (direction == "backward") != backward:
                continue
            option, cost = [], 0.0
            for group in _groups(birth if backward else death, members):  # where each bar ends, read this way
                lo = max(int(birth[group].min()) - 1, 0)
                hi = min(int(death[group].max()), runs.last - 1)
                option.append((backward, lo, hi, group))
                cost += 0.3 * (runs.count(p, lo, hi) + runs.count(p + 1, lo, hi))
                read_as = [_SWAP[kinds[i]] if backward else kinds[i] for i in group]
                closed = [i for i, kind in zip(group, read_as) if kind == "cc"]
                if closed:  # the coned p-cells after the earliest end, reduced with V, and the clearing above them
                    if backward:
                        prefix = runs.count(p, lo, hi, inserted_until=int(birth[closed].max()))
                    else:
                        prefix = runs.count(p, lo, hi, deleted_from=int(death[closed].min()))
                    cost += (_V_WEIGHT + 1) * prefix
                if any(kind in ("oc", "oo") for kind in read_as):
                    cost += runs.count(p + 1, lo, hi)
            options.append((cost, option))
        plans += min(options, key=lambda item: item[0])[1]
    return plans


def _read(cone: Cone, dimension, readings: dict, out: list, bar) -> None:
    """Representatives of the bars in ``readings`` (window time), read in one cone, into ``out``."""
    needs = defaultdict(list)  # cone dimension -> bars
    thresholds, with_v = {}, set()
    for i, (kind, b, d, _) in readings.items():
        q, v, threshold = _needs(kind, int(dimension[i]), b, d)
        needs[q].append(i)
        if v:
            with_v.add(q)
        if threshold is not None:
            thresholds[q] = min(thresholds.get(q, threshold), threshold)
    reductions = {}
    for q in sorted(needs, reverse=True):  # the dimension above first: its pivots clear this one's columns
        threshold = thresholds.get(q, cone.last + 1)
        cleared = ()
        if q in with_v:
            upper = reductions.get(q + 1)  # any prefix's pivots are positive cells
            if upper is None:
                upper = cone.reduce(q + 1, threshold, with_v=False)
                bar.update()
            cleared = upper.lows()
        reductions[q] = cone.reduce(q, threshold, with_v=q in with_v, cleared=cleared)
        bar.update()
    for q, indices in needs.items():
        reduction = reductions[q]
        wanted = defaultdict(list)
        for i in indices:
            kind, b, d, _ = readings[i]
            wanted[(kind, int(dimension[i]), b, d)].append(i)
        found = defaultdict(list)
        for kind, p, b, d, j in reduction.bars(_candidate_columns(reduction, wanted)):
            found[(kind, p, b, d)].append(j)
        for key, bar_ids in wanted.items():
            if len(found[key]) < len(bar_ids):
                kind, p, b, d = key
                raise ValueError(
                    f"{len(bar_ids)} H{p} bar(s) were requested on window steps {b}..{d - 1} of zigzag steps "
                    f"{cone.lo}..{cone.hi}, but that window has {len(found[key])}: the bars must come from these "
                    "clouds with the same k, metric, graph and zigzag."
                )
            for i, j in zip(bar_ids, found[key]):
                kind, b, d, steps = readings[i]
                out[i] = [slice_chain(reduction, kind, int(dimension[i]), b, d, int(s), j) for s in steps]
    log.info("read %d bars in the cone of steps %d..%d (%s)", len(readings), cone.lo, cone.hi,
             "backward" if cone.backward else "forward")


def _candidate_columns(reduction, wanted: dict) -> np.ndarray:
    """Local indices of the columns whose cell could end a wanted bar (its death, or its birth for oc/oo)."""
    by_cell = defaultdict(set)  # (up, simplex dimension) -> steps
    for kind, p, b, d in wanted:
        if kind == "co":
            by_cell[(True, p + 1)].add(d)
        elif kind == "cc":
            by_cell[(False, p)].add(d)
        else:
            by_cell[(False, p + 1)].add(b)
    parts = [reduction.columns_at(up, dim, steps) for (up, dim), steps in by_cell.items()]
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
