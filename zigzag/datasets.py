"""Synthetic layer trajectories for tests, demos and benchmarks.

Each point sits on one of a few circles in a random plane of ``R^dim``. Across
layers the planes turn slowly and every circle opens and closes at its own
depth, so its loop is born, persists for a while and dies; between those
depths the circle is collapsed into a noisy blob with no loop.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_float, check_int

__all__ = ["synthetic_trajectory"]


def _orthonormal(rng: np.random.Generator, dim: int, n_vectors: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(dim, n_vectors)))
    return q.T


def synthetic_trajectory(n_layers: int, n_points: int, dim: int, *, n_loops: int = 3, noise: float = 0.08,
                         seed=None) -> np.ndarray:
    """Point clouds of a slowly drifting, rotating union of circles.

    Parameters
    ----------
    n_layers : int
        Number of representations (>= 2).
    n_points : int
        Points per layer; point i is the same "input" in every layer.
    dim : int
        Ambient dimension (>= 2).
    n_loops : int, default=3
        Number of circles; loop c is open over its own window of depths.
    noise : float, default=0.08
        Standard deviation of the per-point, per-layer jitter (circle radius 1).
    seed : int, numpy.random.Generator or None
        Source of randomness; the same seed gives the same array.

    Returns
    -------
    ndarray of shape (n_layers, n_points, dim)

    Examples
    --------
    >>> synthetic_trajectory(5, 100, 8, seed=0).shape
    (5, 100, 8)
    """
    n_layers = check_int(n_layers, "n_layers", minimum=2, caller="synthetic_trajectory")
    n_points = check_int(n_points, "n_points", minimum=1, caller="synthetic_trajectory")
    dim = check_int(dim, "dim", minimum=2, caller="synthetic_trajectory")
    n_loops = check_int(n_loops, "n_loops", minimum=1, caller="synthetic_trajectory")
    noise = check_float(noise, "noise", low=0.0, caller="synthetic_trajectory")
    rng = np.random.default_rng(seed)
    loop = rng.integers(0, n_loops, n_points)
    angle = rng.uniform(0.0, 2 * np.pi, n_points)
    offset = rng.normal(scale=noise, size=(n_points, dim))  # each point's own fixed displacement
    centres = rng.normal(scale=4.0, size=(n_loops, dim))
    depth = np.linspace(0.0, 1.0, n_layers)
    opens = rng.uniform(-0.3, 0.6, n_loops)  # each loop's open window [opens, closes] in relative depth
    closes = opens + rng.uniform(0.4, 0.9, n_loops)
    out = np.empty((n_layers, n_points, dim))
    frames = [_orthonormal(rng, dim, min(dim, 4)) for _ in range(n_loops)]
    for layer, t in enumerate(depth):
        for c in range(n_loops):
            f = frames[c]
            turn = 0.6 * t * np.pi  # the plane turns by about 100 degrees over the whole depth
            u = f[0]
            v = np.cos(turn) * f[1] + np.sin(turn) * f[2 % len(f)] if len(f) > 2 else f[1]
            ramp = np.clip(min(t - opens[c], closes[c] - t) / 0.1, 0.0, 1.0)  # 0 = collapsed, 1 = open circle
            radius = 0.15 + 0.85 * ramp
            members = loop == c
            ring = radius * (np.cos(angle[members])[:, None] * u + np.sin(angle[members])[:, None] * v)
            out[layer, members] = centres[c] + ring
        out[layer] += offset + rng.normal(scale=noise / 2, size=(n_points, dim))
    return out
