"""Every descriptor of a barcode at once: :class:`Descriptors` and :func:`describe`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .._frozen import FrozenRecord
from .._files import jsonable, write_json
from .._validation import check_alphas, check_dims, check_float, check_option, computed_dims
from ..barcode import check_barcode
from ._kernels import (ALPHA_CURVES, BRF_INDEX, CURVES, MATRICES, NORMALIZATIONS, _average, _birth_persistence, _brf,
                       _histogram, _ilp, _safe_div, _similarity)


def _frozen(mapping) -> Mapping:
    out = {}
    for key, value in mapping.items():
        value = np.asarray(value)
        value.setflags(write=False)
        out[int(key)] = value
    return MappingProxyType(out)


@dataclass(frozen=True, eq=False)
class Descriptors(FrozenRecord):
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


def describe(barcode, dims=None, alpha=(0.0, 1.0), *, threshold: float = 0.5, brf_index: str = "birth",
             normalization: str = "column") -> Descriptors:
    """Compute every descriptor (docs/descriptors.md) for the given homology dimensions.

    Parameters
    ----------
    barcode : Barcode
    dims : int or iterable of int, optional
        Homology dimensions p. Default: the dimensions the barcode has,
        ``0 .. params["max_dim"]`` when it records one (``zigzag.compute``
        does), else those with bars. Dimensions without bars give zero curves.
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
    >>> import zigzag
    >>> bars = zigzag.Barcode.from_arrays([1, 1, 1], [0, 2, 2], [7, 5, 3], n_layers=4, params={"max_dim": 1})
    >>> desc = zigzag.describe(bars)
    >>> desc.dims
    (0, 1)
    >>> desc.betti[1].tolist()
    [1, 3, 2, 1]
    >>> int(desc.average_similarity[1].argmax())
    1
    """
    check_barcode(barcode, "describe")
    dims = computed_dims(barcode) if dims is None else check_dims(dims, "describe")
    alphas = check_alphas(alpha, "describe")
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
