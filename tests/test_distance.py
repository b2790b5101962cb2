"""zigzag.distance: bottleneck and Wasserstein distances between layer-unit diagrams.

Oracles: brute force over every matching (tiny diagrams), an assignment over the
expanded points with scipy's linear_sum_assignment (exact, point by point), and
gudhi's hera (bottleneck exact with delta=0; Wasserstein within its relative error).
"""

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

import zigzag
from zigzag.barcode import Barcode
from zigzag.distances import diagram_distance, distance, distance_matrix


def _ground(x, y, internal_p):
    d = np.abs(np.asarray(x) - np.asarray(y))
    return d.max() if internal_p == np.inf else (d ** internal_p).sum() ** (1 / internal_p)


def _to_diagonal(x, internal_p):
    half = (x[1] - x[0]) / 2
    return half if internal_p == np.inf else half * 2 ** (1 / internal_p)


def _brute(a, b, metric, order=1.0, internal_p=np.inf):
    """Every matching of a + diagonal copies against b + diagonal copies."""
    left = list(a) + [None] * len(b)
    right = list(b) + [None] * len(a)
    best = np.inf
    for perm in itertools.permutations(range(len(right))):
        costs = []
        for x, j in zip(left, perm):
            y = right[j]
            if x is None and y is None:
                costs.append(0.0)
            elif x is None:
                costs.append(_to_diagonal(y, internal_p))
            elif y is None:
                costs.append(_to_diagonal(x, internal_p))
            else:
                costs.append(_ground(x, y, internal_p))
        value = max(costs, default=0.0) if metric == "bottleneck" else sum(c ** order for c in costs) ** (1 / order)
        best = min(best, value)
    return 0.0 if best == np.inf else best


def _assignment(a, b, order, internal_p):
    """Exact Wasserstein by a point-by-point assignment (the expanded square cost matrix)."""
    n, m = len(a), len(b)
    cost = np.zeros((n + m, n + m))
    for i in range(n):
        cost[i, :m] = [_ground(a[i], y, internal_p) ** order for y in b]
        cost[i, m:] = _to_diagonal(a[i], internal_p) ** order
    for j in range(m):
        cost[n:, j] = _to_diagonal(b[j], internal_p) ** order
    rows, cols = linear_sum_assignment(cost)
    return cost[rows, cols].sum() ** (1 / order)


def _random_diagram(rng, n, integer):
    if integer:  # layer units: few distinct points, many repeats
        birth = rng.integers(0, 6, n)
        death = birth + rng.integers(1, 5, n)
    else:
        birth = rng.uniform(0, 5, n)
        death = birth + rng.uniform(0.01, 3, n)
    return np.column_stack([birth, death]).astype(float).reshape(-1, 2)


@pytest.mark.parametrize("metric", ["bottleneck", "wasserstein"])
def test_tiny_diagrams_equal_brute_force(metric):
    rng = np.random.default_rng(0)
    for case in range(80):
        n_a, n_b = rng.integers(0, 4, 2)
        a = _random_diagram(rng, n_a, integer=case % 2 == 0)
        b = _random_diagram(rng, n_b, integer=case % 2 == 0)
        for order, internal_p in [(1.0, np.inf), (2.0, 2.0), (1.5, 1.0)]:
            if metric == "bottleneck" and (order, internal_p) != (1.0, np.inf):
                continue
            expected = _brute(a, b, metric, order, internal_p)
            got = diagram_distance(a, b, metric, order=order, internal_p=internal_p)
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), (a, b, order, internal_p)


@pytest.mark.parametrize("order, internal_p", [(1.0, np.inf), (2.0, np.inf), (1.0, 2.0), (2.0, 1.0)])
def test_wasserstein_equals_assignment_over_expanded_points(order, internal_p):
    rng = np.random.default_rng(1)
    for case in range(20):
        a = _random_diagram(rng, rng.integers(0, 40), integer=case % 2 == 0)
        b = _random_diagram(rng, rng.integers(0, 40), integer=case % 2 == 0)
        expected = _assignment(a, b, order, internal_p)
        got = diagram_distance(a, b, "wasserstein", order=order, internal_p=internal_p)
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_bottleneck_equals_hera_exact_mode():
    hera = pytest.importorskip("gudhi.hera")
    rng = np.random.default_rng(2)
    for case in range(30):
        a = _random_diagram(rng, rng.integers(1, 60), integer=case % 2 == 0)
        b = _random_diagram(rng, rng.integers(1, 60), integer=case % 2 == 0)
        assert diagram_distance(a, b) == pytest.approx(hera.bottleneck_distance(a, b, delta=0), abs=1e-9)


