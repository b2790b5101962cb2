"""Brute-force oracles shared by several test files (independent of the library's own code)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist


def brute_knn(x, k, metric="euclidean"):
    """Each row's k nearest other points by float64 brute force, ties broken by the smaller index."""
    if metric == "cosine":
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = cdist(x, x, "sqeuclidean")
    np.fill_diagonal(d, np.inf)
    idx = np.arange(len(x))
    return np.array([np.lexsort((idx, row))[:k] for row in d])
