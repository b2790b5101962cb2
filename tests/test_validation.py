"""Bad input gets a clear error that names the fix."""

import numpy as np
import pytest

from zigzag import as_layer_clouds
from zigzag.datasets import synthetic_trajectory
from zigzag.pipeline import compute


def good(n=3, n_points=20, dim=3):
    return np.random.default_rng(0).normal(size=(n, n_points, dim))


@pytest.mark.parametrize(
    "make, kwargs, error, match",
    [
        (lambda: np.where(np.arange(3)[:, None, None] == 1, np.nan, good()), {}, ValueError, "NaN or inf"),
        (lambda: np.where(np.arange(3)[:, None, None] == 2, np.inf, good()), {}, ValueError, "layer 2"),
        (lambda: [good()[0], good()[1][:10]], {}, ValueError, "10 points, but layer 0 has 20"),
        (lambda: good()[:1], {}, ValueError, "at least 2 layers"),
        (lambda: good()[0], {}, ValueError, "3-D array"),
        (lambda: good(), {"k": 20}, ValueError, "smaller than the number of points"),
        (lambda: good(), {"k": 0}, ValueError, r"range \[1, inf\)"),
        (lambda: good(), {"k": 2.5}, TypeError, "must be an int"),
        (lambda: good(), {"max_dim": -1}, ValueError, "max_dim"),
        (lambda: good(), {"metric": "manhattan"}, ValueError, "'euclidean', 'cosine'"),
        (lambda: good(), {"engine": "turbo"}, ValueError, "'fast', 'dionysus', 'classic'"),
        (lambda: good(), {"graph": "knn"}, ValueError, "'union', 'mutual'"),
        (lambda: good(), {"zigzag": "zag"}, ValueError, "'intersection', 'union'"),
        (lambda: np.array([["a"]]), {}, TypeError, "real numbers"),
    ],
)
def test_bad_input_is_a_clear_error(make, kwargs, error, match):
    with pytest.raises(error, match=match):
        compute(make(), progress=False, **kwargs)


def test_transposed_looking_input_warns():
    with pytest.warns(UserWarning, match="transpose"):
        as_layer_clouds(np.random.default_rng(0).normal(size=(30, 5, 2)))


def test_cosine_rejects_zero_vectors():
    x = good()
    x[:, 3] = 0.0
    with pytest.raises(ValueError, match="zero vectors"):
        compute(x, metric="cosine", progress=False)


def test_clouds_from_lists_and_tensors_agree():
    torch = pytest.importorskip("torch")
    x = synthetic_trajectory(3, 50, 4, seed=0)
    from_list = compute([layer for layer in x], progress=False)
    from_tensor = compute(torch.tensor(x, dtype=torch.float64), progress=False)
    from_array = compute(x, progress=False)
    assert from_list.same_bars(from_array) and from_tensor.same_bars(from_array)


def test_synthetic_trajectory_is_seeded_and_has_loops():
    a = synthetic_trajectory(8, 300, 6, seed=3)
    assert np.array_equal(a, synthetic_trajectory(8, 300, 6, seed=3))
    assert not np.array_equal(a, synthetic_trajectory(8, 300, 6, seed=4))
    bars = compute(a, k=5, progress=False).select(1, layer_level=True)
    persistence = bars.death_layer - bars.birth_layer
    assert persistence.max() >= 3  # some loop persists across several layers
