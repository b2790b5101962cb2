"""The topological core against independent oracles.

* the fast engine vs dionysus' fast (Dey–Hou) path and its classic zigzag algorithm: identical
  bars, interval types included (tests/test_engine.py checks the engine's pieces);
* gudhi's static Betti numbers of every layer's flag complex vs the Betti
  numbers read off the zigzag bars;
* brute-force kNN (scipy distances, sorted by (distance, index));
* gudhi's own clique expansion vs our flag complexes;
* hand-made zigzags whose bars are worked out by hand.
"""

import itertools

import gudhi
import numpy as np
import pytest
from oracles import brute_knn

from zigzag.complexes import flag_complex, knn_complex
from zigzag.engines import zigzag_bars
from zigzag.filtration import zigzag_schedule
from zigzag.knn import knn_graph, knn_indices
from zigzag.pipeline import compute

N_RANDOM_CASES = 1000


def gudhi_betti(edges, n_points, max_dim):
    """Static Betti numbers 0..max_dim of the flag complex of a graph, by gudhi."""
    st = gudhi.SimplexTree()
    for v in range(n_points):
        st.insert([v])
    for u, v in edges:
        st.insert([int(u), int(v)])
    st.expansion(max_dim + 1)
    st.compute_persistence(persistence_dim_max=True)
    betti = list(st.betti_numbers())
    return (betti + [0] * (max_dim + 1))[: max_dim + 1]


def random_case(rng):
    n = int(rng.integers(2, 6))
    n_points = int(rng.integers(6, 26))
    dim = int(rng.integers(1, 5))
    k = int(rng.integers(1, min(6, n_points)))
    x = rng.normal(size=(n, n_points, dim)).cumsum(axis=0) * 0.5  # drifting layers
    params = dict(
        k=k,
        max_dim=int(rng.integers(0, 3)),
        graph=str(rng.choice(["union", "mutual"])),
        zigzag=str(rng.choice(["intersection", "union"])),
        metric=str(rng.choice(["euclidean", "cosine"])),
    )
    return x, params


def test_fast_dionysus_classic_gudhi_agree_on_random_trajectories():
    rng = np.random.default_rng(20261121)
    for case in range(N_RANDOM_CASES):
        x, params = random_case(rng)
        fast = compute(x, engine="fast", progress=False, **params)
        reference = compute(x, engine="dionysus", progress=False, **params)
        classic = compute(x, engine="classic", progress=False, **params)
        assert fast.same_bars(reference, check_types=True), (case, params)
        assert fast.same_bars(classic, check_types=True), (case, params)
        again = compute(x, engine="fast", progress=False, **params)
        assert np.array_equal(again.dimension, fast.dimension) and np.array_equal(again.birth_step, fast.birth_step)
        assert np.array_equal(again.death_step, fast.death_step)
        betti = fast.betti_numbers(range(params["max_dim"] + 1))
        for layer in range(x.shape[0]):
            edges = knn_graph(x[layer], params["k"], metric=params["metric"], graph=params["graph"])
            expected = gudhi_betti(edges, x.shape[1], params["max_dim"])
            assert betti[:, layer].tolist() == expected, (case, layer, params)


def test_relabelling_points_leaves_the_barcode_unchanged(rng):
    x = rng.normal(size=(4, 40, 3)).cumsum(axis=0)
    perm = rng.permutation(40)
    a = compute(x, k=4, max_dim=2, progress=False)
    b = compute(x[:, perm], k=4, max_dim=2, progress=False)
    assert len(a) > 0 and a.same_bars(b, check_types=True)


