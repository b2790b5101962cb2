"""Kernels on the birth–death histogram H (internal, trusted inputs) and the shared input checks."""

from __future__ import annotations


import numpy as np


NORMALIZATIONS = ("column", "row", "none")
BRF_INDEX = ("birth", "death")
#: Curves (one value per layer) a :class:`Descriptors` holds, and their per-alpha ones.
CURVES = ("betti", "average_similarity", "ilp", "brf", "correlation_length", "correlation_length_left")
ALPHA_CURVES = ("ilp", "brf")
MATRICES = ("histogram", "similarity")
#: The descriptors hold n x n matrices; refuse a barcode whose matrices would need more memory than this.
MAX_MATRIX_BYTES = 2_000_000_000


# ---------------------------------------------------------------- input checks
def _safe_div(num, den) -> np.ndarray:
    """``num / den`` with ``0/0`` (and anything over 0) defined as 0."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=float), np.asarray(den, dtype=float))
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


# ---------------------------------------------------------------- kernels on H (internal, trusted inputs)
def _check_matrix_memory(n: int) -> None:
    """Refuse before allocating when the n x n matrices of the descriptors would not fit in memory."""
    need = 8 * 8 * n * (n + 1)  # about eight n x (n+1) arrays of 8-byte numbers alive at once
    if need > MAX_MATRIX_BYTES:
        raise ValueError(
            f"The descriptors of a barcode over {n:,} layers need n x n matrices: about {need / 1e9:.1f} GB of "
            f"memory, more than the {MAX_MATRIX_BYTES / 1e9:.1f} GB zigzag allows. A barcode this deep is almost "
            "always a damaged file or a wrong n_layers (a death step far beyond the others): check the file and "
            "--layers / n_layers."
        )


def _histogram(barcode, dim: int) -> np.ndarray:
    n = barcode.n_layers
    _check_matrix_memory(n)
    mask = barcode.dimension == dim
    b = (barcode.birth_step[mask] + 1) // 2
    d = (barcode.death_step[mask] + 1) // 2
    keep = b < d
    counts = np.bincount(b[keep] * (n + 1) + d[keep], minlength=n * (n + 1))
    return counts.reshape(n, n + 1)


def _similarity(hist: np.ndarray) -> np.ndarray:
    n = hist.shape[0]
    # C[b0, d0] = sum_{b <= b0} sum_{d >= d0} H[b, d]
    cum = np.cumsum(np.cumsum(hist[:, ::-1], axis=1)[:, ::-1], axis=0)
    i = np.arange(n)
    lo, hi = np.minimum.outer(i, i), np.maximum.outer(i, i)
    return cum[lo, hi + 1]


def _average(sim: np.ndarray, betti: np.ndarray, normalization: str) -> np.ndarray:
    if normalization == "column":
        return _safe_div(sim, betti[None, :]).mean(axis=1)
    if normalization == "row":
        return _safe_div(sim, betti[:, None]).mean(axis=1)
    return sim.mean(axis=1).astype(float)


def _ilp(persistence: np.ndarray, alpha: float) -> np.ndarray:
    n = persistence.shape[0]
    i = np.arange(n)
    with np.errstate(over="ignore", invalid="ignore"):
        weights = np.abs(np.subtract.outer(i, i)).astype(float) ** alpha  # 0.0 ** 0 == 1
        out = _safe_div((weights * persistence).sum(axis=1), weights.sum(axis=1))
    return _check_overflow(out, "ILP", alpha, n - 1)


def _brf(hist: np.ndarray, alpha: float, index: str) -> np.ndarray:
    n = hist.shape[0]
    life = np.arange(n + 1)[None, :] - np.arange(n)[:, None]  # d - b
    with np.errstate(over="ignore", invalid="ignore"):
        weighted = np.where(hist > 0, hist * np.maximum(life, 1).astype(float) ** alpha, 0.0)
        per_layer = weighted.sum(axis=1) if index == "birth" else weighted.sum(axis=0)[1:]
        out = _safe_div(per_layer, per_layer.sum())
    return _check_overflow(out, "BRF", alpha, n)


def _check_overflow(values: np.ndarray, name: str, alpha: float, base: int) -> np.ndarray:
    """Refuse an exponent whose weights ``base ** alpha`` overflow float64 (the curve would be NaN)."""
    if np.all(np.isfinite(values)):
        return values
    base = max(base, 2)
    limit = np.log(np.finfo(float).max / base**2) / np.log(base)  # room for sums of up to base**2 weights
    raise ValueError(
        f"alpha={alpha:g} overflows float64 in the {name} weights (up to {base}**alpha); use an alpha of at most about {max(limit, 0):.0f}."
    )


def _birth_persistence(hist: np.ndarray) -> np.ndarray:
    n = hist.shape[0]
    b = np.arange(n)[:, None]
    d = b + np.arange(n + 1)[None, :]
    return np.where(d <= n, hist[b, np.minimum(d, n)], 0)
