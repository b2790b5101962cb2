"""One descriptor at a time, from a barcode: histogram, Betti curve, S, S̄, P, ILP, BRF, κ."""

from __future__ import annotations


import numpy as np

from .._validation import check_float, check_int, check_option
from ..barcode import check_barcode
from ._kernels import (BRF_INDEX, NORMALIZATIONS, _average, _birth_persistence, _brf,
                       _histogram, _ilp, _safe_div, _similarity)


# ---------------------------------------------------------------- public single descriptors
def birth_death_histogram(barcode, dim: int = 1) -> np.ndarray:
    """``H_p(b, d)``: number of layer-level bars born at layer b that die at layer d.

    Parameters
    ----------
    barcode : Barcode
    dim : int, default=1
        Homology dimension p.

    Returns
    -------
    ndarray of int of shape (n_layers, n_layers + 1)
        Row b = birth layer 0..n-1, column d = death layer (first layer where
        the bar is gone) 1..n; column 0 is always 0. A bar alive at the last
        layer has ``d = n``.

    Examples
    --------
    >>> from zigzag import Barcode
    >>> bars = Barcode.from_arrays([1], [2], [5], n_layers=3)  # steps [2, 5): layers 1 and 2
    >>> int(birth_death_histogram(bars, 1)[1, 3])
    1
    """
    check_barcode(barcode, "birth_death_histogram")
    return _histogram(barcode, check_int(dim, "dim", minimum=0, caller="birth_death_histogram"))


def birth_persistence_histogram(barcode, dim: int = 1) -> np.ndarray:
    """The birth × persistence view of ``H_p``: entry ``[b, k] = H_p(b, b + k)``.

    Returns
    -------
    ndarray of int of shape (n_layers, n_layers + 1)
        Row b = birth layer, column k = persistence ``d - b`` in layers
        (1..n-b; column 0 is always 0). This is the paper's "effective
        persistence image", usually shown with log counts.
    """
    return _birth_persistence(birth_death_histogram(barcode, dim))


def betti_curve(barcode, dim: int = 1) -> np.ndarray:
    """``beta_p(l)`` for every layer, from the layer-level bars.

    Returns
    -------
    ndarray of int of shape (n_layers,)
    """
    return np.diagonal(_similarity(birth_death_histogram(barcode, dim))).copy()


def similarity_matrix(barcode, dim: int = 1) -> np.ndarray:
    """``S_p(i, j)``: bars alive at every layer from ``min(i, j)`` to ``max(i, j)``.

    Computed from the 2-D cumulative sums of ``H_p`` (no loop over bars or
    pairs): ``O(n_bars + n^2)``.

    Returns
    -------
    ndarray of int of shape (n_layers, n_layers)
        Symmetric, with ``S_p(l, l) = beta_p(l)``.
    """
    return _similarity(birth_death_histogram(barcode, dim))


def average_similarity(barcode, dim: int = 1, *, normalization: str = "column") -> np.ndarray:
    """``S̄_p(l) = (1/n) sum_j S_p(l, j) / beta_p(j)`` (j = l included).

    Parameters
    ----------
    barcode : Barcode
    dim : int, default=1
    normalization : {"column", "row", "none"}, default="column"
        ``"column"`` divides by ``beta_p(j)`` (the paper's, used for pruning);
        ``"row"`` by ``beta_p(l)`` (the mean of ``P_p(l, .)``); ``"none"``
        averages raw counts. ``0/0`` is 0.

    Returns
    -------
    ndarray of float of shape (n_layers,)
    """
    normalization = check_option(normalization, "normalization", NORMALIZATIONS, caller="average_similarity")
    sim = similarity_matrix(barcode, dim)
    return _average(sim, np.diagonal(sim), normalization)


def inter_layer_persistence(barcode, dim: int = 1) -> np.ndarray:
    """``P_p(l, j) = S_p(l, j) / beta_p(l)`` (0 where ``beta_p(l) = 0``).

    Returns
    -------
    ndarray of float of shape (n_layers, n_layers)
        Row l: the share of layer l's p-cycles still alive at layer j.
    """
    sim = similarity_matrix(barcode, dim)
    return _safe_div(sim, np.diagonal(sim)[:, None])


def ilp(barcode, dim: int = 1, alpha: float = 1.0) -> np.ndarray:
    """``ILP_{p,alpha}(l) = sum_j |l-j|^alpha P_p(l, j) / sum_j |l-j|^alpha``.

    Parameters
    ----------
    alpha : float >= 0, default=1.0
        Distance weight; ``0^0 = 1``, so with ``alpha = 0`` this is the mean of
        ``P_p(l, .)`` including ``j = l``, with ``alpha > 0`` the diagonal has
        weight 0.

    Returns
    -------
    ndarray of float of shape (n_layers,)
    """
    alpha = check_float(alpha, "alpha", low=0.0, caller="ilp")
    return _ilp(inter_layer_persistence(barcode, dim), alpha)


def births_relative_frequency(barcode, dim: int = 1, alpha: float = 0.0, *, index: str = "birth") -> np.ndarray:
    """``BRF_{p,alpha}(l)``: persistence-weighted share of bars per layer.

    Each layer-level bar weighs ``(d - b)^alpha`` (its persistence in layers);
    the weights are summed per layer and normalised to sum 1 (all zeros when
    there are no bars).

    Parameters
    ----------
    alpha : float >= 0, default=0.0
        0 gives the plain relative frequency of births.
    index : {"birth", "death"}, default="birth"
        ``"birth"``: a bar counts at its birth layer b. ``"death"``: at its
        last layer alive ``d - 1`` (the authors' published curves are indexed
        by the death layer).

    Returns
    -------
    ndarray of float of shape (n_layers,)
    """
    alpha = check_float(alpha, "alpha", low=0.0, caller="births_relative_frequency")
    index = check_option(index, "index", BRF_INDEX, caller="births_relative_frequency")
    return _brf(birth_death_histogram(barcode, dim), alpha, index)


def correlation_length(barcode, dim: int = 1, threshold: float = 0.5) -> tuple:
    """Correlation lengths ``kappa_p`` at a threshold q.

    Parameters
    ----------
    threshold : float in [0, 1], default=0.5

    Returns
    -------
    full : ndarray of int of shape (n_layers,)
        Number of layers j with ``P_p(l, j) > q``.
    left : ndarray of int of shape (n_layers,)
        Number of those with ``j <= l`` (layer l itself included when
        ``beta_p(l) > 0``): how far back l's cycles reach.
    """
    threshold = check_float(threshold, "threshold", low=0.0, high=1.0, caller="correlation_length")
    above = inter_layer_persistence(barcode, dim) > threshold
    return above.sum(axis=1), np.tril(above).sum(axis=1)


# ---------------------------------------------------------------- all of them
