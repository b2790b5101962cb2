"""The certified float32 kNN against float64 brute force, its rounding bound, scales and devices.

The oracle is scipy's float64 squared distances sorted by (distance, index): the graph must be
identical on random clouds, tie-heavy lattices, duplicated points, concentrated high-dimensional
data and at every scale from 1e-150 to 1e150; the float32 candidates may not change one edge.
"""

import subprocess
import sys

import numpy as np
import pytest
from oracles import brute_knn

from zigzag.knn import _Bound, _knn, _prepare, knn_graph, knn_indices
from zigzag.pipeline import compute


def concentrated(rng, n, dim, rank=32, offset=100.0, noise=1e-3):
    """Rank-32 data far from the origin with tiny noise: the hard case for float32 products."""
    z = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, dim)) / np.sqrt(rank)
    return offset + z + noise * rng.normal(size=(n, dim))


def test_matches_brute_force_on_random_clouds_of_every_shape():
    rng = np.random.default_rng(20)
    for _ in range(300):
        n, dim = int(rng.integers(2, 120)), int(rng.integers(1, 40))
        k = int(rng.integers(1, min(9, n)))
        metric = ("euclidean", "cosine")[int(rng.integers(2))]
        x = rng.normal(size=(n, dim)) * rng.uniform(0.1, 10) + rng.normal(size=dim) * rng.uniform(0, 50)
        assert np.array_equal(knn_indices(x, k, metric=metric, block_size=int(rng.integers(1, 50))),
                              brute_knn(x, k, metric))


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_tie_heavy_lattices_and_duplicates(metric):
    rng = np.random.default_rng(21)
    for _ in range(40):
        n, dim = int(rng.integers(3, 400)), int(rng.integers(1, 4))
        k = int(rng.integers(1, min(10, n)))
        lattice = rng.integers(-3, 4, size=(n, dim)).astype(float)
        if metric == "cosine":
            lattice[~lattice.any(axis=1)] = 1.0
        duplicated = rng.normal(size=(n, dim))[rng.integers(0, max(2, n // 4), n)]
        for x in (lattice, duplicated):
            assert np.array_equal(knn_indices(x, k, metric=metric), brute_knn(x, k, metric))


def test_all_points_identical_or_nearly():
    x = np.ones((50, 4)) * 3.0
    assert np.array_equal(knn_indices(x, 4), brute_knn(x, 4))
    rng = np.random.default_rng(30)
    x[:, 1:] = rng.normal(size=(50, 3)) * 1e-300  # spread 300 orders of magnitude below the shared coordinate
    assert np.array_equal(knn_indices(x, 4), brute_knn(x, 4))
    x[:, 0] = 0.0  # distances of 1e-600 underflow in a plain float64 brute force; the rescaled cloud's do not
    assert np.array_equal(knn_indices(x, 4), brute_knn(np.ldexp(x, 990), 4))


def test_concentrated_high_dimensional_data_is_exact_and_certified():
    rng = np.random.default_rng(22)
    x = concentrated(rng, 600, 512)
    nbrs, uncertified = _knn(x, 5, metric="euclidean", block_size=None, device=None)
    assert np.array_equal(nbrs, brute_knn(x, 5))
    assert uncertified == 0  # the float32 candidates settle every row: no fallback to the exact path


@pytest.mark.parametrize("scale", [1e-150, 1e-100, 1e-30, 1.0, 1e30, 1e100, 1e150])
def test_every_scale_matches_brute_force(scale):
    rng = np.random.default_rng(23)
    x = rng.normal(size=(300, 16)) * scale
    assert np.array_equal(knn_indices(x, 5), brute_knn(x, 5))
    lattice = rng.integers(-2, 3, size=(200, 2)) * scale
    assert np.array_equal(knn_indices(lattice, 4), brute_knn(lattice, 4))


def test_power_of_two_scaling_is_exactly_invariant_near_the_float64_limits():
    rng = np.random.default_rng(24)
    x = rng.normal(size=(200, 8))
    for metric in ("euclidean", "cosine"):
        reference = knn_indices(x, 5, metric=metric)
        for e in (-1000, -560, 0, 500, 1000):
            assert np.array_equal(knn_indices(np.ldexp(x, e), 5, metric=metric), reference), (metric, e)


def test_coordinates_near_the_float64_range_work():
    """Issue 8: an IndexError at 1e154 (squares overflowed to inf)."""
    rng = np.random.default_rng(25)
    x = rng.normal(size=(100, 5))
    for scale in (1e154, 1e300, 1e-300):
        assert np.array_equal(knn_indices(x * scale, 4), knn_indices(x, 4))
        assert np.array_equal(knn_indices(x * scale, 4, metric="cosine"), knn_indices(x, 4, metric="cosine"))


@pytest.mark.parametrize("metric, scales", [("euclidean", (1e-170, 1e150)), ("cosine", (1e155, 1e-170))])
def test_barcode_is_unchanged_under_extreme_scaling(metric, scales):
    """Issue 8: at 1e-170 (Euclidean) or 1e155 (cosine) the kNN collapsed to one bar."""
    rng = np.random.default_rng(26)
    x = rng.normal(size=(4, 60, 6)).cumsum(axis=0)
    reference = compute(x, k=4, metric=metric, progress=False)
    assert len(reference) > 10
    for scale in scales:
        assert compute(x * scale, k=4, metric=metric, progress=False).same_bars(reference, check_types=True)


def test_the_float32_rounding_bound_holds():
    """Each approximate value is within the row's bound of the exact centred value."""
    rng = np.random.default_rng(27)
    for x in (concentrated(rng, 300, 1024), rng.normal(size=(300, 64)) * 1e-5 + 7, rng.standard_cauchy((300, 32))):
        x = _prepare(np.asarray(x, float), "euclidean")
        bound = _Bound(x)
        approx = (bound.points32 @ (-2 * bound.points32.T)).astype(np.float32) + bound.sq32
        centred = np.ldexp(x - x.mean(axis=0), bound.shift2 // 2)
        exact = np.einsum("ij,ij->i", centred, centred)[None, :] - 2 * (centred @ centred.T)
        slack = bound.err[:, None] - np.abs(approx.astype(np.float64) - exact)
        assert slack.min() > 0
        assert np.abs(approx - exact).max() > 0  # float32 did round: the check is not vacuous


def test_bad_points_give_clear_errors():
    with pytest.raises(ValueError, match="NaN or inf"):
        knn_indices(np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 1.0]]), 1)
    with pytest.raises(ValueError, match="zero vectors"):
        knn_indices(np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 1.0]]), 1, metric="cosine")
    with pytest.raises(ValueError, match="more than k points"):
        knn_indices(np.zeros((3, 2)), 3)
    with pytest.raises(ValueError, match="2-D"):
        knn_indices(np.zeros(5), 1)
    with pytest.raises(ValueError, match="not a torch device"):
        knn_indices(np.random.rand(10, 2), 2, device="no-such-device")


