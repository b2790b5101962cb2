"""Descriptors of a zigzag barcode, per homology dimension p (SPEC §5).

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

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ._files import jsonable, write_json
from ._validation import check_barcode, check_float, check_int, check_option, python_scalar

__all__ = [
    "Descriptors",
    "SubsetDescriptors",
    "DescriptorVectorizer",
    "describe",
    "describe_subsets",
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

NORMALIZATIONS = ("column", "row", "none")
BRF_INDEX = ("birth", "death")
#: Curves (one value per layer) a :class:`Descriptors` holds, and their per-alpha ones.
CURVES = ("betti", "average_similarity", "ilp", "brf", "correlation_length", "correlation_length_left")
ALPHA_CURVES = ("ilp", "brf")
MATRICES = ("histogram", "similarity")


# ---------------------------------------------------------------- input checks
def _check_dims(dims, caller: str) -> tuple:
    values = [dims] if np.isscalar(dims) else list(dims)
    out = tuple(check_int(python_scalar(p), "dims", minimum=0, caller=caller) for p in values)
    if not out:
        raise ValueError(f"The 'dims' parameter of {caller} must name at least one homology dimension, e.g. (0, 1).")
    if len(set(out)) != len(out):
        raise ValueError(f"The 'dims' parameter of {caller} has repeated dimensions {out}; list each once.")
    return out


def _check_alpha(alpha, caller: str) -> tuple:
    values = [alpha] if np.isscalar(alpha) else list(alpha)
    out = tuple(check_float(python_scalar(a), "alpha", low=0.0, caller=caller) for a in values)
    if not out:
        raise ValueError(f"The 'alpha' parameter of {caller} must hold at least one exponent >= 0, e.g. 1.0.")
    return out


def _safe_div(num, den) -> np.ndarray:
    """``num / den`` with ``0/0`` (and anything over 0) defined as 0."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=float), np.asarray(den, dtype=float))
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


# ---------------------------------------------------------------- kernels on H (internal, trusted inputs)
def _histogram(barcode, dim: int) -> np.ndarray:
    n = barcode.n_layers
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
    weights = np.abs(np.subtract.outer(i, i)).astype(float) ** alpha  # 0.0 ** 0 == 1
    return _safe_div((weights * persistence).sum(axis=1), weights.sum(axis=1))


def _brf(hist: np.ndarray, alpha: float, index: str) -> np.ndarray:
    n = hist.shape[0]
    life = np.arange(n + 1)[None, :] - np.arange(n)[:, None]  # d - b
    weighted = np.where(hist > 0, hist * np.maximum(life, 1).astype(float) ** alpha, 0.0)
    per_layer = weighted.sum(axis=1) if index == "birth" else weighted.sum(axis=0)[1:]
    return _safe_div(per_layer, per_layer.sum())


def _birth_persistence(hist: np.ndarray) -> np.ndarray:
    n = hist.shape[0]
    b = np.arange(n)[:, None]
    d = b + np.arange(n + 1)[None, :]
    return np.where(d <= n, hist[b, np.minimum(d, n)], 0)


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
    >>> bars = Barcode.from_arrays([1], [2], [5], n_layers=3)   # doctest: +SKIP
    >>> birth_death_histogram(bars, 1)[1, 3]                      # doctest: +SKIP
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
def _frozen(mapping) -> Mapping:
    out = {}
    for key, value in mapping.items():
        value = np.asarray(value)
        value.setflags(write=False)
        out[int(key)] = value
    return MappingProxyType(out)


