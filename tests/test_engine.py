"""The fast engine (numpy cone + compiled twist reduction) against dionysus and brute force.

* the cone matrix equals dionysus' own ``fast_zigzag`` cone cell by cell (same cells, same times,
  each face pointing to the copy dionysus' filtration finds) before reordering;
* the reordered cone is the same set of cells, still a filtration (faces first, levels kept);
* the persistence pairs equal a plain column reduction over Z/2 written out in Python;
* the bars equal dionysus' fast and classic engines on random zigzags of random flag complexes,
  both zigzag kinds, max_dim 0 to 3, tie-heavy and duplicated-point clouds.

Bars are compared, never pair indices across different orders: reordering inside a level changes
which cells pair, not the bars.
"""

import itertools

import dionysus
import numpy as np
import pytest

from zigzag.complexes import flag_complex
from zigzag.engines.cone import bars_from_pairs, cone_matrix
from zigzag.engines import ENGINES, zigzag_bars
from zigzag.filtration import zigzag_schedule
from zigzag.pipeline import compute, layer_complexes
from zigzag.engines.reduction import persistence_pairs


def random_graph_zigzag(rng, *, max_simplex_dim, kind):
    """A zigzag of flag complexes of random graphs that drift from layer to layer."""
    n_layers = int(rng.integers(2, 6))
    n_points = int(rng.integers(3, 11))
    pairs = list(itertools.combinations(range(n_points), 2))
    present = rng.random(len(pairs)) < rng.uniform(0.2, 0.8)
    complexes = []
    for _ in range(n_layers):
        edges = np.array([p for p, keep in zip(pairs, present) if keep], dtype=np.int64).reshape(-1, 2)
        complexes.append(flag_complex(edges, n_points, max_simplex_dim))
        flip = rng.random(len(pairs)) < rng.uniform(0.05, 0.5)
        present = present ^ flip
    return zigzag_schedule(complexes, kind=kind)


def dionysus_cells(schedule):
    """dionysus' cone: per cell (vertices, time, boundary as the cells its filtration's lookup finds)."""
    simplices, times = schedule.to_dionysus_input()
    cone = dionysus.fast_zigzag(simplices, times)
    cells = []
    for i, cell in enumerate(cone):
        faces = sorted(cone.index(face, i) for face in cell.boundary())
        cells.append((sorted(int(v) for v in cell), cell.data, faces))
    return cells


def our_cells(cone, schedule):
    cells = []
    for i in range(cone.n_cells):
        if i == 0:
            verts = [-1]
        else:
            verts = sorted(schedule.simplices[cone.base_dim[i]][cone.base_row[i]].tolist() + ([-1] if cone.coned[i] else []))
        cells.append((verts, cone.step[i], sorted(cone.column(i).tolist())))
    return cells


def test_cone_equals_dionysus_cone_cell_by_cell():
    rng = np.random.default_rng(7)
    for case in range(80):
        kind = ("intersection", "union")[case % 2]
        schedule = random_graph_zigzag(rng, max_simplex_dim=int(rng.integers(1, 4)), kind=kind)
        ours = our_cells(cone_matrix(schedule, reorder=False), schedule)
        theirs = dionysus_cells(schedule)
        assert len(ours) == len(theirs)
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if i == 0:
                assert b[0] == [-1] and a[2] == b[2] == []
                continue
            assert a[0] == b[0] and a[1] == b[1] and a[2] == b[2], (case, i, a, b)


def test_reordered_cone_is_a_filtration_of_the_same_cells():
    rng = np.random.default_rng(8)
    for case in range(40):
        schedule = random_graph_zigzag(rng, max_simplex_dim=3, kind=("intersection", "union")[case % 2])
        plain, fast = cone_matrix(schedule, reorder=False), cone_matrix(schedule)
        key = lambda c, i: (int(c.base_dim[i]), int(c.base_row[i]), bool(c.coned[i]), int(c.step[i]))  # noqa: E731
        position = {key(plain, i): i for i in range(plain.n_cells)}
        moved = np.array([position[key(fast, i)] for i in range(fast.n_cells)])
        assert sorted(moved.tolist()) == list(range(plain.n_cells))
        # the same level (time, dimension, up/coned) at every position, so the same bars
        assert np.array_equal(fast.step, plain.step) and np.array_equal(fast.dimension, plain.dimension)
        for i in range(fast.n_cells):
            faces = fast.column(i)
            assert np.all(faces < i)  # faces come first
            assert sorted(moved[faces].tolist()) == sorted(plain.column(moved[i]).tolist())  # same faces


def brute_force_pairs(cone):
    """Standard column reduction over Z/2, every column, Python sets: the independent oracle."""
    low_owner, pairs, reduced = {}, set(), {}
    for j in range(cone.n_cells):
        column = set(cone.column(j).tolist())
        while column and max(column) in low_owner:
            column ^= reduced[low_owner[max(column)]]
        if column:
            low_owner[max(column)] = j
            reduced[j] = column
            pairs.add((max(column), j))
    return pairs


def test_persistence_pairs_equal_a_plain_column_reduction():
    rng = np.random.default_rng(9)
    for case in range(60):
        schedule = random_graph_zigzag(rng, max_simplex_dim=int(rng.integers(1, 4)), kind=("intersection", "union")[case % 2])
        for reorder in (False, True):
            cone = cone_matrix(schedule, reorder=reorder)
            births, deaths, stats = persistence_pairs(cone)
            assert set(zip(births.tolist(), deaths.tolist())) == brute_force_pairs(cone)
            assert stats["additions"] >= 0