def test_wasserstein_within_hera_relative_error():
    hera = pytest.importorskip("gudhi.hera")
    rng = np.random.default_rng(3)
    a = _random_diagram(rng, 300, integer=True)
    b = _random_diagram(rng, 250, integer=True)
    approx = hera.wasserstein_distance(a, b, order=1, internal_p=np.inf, delta=1e-3)
    assert diagram_distance(a, b, "wasserstein") == pytest.approx(approx, rel=2e-3)


def test_barcode_distance_by_hand(four_layer_bars):
    # H1 layer-level bars (0,4) (1,3) (1,2) (2,4); drop (1,2): it goes to the diagonal at cost 1/2
    bars = four_layer_bars
    keep = ~((bars.dimension == 1) & (bars.birth_step == 2) & (bars.death_step == 3))
    fewer = Barcode.from_arrays(bars.dimension[keep], bars.birth_step[keep], bars.death_step[keep], n_layers=4)
    assert distance(bars, fewer) == 0.5
    assert distance(bars, fewer, metric="wasserstein") == 0.5
    assert distance(bars, fewer, metric="wasserstein", order=2, internal_p=2) == pytest.approx(np.sqrt(0.5))
    assert distance(bars, bars) == 0.0
    # H0: one bar (0, 4) on both sides
    assert distance(bars, fewer, dim=0) == 0.0
    # intra-intersection bars are not part of the diagram: a barcode of only those is at distance 0 from empty
    intra = Barcode.from_arrays([1], [3], [4], n_layers=4)
    empty = Barcode.from_arrays([], [], [], n_layers=4)
    assert distance(intra, empty) == 0.0 and distance(intra, empty, metric="wasserstein") == 0.0


def test_matrix_is_symmetric_and_matches_pairs():
    clouds = zigzag.as_layer_clouds(zigzag.synthetic_trajectory(5, 60, 4, seed=0))
    barcodes = [zigzag.compute(clouds.subset(np.arange(s, 60, 3)), k=3, progress=False) for s in range(3)]
    for metric in ("bottleneck", "wasserstein"):
        matrix = distance_matrix(barcodes, metric=metric)
        assert np.allclose(matrix, matrix.T) and np.all(np.diag(matrix) == 0)
        assert matrix[0, 2] == distance(barcodes[0], barcodes[2], metric=metric)
        assert matrix[1, 2] == distance(barcodes[2], barcodes[1], metric=metric)


def test_authors_barcodes(llama2_csv, llama3_csv):
    hera = pytest.importorskip("gudhi.hera")
    a, b = Barcode.load(llama2_csv).to_persim(1), Barcode.load(llama3_csv).to_persim(1)
    assert len(a) > 100_000  # real size: point-by-point solvers take minutes here, this one about a second
    full = diagram_distance(a, b)
    assert full == diagram_distance(b, a) and 0 < full <= max(np.ptp(a), np.ptp(b)) / 2
    rng = np.random.default_rng(4)
    a, b = a[rng.choice(len(a), 300, replace=False)], b[rng.choice(len(b), 250, replace=False)]
    assert diagram_distance(a, b) == hera.bottleneck_distance(a, b, delta=0)
    assert diagram_distance(a, b, "wasserstein") == pytest.approx(_assignment(a, b, 1.0, np.inf), rel=1e-12)


def test_errors():
    bars = Barcode.from_arrays([1], [0], [3], n_layers=2)
    with pytest.raises(ValueError, match="'metric'.*'bottleneck', 'wasserstein'"):
        distance(bars, bars, metric="sliced")
    with pytest.raises(TypeError, match="needs a zigzag.Barcode"):
        distance(bars.to_persim(1), bars)
    with pytest.raises(ValueError, match="'order'"):
        distance(bars, bars, metric="wasserstein", order=0.5)
    with pytest.raises(ValueError, match="'internal_p'"):
        distance(bars, bars, metric="wasserstein", internal_p=0.5)
    with pytest.raises(ValueError, match="'dim'"):
        distance(bars, bars, dim=-1)
    with pytest.raises(ValueError, match="shape \\(n_points, 2\\)"):
        diagram_distance(np.zeros((3, 3)), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="below the diagonal"):
        diagram_distance([[2.0, 1.0]], [[0.0, 1.0]])
    with pytest.raises(ValueError, match="non-finite"):
        diagram_distance([[0.0, np.inf]], [[0.0, 1.0]])


def test_lazy_export():
    assert zigzag.distance is distance
    assert zigzag.distance_matrix is distance_matrix
