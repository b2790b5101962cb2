"""zigzag: zigzag persistence of how a network's representations move through its layers.

The data flow, one module per stage::

    model + texts --adapters--> LayerClouds --knn/complexes--> flag complexes
      --filtration/engines--> Barcode --descriptors--> curves --pruning--> plans

Quick start::

    import zigzag
    bars = zigzag.compute(clouds, k=5, max_dim=1)
"""

from .barcode import Barcode
from .clouds import LayerClouds, as_layer_clouds
from .datasets import synthetic_trajectory
from .io import load_clouds, save_clouds
from .pipeline import compute

__version__ = "0.1.0"

__all__ = [
    "Barcode",
    "LayerClouds",
    "as_layer_clouds",
    "compute",
    "load_clouds",
    "save_clouds",
    "synthetic_trajectory",
    "__version__",
]
