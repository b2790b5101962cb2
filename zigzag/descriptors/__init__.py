"""Descriptors of a zigzag barcode, per homology dimension p .

Everything here works on **layer-level bars** (``barcode.select(p,
layer_level=True)``): a bar alive in layers ``b .. d-1`` (0-based, ``d = n``
when alive at the last layer); bars living only inside one intersection are
dropped. With n representations:

``H_p(b, d)``
    birth–death histogram, ndarray of shape (n, n+1): the number of bars with
    birth layer b (0..n-1) and death layer d (1..n; column 0 is always 0).
``beta_p(l)``
    Betti curve, ``sum_{b <= l < d} H_p(b, d)``.
``S_p(i, j)``
    persistence similarity, the number of bars alive at every layer from
    ``min(i, j)`` to ``max(i, j)``: ``sum_{b <= min} sum_{d > max} H_p(b, d)``.
    Computed for all pairs at once from the 2-D cumulative sums of H.
    ``S_p(l, l) = beta_p(l)``.
``S̄_p(l)``
    average similarity ``(1/n) sum_j S_p(l, j) / beta_p(j)`` (column
    normalisation, as used for pruning; ``"row"`` and ``"none"`` are options).
``P_p(l, j)``
    inter-layer persistence ``S_p(l, j) / beta_p(l)``, and
    ``ILP_{p,a}(l) = sum_j |l-j|^a P_p(l, j) / sum_j |l-j|^a`` (``0^0 = 1``:
    the diagonal has weight 1 when a = 0, 0 when a > 0).
``BRF_{p,a}(l)``
    births' relative frequency: ``sum over bars born at l of (d-b)^a``,
    normalised to sum 1 over layers (a = 0: plain frequency of births). With
    ``index="death"`` the bars are counted at their last layer alive ``d-1``
    instead, as in the authors' published curves.
``kappa_p(l)``
    correlation length at threshold q: the number of layers j with
    ``P_p(l, j) > q`` (full) and the number of those with ``j <= l`` (left,
    how far back the layer's cycles reach, itself included).

Every ratio defines ``0/0 = 0``: a layer without p-cycles has ``P_p = 0`` and
contributes 0 to ``S̄_p``.
"""

from ._kernels import ALPHA_CURVES, BRF_INDEX, CURVES, MATRICES, NORMALIZATIONS
from .curves import (
    average_similarity,
    betti_curve,
    birth_death_histogram,
    birth_persistence_histogram,
    births_relative_frequency,
    correlation_length,
    ilp,
    inter_layer_persistence,
    similarity_matrix,
)
from .summary import Descriptors, describe
from .vectorizer import DescriptorVectorizer, NotFittedError

__all__ = [
    "ALPHA_CURVES",
    "BRF_INDEX",
    "CURVES",
    "MATRICES",
    "NORMALIZATIONS",
    "Descriptors",
    "DescriptorVectorizer",
    "NotFittedError",
    "describe",
    "birth_death_histogram",
    "birth_persistence_histogram",
    "betti_curve",
    "similarity_matrix",
    "average_similarity",
    "inter_layer_persistence",
    "ilp",
    "births_relative_frequency",
    "correlation_length",
]