@pytest.mark.parametrize("metric, dtype", [("euclidean", np.float64), ("euclidean", np.float32), ("cosine", np.float64)])
def test_knn_matches_brute_force_with_ties(metric, dtype):
    rng = np.random.default_rng(1)
    for _ in range(60):
        n, dim, k = int(rng.integers(3, 300)), int(rng.integers(1, 6)), int(rng.integers(1, 8))
        k = min(k, n - 1)
        if metric == "euclidean":
            x = rng.integers(-2, 3, size=(n, dim)).astype(float)  # many exact ties and duplicates
        else:  # angles between lattice points tie only up to rounding; duplicates tie exactly
            x = rng.normal(size=(n, dim))[rng.integers(0, max(2, n // 2), n)]
        got = knn_indices(x.astype(dtype), k, metric=metric, block_size=int(rng.integers(1, 70)))
        assert np.array_equal(got, brute_knn(x, k, metric))


def test_knn_graph_union_and_mutual():
    x = np.array([[0.0], [1.0], [3.0], [10.0]])
    # neighbours with k=1: 0->1, 1->0, 2->1, 3->2
    assert knn_graph(x, 1, graph="union").tolist() == [[0, 1], [1, 2], [2, 3]]
    assert knn_graph(x, 1, graph="mutual").tolist() == [[0, 1]]


def test_flag_complex_matches_gudhi_expansion():
    rng = np.random.default_rng(2)
    for _ in range(100):
        n = int(rng.integers(1, 14))
        pairs = [p for p in itertools.combinations(range(n), 2) if rng.random() < 0.5]
        edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        top = int(rng.integers(0, 5))
        ours = flag_complex(edges, n, top)
        st = gudhi.SimplexTree()
        for v in range(n):
            st.insert([v])
        for e in pairs if top >= 1 else []:
            st.insert(list(e))
        st.expansion(top)
        expected = sorted(tuple(s) for s, _ in st.get_simplices())
        got = sorted(tuple(row) for level in ours.simplices for row in level.tolist())
        assert got == expected


def test_duplicate_points_are_handled_deterministically():
    x = np.zeros((3, 12, 2))
    x[:, 6:] = 1.0  # two stacks of six identical points
    a = compute(x, k=3, progress=False)
    b = compute(x.copy(), k=3, progress=False)
    assert a.same_bars(b, check_types=True)
    assert a.betti_numbers([0]).tolist() == [[2, 2, 2]]


# --------------------------------------------------------------- hand-made zigzags
def bars_of(edge_lists, n_points, kind="intersection", max_dim=1):
    complexes = [flag_complex(np.array(e, dtype=np.int64).reshape(-1, 2), n_points, max_dim + 1) for e in edge_lists]
    bars = zigzag_bars(zigzag_schedule(complexes, kind=kind), max_dim=max_dim)
    for engine in ("dionysus", "classic"):
        other = zigzag_bars(zigzag_schedule(complexes, kind=kind), max_dim=max_dim, engine=engine)
        for key in bars:
            assert np.array_equal(bars[key], other[key])
    return sorted(zip(bars["dimension"].tolist(), bars["birth_step"].tolist(), bars["death_step"].tolist(),
                      bars["interval_type"].tolist()))


SQUARE = [(0, 1), (1, 2), (2, 3), (0, 3)]


def test_loop_born_at_layer_1_and_filled_at_layer_3():
    layers = [[(0, 1), (1, 2), (2, 3)], SQUARE, SQUARE, SQUARE + [(0, 2)]]
    # edge (0,3) enters at step 2 (layer 1) and closes the loop; the diagonal's
    # triangles enter at step 6 (layer 3) and fill it. Everything dies at step 7.
    assert bars_of(layers, 4) == [(0, 0, 7, "cc"), (1, 2, 6, "co")]


def test_two_components_merge_in_the_union():
    layers = [[(0, 1)], [(1, 2)]]
    # union step 1 holds both edges: the component {2} of layer 0 merges into {0,1};
    # leaving the union (step 2) deletes (0,1) and splits {0} off again.
    assert bars_of(layers, 3, kind="union") == [(0, 0, 1, "co"), (0, 0, 3, "cc"), (0, 2, 3, "oc")]


def test_component_split_only_inside_the_intersection():
    layers = [[(0, 1), (1, 2)], [(0, 1), (0, 2)]]
    # K0 ∩ K1 = {(0,1)}: vertex 2 is alone at step 1 only -> an intersection-only bar [1, 2).
    assert bars_of(layers, 3) == [(0, 0, 3, "cc"), (0, 1, 2, "oo")]


def test_class_born_in_the_intersection_lives_on():
    layers = [SQUARE + [(0, 2)], SQUARE]
    # the filled square loses its diagonal in the intersection (step 1): a loop is born
    # by a deletion there and survives layer 1 until the final deletion at step 3.
    assert bars_of(layers, 4) == [(0, 0, 3, "cc"), (1, 1, 3, "oc")]


def test_compute_records_its_parameters():
    x = np.random.default_rng(3).normal(size=(3, 30, 4))
    bars = compute(x, k=4, max_dim=1, metric="cosine", graph="mutual", zigzag="union", progress=False)
    assert {key: bars.params[key] for key in ("k", "max_dim", "metric", "graph", "zigzag", "engine", "n_points")} == {
        "k": 4, "max_dim": 1, "metric": "cosine", "graph": "mutual", "zigzag": "union", "engine": "fast",
        "n_points": 30}
    assert bars.n_layers == 3 and set(bars.dims) <= {0, 1}
    timings = bars.params["timings"]
    assert set(timings) == {"knn", "complexes", "engine", "total"}
    assert all(value >= 0 for value in timings.values())
    assert timings["total"] >= timings["knn"] + timings["complexes"] + timings["engine"] - 1e-3


def test_knn_complex_of_a_square():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    cx = knn_complex(square, 2, max_dim=1)
    assert cx.edges.tolist() == [[0, 1], [0, 3], [1, 2], [2, 3]] and len(cx.simplices[2]) == 0