def all_engines(schedule, max_dim, engines=ENGINES):
    return {engine: zigzag_bars(schedule, max_dim=max_dim, engine=engine) for engine in engines}


def assert_same(results):
    first = results["fast"]
    for engine, bars in results.items():
        for key in first:
            assert np.array_equal(first[key], bars[key]), (engine, key)


@pytest.mark.parametrize("kind", ["intersection", "union"])
def test_fast_engine_matches_dionysus_and_classic_on_random_graph_zigzags(kind):
    rng = np.random.default_rng(10 if kind == "intersection" else 11)
    for _ in range(500):
        max_dim = int(rng.integers(0, 4))
        schedule = random_graph_zigzag(rng, max_simplex_dim=max_dim + 1, kind=kind)
        assert_same(all_engines(schedule, max_dim))


@pytest.mark.parametrize("max_dim", [0, 1, 2, 3, 4])
def test_fast_engine_on_every_max_dim_and_both_kinds(max_dim):
    rng = np.random.default_rng(100 + max_dim)
    for case in range(12):
        x = rng.normal(size=(4, 24, 3)).cumsum(axis=0)
        kind = ("intersection", "union")[case % 2]
        schedule = zigzag_schedule(layer_complexes(x, k=int(rng.integers(3, 7)), max_dim=max_dim, progress=False),
                                   kind=kind)
        engines = ENGINES if max_dim <= 2 else ("fast", "dionysus")  # classic is slow on large complexes
        assert_same(all_engines(schedule, max_dim, engines))


def test_fast_engine_on_tie_heavy_and_duplicated_points():
    rng = np.random.default_rng(12)
    for case in range(30):
        n_points = int(rng.integers(8, 40))
        lattice = rng.integers(-2, 3, size=(3, n_points, 2)).astype(float)  # many exact ties
        stacked = rng.normal(size=(3, n_points // 3 + 1, 3))[:, rng.integers(0, n_points // 3 + 1, n_points)]
        for x in (lattice, stacked):
            params = dict(k=int(rng.integers(1, 6)), max_dim=int(rng.integers(0, 3)),
                          zigzag=("intersection", "union")[case % 2])
            bars = {engine: compute(x, engine=engine, progress=False, **params) for engine in ENGINES}
            assert bars["fast"].same_bars(bars["dionysus"], check_types=True)
            assert bars["fast"].same_bars(bars["classic"], check_types=True)


def test_bars_from_pairs_follows_init_zigzag_diagrams():
    from zigzag.engines.cone import ConeMatrix

    # apex 0; up cells 1, 2 (vertices, t=0), 3 (edge, t=2); coned 4 (dim 2, t=5), 5 (dim 1, t=7), 6 (dim 1, t=3)
    cone = ConeMatrix(dimension=np.array([0, 0, 0, 1, 2, 1, 1], np.int8), step=np.array([-1, 0, 0, 2, 5, 7, 3]),
                      coned=np.array([1, 0, 0, 0, 1, 1, 1], bool), base_dim=np.zeros(7, np.int64),
                      base_row=np.zeros(7, np.int64), col_ptr=np.zeros(8, np.int64), rows=np.zeros(0, np.int32))
    bars = bars_from_pairs(cone, np.array([2, 1, 3, 5, 1]), np.array([3, 6, 4, 6, 2]))
    got = list(zip(bars["dimension"].tolist(), bars["birth_step"].tolist(), bars["death_step"].tolist(),
                   bars["interval_type"].tolist()))
    assert got == [
        (0, 0, 2, "co"),  # both up: dimension of the birth cell, [t_i, t_j)
        (0, 0, 3, "cc"),  # up then coned, t_i < t_j
        (1, 2, 5, "cc"),
        (0, 3, 7, "oc"),  # both coned: dimension - 1, [t_j, t_i)
    ]  # (1, 2): equal times, no bar


def test_up_then_coned_with_later_insertion_is_open_open():
    from zigzag.engines.cone import ConeMatrix

    cone = ConeMatrix(dimension=np.array([0, 1, 2], np.int8), step=np.array([-1, 6, 3]),
                      coned=np.array([1, 0, 1], bool), base_dim=np.zeros(3, np.int64), base_row=np.zeros(3, np.int64),
                      col_ptr=np.zeros(4, np.int64), rows=np.zeros(0, np.int32))
    bars = bars_from_pairs(cone, np.array([1]), np.array([2]))
    assert bars["dimension"].tolist() == [0] and bars["interval_type"].tolist() == ["oo"]
    assert bars["birth_step"].tolist() == [3] and bars["death_step"].tolist() == [6]


def test_invalid_schedule_is_refused():
    from zigzag.filtration import ZigzagSchedule

    # the edge (0, 1) is present at steps 0..2 but vertex 1 only at step 0
    schedule = ZigzagSchedule(
        simplices=(np.array([[0], [1]]), np.array([[0, 1]])),
        run_simplex=(np.array([0, 1]), np.array([0])), run_insert=(np.array([0, 0]), np.array([0])),
        run_delete=(np.array([3, 1]), np.array([3])), n_layers=2, kind="intersection")
    with pytest.raises(ValueError, match="not a zigzag of simplicial complexes"):
        cone_matrix(schedule)
