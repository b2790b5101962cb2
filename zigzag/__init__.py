"""zigzag: zigzag persistence of how a network's representations move through its layers.

The data flow, one module per stage::

    model + texts --adapters--> LayerClouds --knn/complexes--> flag complexes
      --filtration/engines--> Barcode --descriptors--> curves --pruning--> plans

Quick start::

    import zigzag
    bars = zigzag.compute(clouds, k=5, max_dim=1)
    desc = zigzag.describe(bars)
    plan = zigzag.prune_plan(bars, q=0.9)
    zigzag.plot_diagram(bars)

Plotting (matplotlib) and the model adapters (torch, transformers) are
imported on first use, so the TDA core loads with numpy alone.
"""

import importlib

from ._version import __version__
from .barcode import Barcode
from .clouds import LayerClouds, as_layer_clouds
from .cycles import Cycle, cycles
from .datasets import synthetic_trajectory
from .descriptors import DescriptorVectorizer, Descriptors, describe
from .io import load_clouds, save_clouds
from .pipeline import SubsetDescriptors, compute, describe_subsets
from .pruning import PrunePlan, prune_plan, prune_plans, pruning_profile


_LAZY = {
    "extract": "adapters",
    "extract_from_module": "adapters",
    "load_extraction": "streaming",
    "prune_model": "models",
    "evaluate": "models",
    "Evaluation": "models",
    "load_embedded_model": "adapters",
    "embedded_model_path": "adapters",
    "load_model": "adapters",
    "lm_eval_tasks": "models",
    "block_distances": "baselines",
    "baseline_plans": "baselines",
    "angular_distance_plan": "baselines",
    "block_influence_plan": "baselines",
    "BlockDistances": "baselines",
    "builtin_corpus": "texts",
    "load_texts": "texts",
    "plot_diagram": "plotting",
    "plot_barcode": "plotting",
    "plot_histogram": "plotting",
    "plot_betti": "plotting",
    "plot_similarity": "plotting",
    "plot_curves": "plotting",
    "plot_profile": "plotting",
    "plot_cycle": "plotting",
    "sweep": "sweeping",
    "distance": "distances",
    "distance_matrix": "distances",
}

__all__ = [
    "Barcode",
    "Cycle",
    "DescriptorVectorizer",
    "Descriptors",
    "LayerClouds",
    "PrunePlan",
    "SubsetDescriptors",
    "as_layer_clouds",
    "compute",
    "cycles",
    "describe",
    "describe_subsets",
    "load_clouds",
    "prune_plan",
    "prune_plans",
    "pruning_profile",
    "save_clouds",
    "synthetic_trajectory",
    "__version__",
    *_LAZY,
]


def __getattr__(name):
    """Import plotting and the model adapters only when one of their names is first used."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zigzag' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
