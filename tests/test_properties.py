"""Invariances of the core, as hypothesis properties: what must not change the bars.

The bars depend on the clouds only through each layer's kNN sets, so they must
not change when

* the points are relabelled (one permutation applied to every layer alike);
* a layer moves rigidly (rotation, reflection, translation) or is scaled by a
  positive factor, each layer by its own motion;
* with the cosine metric, a layer is rotated about the origin and each point
  scaled by its own positive factor.

Ties are broken by point index, so a relabelling may change the kNN sets of
tied data; and a rotation in floating point moves distances by a few ulps. The
clouds are therefore continuous random draws, and an example is used only when
every point's k-th and (k+1)-th neighbour distances are apart by far more than
rounding (``assume``): then the kNN sets, and with them the bars, are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import zigzag  # noqa: E402

SETTINGS = settings(max_examples=30, deadline=None, database=None)
GAP = 1e-7  # relative gap between the k-th and (k+1)-th neighbour distance; rounding is ~1e-15


@st.composite
def layered_clouds(draw, metric="euclidean"):
    """(clouds of shape (n_layers, n_points, dim), k) drawn from a seeded normal distribution, layers drifting."""
    n_layers = draw(st.integers(2, 4))
    n_points = draw(st.integers(8, 24))
    dim = draw(st.integers(2, 4))
    k = draw(st.integers(2, min(4, n_points - 2)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n_points, dim))
    clouds = np.stack([base + 0.6 * rng.normal(size=(n_points, dim)) for _ in range(n_layers)])
    assume(_knn_is_stable(clouds, k, metric))
    return clouds, k


def _distances(x: np.ndarray, metric: str) -> np.ndarray:
    if metric == "cosine":
        unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        return 1.0 - unit @ unit.T
    return np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))


def _knn_is_stable(clouds: np.ndarray, k: int, metric: str) -> bool:
    """Every point's k nearest neighbours are separated from the rest by a clear gap in every layer."""
    for x in clouds:
        d = _distances(x, metric)
        np.fill_diagonal(d, np.inf)
        ranked = np.sort(d, axis=1)
        kth, next_ = ranked[:, k - 1], ranked[:, k]
        if np.any(next_ - kth <= GAP * np.maximum(np.abs(next_), 1e-12)):
            return False
    return True


def _bars(clouds, k, metric="euclidean"):
    return zigzag.compute(np.asarray(clouds, dtype=float), k=k, max_dim=1, metric=metric, progress=False)


def _rotation(rng, dim: int) -> np.ndarray:
    """A random orthogonal matrix (a rotation or a reflection)."""
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)))
    return q * np.sign(np.diag(r))


@SETTINGS
@given(data=layered_clouds(), order=st.randoms(use_true_random=False))
def test_relabelling_the_points_leaves_the_bars_unchanged(data, order):
    clouds, k = data
    permutation = np.array(order.sample(range(clouds.shape[1]), clouds.shape[1]))
    assume(np.any(permutation != np.arange(clouds.shape[1])))
    before = _bars(clouds, k)
    after = _bars(clouds[:, permutation, :], k)
    assert after.same_bars(before, check_types=True), (before, after)


@SETTINGS
@given(data=layered_clouds(), seed=st.integers(0, 2**32 - 1), scale=st.floats(0.01, 100.0))
def test_rigid_motions_and_scaling_of_each_layer_leave_the_bars_unchanged(data, seed, scale):
    clouds, k = data
    rng = np.random.default_rng(seed)
    dim = clouds.shape[2]
    moved = np.stack([scale * rng.uniform(0.5, 2.0) * (x @ _rotation(rng, dim)) + rng.uniform(-50, 50, dim)
                      for x in clouds])
    assert _bars(moved, k).same_bars(_bars(clouds, k), check_types=True)


@SETTINGS
@given(data=layered_clouds(metric="cosine"), seed=st.integers(0, 2**32 - 1))
def test_cosine_bars_ignore_rotations_about_the_origin_and_each_point_s_norm(data, seed):
    clouds, k = data
    rng = np.random.default_rng(seed)
    dim = clouds.shape[2]
    moved = np.stack([rng.uniform(0.1, 10.0, (x.shape[0], 1)) * (x @ _rotation(rng, dim)) for x in clouds])
    assert _bars(moved, k, "cosine").same_bars(_bars(clouds, k, "cosine"), check_types=True)


def test_the_properties_can_fail():
    """The oracle is not vacuous: moving one layer's points non-rigidly does change the bars."""
    rng = np.random.default_rng(5)
    clouds = np.stack([rng.normal(size=(20, 2)) for _ in range(3)])
    squashed = clouds.copy()
    squashed[1, :, 0] *= 0.05  # not a rigid motion: flattens layer 1
    assert not _bars(squashed, 3).same_bars(_bars(clouds, 3))
    swapped = clouds.copy()
    swapped[1] = clouds[1][::-1]  # relabels one layer only: points no longer match across layers
    assert not _bars(swapped, 3).same_bars(_bars(clouds, 3))
