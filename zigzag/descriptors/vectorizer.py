"""Barcodes to fixed-length vectors, with the scikit-learn transformer contract."""

from __future__ import annotations

import inspect

import numpy as np

from .._validation import check_dims, check_float, check_int, check_option, python_scalar
from ._kernels import (BRF_INDEX, CURVES, NORMALIZATIONS)
from .summary import Descriptors, describe


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
    >>> from zigzag import Barcode
    >>> bars_a = Barcode.from_arrays([1, 1], [0, 2], [5, 5], n_layers=3)
    >>> bars_b = Barcode.from_arrays([1, 1, 1], [0, 2, 4], [9, 5, 9], n_layers=5)
    >>> vec = DescriptorVectorizer(dims=(1,), n_points=16)
    >>> X = vec.fit_transform([bars_a, bars_b])
    >>> X.shape
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

    def __sklearn_tags__(self):
        """scikit-learn's tags (>= 1.6): a transformer whose input is a list of barcodes, not an array."""
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=[]), requires_fit=True,
                    input_tags=InputTags(one_d_array=False, two_d_array=False))

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
            "dims": check_dims(self.dims, caller),
            "alpha": check_float(python_scalar(self.alpha), "alpha", low=0.0, caller=caller),
            "n_points": check_int(python_scalar(self.n_points), "n_points", minimum=2, caller=caller),
            "threshold": check_float(python_scalar(self.threshold), "threshold", low=0.0, high=1.0, caller=caller),
            "brf_index": check_option(self.brf_index, "brf_index", BRF_INDEX, caller=caller),
            "normalization": check_option(self.normalization, "normalization", NORMALIZATIONS, caller=caller),
        }

    @staticmethod
    def _as_list(X) -> list:
        from ..barcode import Barcode

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
        """``fit(X).transform(X)``, reading ``X`` once (it may be a generator)."""
        items = self._as_list(X)
        return self.fit(items, y).transform(items)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns (``"<curve>_H<p>@<relative depth>"``)."""
        if not hasattr(self, "feature_names_out_"):
            raise _not_fitted("This DescriptorVectorizer instance is not fitted yet. Call 'fit' first.")
        return self.feature_names_out_.copy()
