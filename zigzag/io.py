"""Reading and writing layer clouds (barcodes read and write themselves: see Barcode.save/load).

:func:`write_json` writes your own results as JSON atomically (numpy arrays and paths allowed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._files import atomic_path, write_json
from .clouds import LayerClouds, as_layer_clouds
from .streaming import load_extraction

__all__ = ["load_clouds", "save_clouds", "write_json"]


def load_clouds(path) -> LayerClouds:
    """Load layer clouds from a ``.npy`` (n_layers, n_points, n_features) array or an extraction folder.

    The array is memory-mapped, so large files are not read twice. A folder
    must be one written by ``zigzag extract --out DIR`` (or
    :func:`zigzag.extract` with ``out=``).

    Raises
    ------
    FileNotFoundError
        When nothing is at ``path``.
    ValueError
        When the file type is not supported or the content is not valid clouds.
    """
    path = Path(path)
    if path.is_dir():
        return load_extraction(path)
    if not path.exists():
        raise FileNotFoundError(f"No clouds at {path}: expected a .npy file or a folder written by 'zigzag extract'.")
    if path.suffix.lower() != ".npy":
        raise ValueError(f"Unsupported clouds file {path.name!r}: save an (n_layers, n_points, n_features) array with numpy.save as .npy.")
    array = np.load(path, mmap_mode="r", allow_pickle=False)
    return as_layer_clouds(array, meta={"source": str(path)})


def save_clouds(path, clouds) -> Path:
    """Save clouds of equal width as one ``.npy`` array of shape (n_layers, n_points, n_features), atomically."""
    clouds = as_layer_clouds(clouds)
    path = Path(path)
    if path.suffix.lower() != ".npy":
        raise ValueError(f"save_clouds writes .npy files; got {path.name!r}.")
    with atomic_path(path) as tmp:
        np.save(tmp, clouds.to_array())
    return path