def test_numpy_path_does_not_import_torch():
    code = ("import sys, numpy as np, zigzag; from zigzag.knn import knn_graph; "
            "zigzag.compute(np.random.default_rng(0).normal(size=(3, 30, 4)), k=3, progress=False); "
            "knn_graph(np.random.rand(20, 3), 2); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---------------------------------------------------------------- torch devices
torch = pytest.importorskip("torch")


def test_torch_cpu_gives_the_numpy_graphs():
    rng = np.random.default_rng(28)
    clouds = [rng.normal(size=(300, 20)), concentrated(rng, 200, 256), rng.integers(-2, 3, size=(150, 3)) * 1.0,
              rng.normal(size=(120, 3))[rng.integers(0, 30, 120)]]
    for x in clouds:
        for metric in ("euclidean", "cosine"):
            if metric == "cosine" and not np.abs(x).max(axis=1).all():
                continue
            expected = knn_indices(x, 5, metric=metric)
            assert np.array_equal(knn_indices(x, 5, metric=metric, device="cpu", block_size=64), expected)
            assert np.array_equal(knn_indices(torch.from_numpy(x).float(), 5, metric=metric),
                                  knn_indices(x.astype(np.float32), 5, metric=metric))
            assert np.array_equal(knn_graph(x, 5, metric=metric, device="cpu"), knn_graph(x, 5, metric=metric))


def test_compute_on_torch_tensors_and_devices():
    rng = np.random.default_rng(29)
    x = rng.normal(size=(4, 80, 6)).cumsum(axis=0).astype(np.float32)
    reference = compute(x, k=4, progress=False)
    on_cpu = compute(x, k=4, progress=False, device="cpu")
    from_tensor = compute(torch.from_numpy(x), k=4, progress=False)
    assert on_cpu.same_bars(reference, check_types=True) and from_tensor.same_bars(reference, check_types=True)
    assert on_cpu.params["device"] == "cpu" and from_tensor.params["device"] == "cpu"
    assert reference.params["device"] is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="torch cannot use device 'cuda'"):
        knn_indices(np.random.rand(10, 2), 2, device="cuda")
