"""Reading and writing layer clouds (barcodes read and write themselves: see Barcode.save/load).

:func:`write_json` writes your own results as JSON atomically (numpy arrays and paths allowed).
:func:`output_lock` holds the lock zigzag's writers take on an output (a second writer gets
:class:`OutputLockedError`); :func:`lock_file_of` is the file that lock lives in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._files import OutputLockedError, atomic_path, lock_file_of, output_lock, write_json
from .clouds import LayerClouds, as_layer_clouds
from .streaming import load_extraction

__all__ = ["OutputLockedError", "load_clouds", "lock_file_of", "output_lock", "save_clouds", "write_json"]


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
        When the file type is not supported, the file is damaged or cut
        short, or the content is not valid clouds.
    """
    path = Path(path)
    if path.is_dir():
        return load_extraction(path)
    if not path.exists():
        raise FileNotFoundError(f"No clouds at {path}: expected a .npy file or a folder written by 'zigzag extract'.")
    if path.suffix.lower() != ".npy":
        raise ValueError(
            f"Unsupported clouds file {path.name!r}: save an (n_layers, n_points, n_features) array with numpy.save "
            "as .npy, or pass a folder written by 'zigzag extract'."
        )
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as err:  # numpy raises many kinds on a damaged header
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:100]
        raise ValueError(f"{path} is not a readable .npy array ({reason}); it is damaged or cut short. "
                         "Write it again with numpy.save.") from None
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