@dataclass(frozen=True, eq=False)
class Descriptors:
    """Every descriptor of a barcode, per homology dimension, with the parameters that made them.

    Built by :func:`describe`. Each descriptor field maps a homology
    dimension p to an array; layers are 0-based, ``n = n_layers``.

    Attributes
    ----------
    n_layers : int
    dims : tuple of int
    alpha : tuple of float
        The exponents of ``ilp`` and ``brf`` (their first axis).
    threshold : float
        The threshold q of the correlation lengths.
    brf_index : {"birth", "death"}
        Which layer a bar counts at in ``brf``.
    normalization : {"column", "row", "none"}
        The normalisation of ``average_similarity``.
    betti : mapping p -> ndarray of shape (n,)
    histogram : mapping p -> ndarray of shape (n, n+1)
        ``H_p(b, d)``.
    similarity : mapping p -> ndarray of shape (n, n)
        ``S_p(i, j)``.
    average_similarity : mapping p -> ndarray of shape (n,)
        ``S̄_p``.
    ilp, brf : mapping p -> ndarray of shape (len(alpha), n)
    correlation_length, correlation_length_left : mapping p -> ndarray of shape (n,)
    params : mapping
        The barcode's parameters (k, metric, model, ...).

    For :func:`describe_subsets` means and standard deviations the same
    fields hold floats.
    """

    n_layers: int
    dims: tuple
    alpha: tuple
    threshold: float
    brf_index: str
    normalization: str
    betti: Mapping
    histogram: Mapping
    similarity: Mapping
    average_similarity: Mapping
    ilp: Mapping
    brf: Mapping
    correlation_length: Mapping
    correlation_length_left: Mapping
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        for name in CURVES + MATRICES:
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "dims", tuple(int(p) for p in self.dims))
        object.__setattr__(self, "alpha", tuple(float(a) for a in self.alpha))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __repr__(self) -> str:
        return (
            f"Descriptors(n_layers={self.n_layers}, dims={self.dims}, alpha={self.alpha}, "
            f"threshold={self.threshold:g}, brf_index={self.brf_index!r}, normalization={self.normalization!r})"
        )

    # ------------------------------------------------------------------ views
    @property
    def relative_depth(self) -> np.ndarray:
        """``l / (n - 1)`` for every layer: ndarray of shape (n,) from 0 to 1."""
        return np.arange(self.n_layers) / max(self.n_layers - 1, 1)

    def _check_dim(self, dim) -> int:
        if dim not in self.dims:
            raise ValueError(f"No descriptors for dimension {dim!r}; these were computed for dims {self.dims}. "
                             f"Pass dims=(..., {dim}) to describe().")
        return int(dim)

    def curve(self, name: str, dim: int = 1, alpha: float | None = None) -> np.ndarray:
        """One curve over the layers.

        Parameters
        ----------
        name : {"betti", "average_similarity", "ilp", "brf", "correlation_length", "correlation_length_left"}
        dim : int, default=1
        alpha : float, optional
            For ``ilp`` and ``brf``: which exponent (default: the first one).

        Returns
        -------
        ndarray of shape (n_layers,)
        """
        check_option(name, "name", CURVES, caller="Descriptors.curve")
        values = getattr(self, name)[self._check_dim(dim)]
        if name not in ALPHA_CURVES:
            return values
        if alpha is None:
            return values[0]
        hits = [i for i, a in enumerate(self.alpha) if np.isclose(a, alpha)]
        if not hits:
            raise ValueError(f"No {name} for alpha={alpha!r}; these descriptors have alpha={self.alpha}.")
        return values[hits[0]]

    def birth_persistence(self, dim: int = 1) -> np.ndarray:
        """Birth × persistence view of ``histogram[dim]``, ndarray of shape (n, n+1)."""
        return _birth_persistence(self.histogram[self._check_dim(dim)])

    def persistence_matrix(self, dim: int = 1) -> np.ndarray:
        """``P_p(l, j) = S_p(l, j) / beta_p(l)``, ndarray of shape (n, n)."""
        dim = self._check_dim(dim)
        return _safe_div(self.similarity[dim], np.asarray(self.betti[dim], dtype=float)[:, None])

    # ------------------------------------------------------------------ conversion
    def to_dict(self) -> dict:
        """Plain, JSON-ready dict: parameters, then each descriptor keyed by dimension (as a string)."""
        out = {
            "format": "zigzag-descriptors",
            "n_layers": self.n_layers,
            "dims": list(self.dims),
            "alpha": list(self.alpha),
            "threshold": self.threshold,
            "brf_index": self.brf_index,
            "normalization": self.normalization,
            "params": jsonable(dict(self.params)),
        }
        for name in CURVES + MATRICES:
            out[name] = {str(p): getattr(self, name)[p].tolist() for p in self.dims}
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "Descriptors":
        """Inverse of :meth:`to_dict`."""
        if data.get("format") != "zigzag-descriptors":
            raise ValueError("Not a descriptors dict: expected 'format': 'zigzag-descriptors'.")
        arrays = {name: {int(p): np.asarray(v) for p, v in data[name].items()} for name in CURVES + MATRICES}
        return cls(
            n_layers=int(data["n_layers"]), dims=data["dims"], alpha=data["alpha"],
            threshold=float(data["threshold"]), brf_index=data["brf_index"],
            normalization=data["normalization"], params=data.get("params", {}), **arrays,
        )

    def save(self, path):
        """Write :meth:`to_dict` as JSON (atomically); returns the path."""
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path) -> "Descriptors":
        """Read a file written by :meth:`save`."""
        from pathlib import Path

        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_records(self) -> list:
        """The curves as a tidy list of dicts, one per (descriptor, dim, alpha, layer).

        Keys: ``descriptor, dim, alpha`` (None for curves without one),
        ``layer, relative_depth, value``. The matrices (``histogram``,
        ``similarity``) are not included; take them from the attributes.
        """
        depth = self.relative_depth
        rows = []
        for name in CURVES:
            for p in self.dims:
                values = getattr(self, name)[p]
                series = zip(self.alpha, values) if name in ALPHA_CURVES else [(None, values)]
                for a, curve in series:
                    rows.extend(
                        {"descriptor": name, "dim": p, "alpha": a, "layer": layer,
                         "relative_depth": float(depth[layer]), "value": curve[layer].item()}
                        for layer in range(self.n_layers)
                    )
        return rows

    def to_frame(self):
        """:meth:`to_records` as a pandas DataFrame (needs the ``tables`` extra: ``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "Descriptors.to_frame needs pandas; install it with `pip install zigzag-tda[tables]` "
                "or use Descriptors.to_records() for plain dicts."
            ) from None
        return pd.DataFrame.from_records(self.to_records(),
                                         columns=["descriptor", "dim", "alpha", "layer", "relative_depth", "value"])


def describe(barcode, dims=(0, 1, 2), alpha=(0.0, 1.0), *, threshold: float = 0.5, brf_index: str = "birth",
             normalization: str = "column") -> Descriptors:
    """Compute every descriptor of SPEC §5 for the given homology dimensions.

    Parameters
    ----------
    barcode : Barcode
    dims : int or iterable of int, default=(0, 1, 2)
        Homology dimensions p. Dimensions without bars give zero curves.
    alpha : float or iterable of float >= 0, default=(0.0, 1.0)
        Exponents of ``ILP_{p,alpha}`` and ``BRF_{p,alpha}``.
    threshold : float in [0, 1], default=0.5
        Threshold q of the correlation lengths.
    brf_index : {"birth", "death"}, default="birth"
        Count bars at their birth layer or at their last layer alive.
    normalization : {"column", "row", "none"}, default="column"
        Normalisation of ``S̄_p`` (column is the paper's, used for pruning).

    Returns
    -------
    Descriptors

    Examples
    --------
    >>> desc = zigzag.describe(bars, dims=(1,))         # doctest: +SKIP
    >>> int(desc.average_similarity[1].argmax())          # doctest: +SKIP
    23
    """
    check_barcode(barcode, "describe")
    dims = _check_dims(dims, "describe")
    alphas = _check_alpha(alpha, "describe")
    threshold = check_float(threshold, "threshold", low=0.0, high=1.0, caller="describe")
    brf_index = check_option(brf_index, "brf_index", BRF_INDEX, caller="describe")
    normalization = check_option(normalization, "normalization", NORMALIZATIONS, caller="describe")
    fields = {name: {} for name in CURVES + MATRICES}
    for p in dims:
        hist = _histogram(barcode, p)
        sim = _similarity(hist)
        betti = np.diagonal(sim).copy()
        pers = _safe_div(sim, betti[:, None])
        above = pers > threshold
        fields["histogram"][p] = hist
        fields["similarity"][p] = sim
        fields["betti"][p] = betti
        fields["average_similarity"][p] = _average(sim, betti, normalization)
        fields["ilp"][p] = np.stack([_ilp(pers, a) for a in alphas])
        fields["brf"][p] = np.stack([_brf(hist, a, brf_index) for a in alphas])
        fields["correlation_length"][p] = above.sum(axis=1)
        fields["correlation_length_left"][p] = np.tril(above).sum(axis=1)
    return Descriptors(
        n_layers=barcode.n_layers, dims=dims, alpha=alphas, threshold=threshold, brf_index=brf_index,
        normalization=normalization, params=dict(barcode.params), **fields,
    )


# ---------------------------------------------------------------- uncertainty over subsets of the prompts
@dataclass(frozen=True, eq=False)
class SubsetDescriptors:
    """Descriptors over disjoint random subsets of the prompts, and their mean and spread.

    Attributes
    ----------
    mean, std : Descriptors
        Element-wise mean and sample standard deviation (``ddof=1``) of every
        field over the subsets (floats).
    members : tuple of Descriptors
        One per subset.
    subsets : ndarray of int of shape (n_subsets, subset_size)
        The point (prompt) indices of each subset, each row ascending.
    barcodes : tuple of Barcode
        One per subset.
    """

    mean: Descriptors
    std: Descriptors
    members: tuple
    subsets: np.ndarray
    barcodes: tuple

    @property
    def n_subsets(self) -> int:
        return len(self.members)

    def to_dict(self) -> dict:
        """JSON-ready dict with ``mean``, ``std`` (descriptor dicts) and ``subsets``."""
        return {"mean": self.mean.to_dict(), "std": self.std.to_dict(), "subsets": self.subsets.tolist()}


def _reduce(members, reducer) -> Descriptors:
    first = members[0]
    fields = {
        name: {p: reducer(np.stack([np.asarray(getattr(m, name)[p], dtype=float) for m in members]))
               for p in first.dims}
        for name in CURVES + MATRICES
    }
    return Descriptors(
        n_layers=first.n_layers, dims=first.dims, alpha=first.alpha, threshold=first.threshold,
        brf_index=first.brf_index, normalization=first.normalization, params=dict(first.params), **fields,
    )


def describe_subsets(clouds, subset_size: int, n_subsets: int, seed=None, *, dims=(0, 1), alpha=(0.0, 1.0),
                     threshold: float = 0.5, brf_index: str = "birth", normalization: str = "column",
                     progress: bool = False, **compute_kwargs) -> SubsetDescriptors:
    """Descriptors on disjoint random subsets of the prompts: mean ± std of every curve.

    The papers report e.g. 16 subsets of 500 prompts. Subsets are drawn
    without overlap from one permutation of the points made with
    ``np.random.default_rng(seed)``; each gets its own barcode from
    :func:`zigzag.pipeline.compute`.

    Parameters
    ----------
    clouds : LayerClouds or array-like of shape (n_layers, n_points, n_features)
    subset_size : int
        Points per subset.
    n_subsets : int >= 2
        ``n_subsets * subset_size`` must not exceed ``n_points``.
    seed : int, numpy.random.Generator or None
    dims, alpha, threshold, brf_index, normalization
        As in :func:`describe`.
    progress : bool, default=False
        Passed to compute (progress bars per subset).
    **compute_kwargs
        Passed to :func:`zigzag.pipeline.compute` (``k``, ``max_dim``,
        ``metric``, ...). ``max_dim`` defaults to ``max(dims)``.

    Returns
    -------
    SubsetDescriptors

    Raises
    ------
    ValueError
        If the subsets do not fit into the points.
    """
    from .clouds import as_layer_clouds
    from .pipeline import compute

    clouds = as_layer_clouds(clouds)
    subset_size = check_int(subset_size, "subset_size", minimum=1, caller="describe_subsets")
    n_subsets = check_int(n_subsets, "n_subsets", minimum=2, caller="describe_subsets")
    if subset_size * n_subsets > clouds.n_points:
        raise ValueError(
            f"describe_subsets: {n_subsets} disjoint subsets of {subset_size} points need "
            f"{n_subsets * subset_size} points, but the clouds have {clouds.n_points}. "
            f"Lower n_subsets or subset_size (e.g. subset_size={clouds.n_points // n_subsets})."
        )
    dims = _check_dims(dims, "describe_subsets")
    compute_kwargs.setdefault("max_dim", max(dims))
    rng = np.random.default_rng(seed)
    order = rng.permutation(clouds.n_points)[: n_subsets * subset_size]
    subsets = np.sort(order.reshape(n_subsets, subset_size), axis=1)
    barcodes, members = [], []
    for points in subsets:
        bars = compute(clouds.subset(points), progress=progress, **compute_kwargs)
        barcodes.append(bars)
        members.append(describe(bars, dims=dims, alpha=alpha, threshold=threshold, brf_index=brf_index,
                                normalization=normalization))
    return SubsetDescriptors(
        mean=_reduce(members, lambda a: a.mean(axis=0)),
        std=_reduce(members, lambda a: a.std(axis=0, ddof=1)),
        members=tuple(members), subsets=subsets, barcodes=tuple(barcodes),
    )


# ---------------------------------------------------------------- scikit-learn style vectoriser
def _not_fitted(message: str) -> Exception:
    """scikit-learn's NotFittedError when it is installed (its tools recognise it), else a plain one.

    Imported here, not at module level: scikit-learn is optional and slow to import.
    """
    try:
        from sklearn.exceptions import NotFittedError as error_type
    except ImportError:  # pragma: no cover - exercised only without scikit-learn
        error_type = NotFittedError
    return error_type(message)


class NotFittedError(ValueError, AttributeError):
    """Raised when a DescriptorVectorizer is used before ``fit`` (without scikit-learn installed)."""


class DescriptorVectorizer:
    """Map barcodes to fixed-length descriptor vectors (scikit-learn transformer contract).

    Each chosen curve is resampled by linear interpolation onto ``n_points``
    evenly spaced relative depths in [0, 1], so models with different numbers
    of layers give vectors of the same length. Works with
    ``sklearn.base.clone``, ``Pipeline`` and grid search (scikit-learn itself
    is not required).

    Parameters
    ----------
    curves : tuple of str, default=("average_similarity", "ilp", "brf")
        Any of ``"betti"``, ``"average_similarity"``, ``"ilp"``, ``"brf"``,
        ``"correlation_length"``, ``"correlation_length_left"``.
    dims : tuple of int, default=(1,)
    alpha : float >= 0, default=1.0
        Exponent for ``ilp`` and ``brf``.
    n_points : int >= 2, default=32
        Samples per curve.
    threshold, brf_index, normalization
        As in :func:`describe`.

    Attributes
    ----------
    n_features_out_ : int
        ``len(curves) * len(dims) * n_points``.
    feature_names_out_ : ndarray of str of shape (n_features_out_,)
        ``"<curve>_H<p>@<depth>"``.

    Examples
    --------
    >>> vec = DescriptorVectorizer(dims=(1,), n_points=16)      # doctest: +SKIP
    >>> X = vec.fit_transform([bars_a, bars_b])                   # doctest: +SKIP
    >>> X.shape                                                   # doctest: +SKIP
    (2, 48)
    """

    def __init__(self, *, curves=("average_similarity", "ilp", "brf"), dims=(1,), alpha=1.0, n_points=32,
                 threshold=0.5, brf_index="birth", normalization="column"):
        self.curves = curves
        self.dims = dims
        self.alpha = alpha
        self.n_points = n_points
        self.threshold = threshold
        self.brf_index = brf_index
        self.normalization = normalization

    # the estimator API, without depending on scikit-learn
    @classmethod
    def _get_param_names(cls):
        return sorted(p.name for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self")

    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters, as scikit-learn's ``BaseEstimator.get_params``."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params) -> "DescriptorVectorizer":
        """Set constructor parameters; unknown names raise ValueError."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for DescriptorVectorizer; valid ones are {valid}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"DescriptorVectorizer({args})"

    def _validated(self) -> dict:
        caller = "DescriptorVectorizer"
        curves = [self.curves] if isinstance(self.curves, str) else list(self.curves)
        if not curves:
            raise ValueError(f"The 'curves' parameter of {caller} must name at least one of {CURVES}.")
        for name in curves:
            check_option(name, "curves", CURVES, caller=caller)
        return {
            "curves": tuple(curves),
            "dims": _check_dims(self.dims, caller),
            "alpha": check_float(python_scalar(self.alpha), "alpha", low=0.0, caller=caller),
            "n_points": check_int(python_scalar(self.n_points), "n_points", minimum=2, caller=caller),
            "threshold": check_float(python_scalar(self.threshold), "threshold", low=0.0, high=1.0, caller=caller),
            "brf_index": check_option(self.brf_index, "brf_index", BRF_INDEX, caller=caller),
            "normalization": check_option(self.normalization, "normalization", NORMALIZATIONS, caller=caller),
        }

    @staticmethod
    def _as_list(X) -> list:
        from .barcode import Barcode

        if isinstance(X, (Barcode, Descriptors)):
            raise TypeError("DescriptorVectorizer takes a list of barcodes (one per sample); wrap a single one: [bars].")
        items = list(X)
        if not items:
            raise ValueError("DescriptorVectorizer needs at least one barcode; got an empty sequence.")
        for i, item in enumerate(items):
            if not isinstance(item, (Barcode, Descriptors)):
                raise TypeError(f"Entry {i} of X is a {type(item).__name__}; expected a zigzag.Barcode or Descriptors.")
        return items

    def fit(self, X, y=None) -> "DescriptorVectorizer":
        """Check the parameters and the input; learn the output feature names.

        Parameters
        ----------
        X : sequence of Barcode (or Descriptors)
        y : ignored

        Returns
        -------
        self
        """
        params = self._validated()
        self._as_list(X)
        grid = np.linspace(0.0, 1.0, params["n_points"])
        names = [f"{c}_H{p}@{g:.3f}" for c in params["curves"] for p in params["dims"] for g in grid]
        self.feature_names_out_ = np.asarray(names, dtype=object)
        self.n_features_out_ = len(names)
        return self

    def transform(self, X) -> np.ndarray:
        """Descriptor vectors of the barcodes.

        Parameters
        ----------
        X : sequence of Barcode (or Descriptors computed with this alpha)

        Returns
        -------
        ndarray of float of shape (n_samples, n_features_out_)
        """
        if not hasattr(self, "n_features_out_"):
            raise _not_fitted(
                "This DescriptorVectorizer instance is not fitted yet. Call 'fit' with appropriate arguments "
                "before using this estimator."
            )
        params = self._validated()
        grid = np.linspace(0.0, 1.0, params["n_points"])
        rows = []
        for item in self._as_list(X):
            if isinstance(item, Descriptors):
                desc = item
            else:
                desc = describe(item, dims=params["dims"], alpha=(params["alpha"],), threshold=params["threshold"],
                                brf_index=params["brf_index"], normalization=params["normalization"])
            depth = desc.relative_depth
            rows.append(np.concatenate([
                np.interp(grid, depth, np.asarray(desc.curve(c, p, params["alpha"]), dtype=float))
                for c in params["curves"] for p in params["dims"]
            ]))
        out = np.vstack(rows)
        if out.shape[1] != self.n_features_out_:
            raise ValueError(f"Got {out.shape[1]} features, fitted for {self.n_features_out_}; refit after set_params.")
        return out

    def fit_transform(self, X, y=None) -> np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns (``"<curve>_H<p>@<relative depth>"``)."""
        if not hasattr(self, "feature_names_out_"):
            raise _not_fitted("This DescriptorVectorizer instance is not fitted yet. Call 'fit' first.")
        return self.feature_names_out_.copy()
