"""The sequence of point clouds a model's layers produce: the input of the TDA core.

A :class:`LayerClouds` holds one ``(n_points, n_features)`` array per
representation (layer), in depth order. Point ``i`` is the same input (prompt)
in every layer; that order never changes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ._frozen import FrozenRecord
from .errors import InputTypeError

__all__ = ["LayerClouds", "as_layer_clouds"]


def _to_numpy(array, where: str) -> np.ndarray:
    """Convert a numpy array, a torch tensor or a nested list to a float ndarray."""
    if hasattr(array, "detach") and hasattr(array, "cpu"):  # a torch tensor, without importing torch
        array = array.detach().cpu()
        if str(array.dtype) in ("torch.bfloat16", "torch.float16"):
            array = array.float()
        array = array.numpy()
    array = np.asarray(array)
    if array.dtype.kind not in "fiub":
        raise InputTypeError(f"{where} must hold real numbers, got dtype {array.dtype}.")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    return array


@dataclass(frozen=True, eq=False)
class LayerClouds(FrozenRecord):
    """One point cloud per representation of a model, the points matched across layers.

    Parameters
    ----------
    layers : tuple of ndarray of shape (n_points, n_features_l)
        The clouds in depth order; the width may differ between layers, the
        number of points may not.
    names : tuple of str
        One name per layer (for example ``"layers.3.post_attention_layernorm"``).
    meta : mapping
        How the clouds were made (model, hook, pooling, texts hash, ...). Stored
        next to every result computed from them.

    Use :func:`as_layer_clouds` to build one from an array, a list or tensors.
    """

    layers: tuple
    names: tuple
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def n_layers(self) -> int:
        """Number of representations n."""
        return len(self.layers)

    @property
    def n_points(self) -> int:
        """Number of points (inputs) N in every layer."""
        return int(self.layers[0].shape[0])

    @property
    def n_features(self) -> tuple:
        """Width of each layer."""
        return tuple(int(x.shape[1]) for x in self.layers)

    def __len__(self) -> int:
        return self.n_layers

    def __getitem__(self, layer: int) -> np.ndarray:
        return self.layers[layer]

    def to_array(self) -> np.ndarray:
        """Stack into an ndarray of shape (n_layers, n_points, n_features).

        Raises
        ------
        ValueError
            If the layers have different widths.
        """
        if len(set(self.n_features)) != 1:
            raise ValueError(
                f"Layers have different widths {self.n_features}; use clouds.layers to get them one by one."
            )
        return np.stack([np.asarray(x) for x in self.layers])

    def subset(self, points) -> "LayerClouds":
        """The same layers restricted to the given point indices (in the given order)."""
        points = np.asarray(points)
        if points.ndim != 1 or points.dtype.kind not in "iu":
            raise InputTypeError("points must be a 1-D array of integer point indices.")
        if points.size and (points.min() < -self.n_points or points.max() >= self.n_points):
            raise ValueError(f"point indices must lie in [0, {self.n_points}); got {points.min()}..{points.max()}.")
        meta = dict(self.meta, n_points_total=self.meta.get("n_points_total", self.n_points))
        return LayerClouds(tuple(np.asarray(x[points]) for x in self.layers), self.names, meta)

    def select_layers(self, layers) -> "LayerClouds":
        """The clouds of the given layer indices, in the given order."""
        layers = [int(i) for i in layers]
        return as_layer_clouds([self.layers[i] for i in layers], names=[self.names[i] for i in layers], meta=self.meta)


def as_layer_clouds(clouds, *, names: Sequence[str] | None = None, meta: Mapping | None = None) -> LayerClouds:
    """Validate activations and wrap them as :class:`LayerClouds`.

    Parameters
    ----------
    clouds : LayerClouds, array-like of shape (n_layers, n_points, n_features), or list of (n_points, n_features_l)
        numpy arrays (memory maps included), torch tensors or nested lists.
    names : sequence of str, optional
        One name per layer; default ``"layer 0"``, ``"layer 1"``, ...
    meta : mapping, optional
        Provenance stored with the clouds.

    Returns
    -------
    LayerClouds

    Raises
    ------
    ValueError
        Fewer than 2 layers, a layer that is not 2-D, layers with different
        numbers of points, no points, or NaN/inf values.
    TypeError
        Non-numeric data.

    Warns
    -----
    UserWarning
        When a 3-D array has more layers than points (it may be transposed).

    Examples
    --------
    >>> import numpy as np
    >>> clouds = as_layer_clouds(np.zeros((3, 10, 4)) + np.arange(10)[None, :, None])
    >>> clouds.n_layers, clouds.n_points
    (3, 10)
    """
    if isinstance(clouds, LayerClouds):
        if names is None and meta is None:
            return clouds
        return as_layer_clouds(list(clouds.layers), names=names or clouds.names, meta=meta or clouds.meta)
    if isinstance(clouds, (list, tuple)):
        layers = [_to_numpy(x, f"Layer {i} of clouds") for i, x in enumerate(clouds)]
    else:
        array = _to_numpy(clouds, "clouds")
        if array.ndim != 3:
            raise ValueError(
                f"clouds must be a 3-D array of shape (n_layers, n_points, n_features); got shape {array.shape}. "
                "For a single layer use array[None, :, :]; for layers of different widths pass a list of 2-D arrays."
            )
        if array.shape[0] > array.shape[1]:
            warnings.warn(
                f"clouds has shape {array.shape}: more layers ({array.shape[0]}) than points ({array.shape[1]}). "
                "The expected order is (n_layers, n_points, n_features); did you mean array.transpose(1, 0, 2)?",
                UserWarning,
                stacklevel=2,
            )
        layers = list(array)
    if len(layers) < 2:
        raise ValueError(f"A zigzag needs at least 2 layers; got {len(layers)}. Pass one cloud per layer.")
    problems = []
    for i, x in enumerate(layers):
        if x.ndim != 2:
            problems.append(f"layer {i}: expected shape (n_points, n_features), got {x.shape}")
        elif x.shape[0] != layers[0].shape[0]:
            problems.append(f"layer {i}: {x.shape[0]} points, but layer 0 has {layers[0].shape[0]}")
        elif x.shape[0] == 0 or x.shape[1] == 0:
            problems.append(f"layer {i}: empty cloud of shape {x.shape}")
        elif not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).any(axis=1).sum())
            problems.append(f"layer {i}: {bad} points contain NaN or inf; drop or fix those inputs")
    if problems:
        raise ValueError("Invalid clouds: " + "; ".join(problems) + ".")
    if names is None:
        names = [f"layer {i}" for i in range(len(layers))]
    names = tuple(str(s) for s in names)
    if len(names) != len(layers):
        raise ValueError(f"names has {len(names)} entries but there are {len(layers)} layers.")
    return LayerClouds(tuple(layers), names, meta or {})
