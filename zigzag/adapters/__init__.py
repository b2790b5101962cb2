"""From real models to point clouds: transformers models, any torch module, extraction folders.

torch and transformers are imported here and in :mod:`zigzag.models` /
:mod:`zigzag.baselines` only, and lazily, so the TDA core needs numpy alone.
"""

from .families import declared_kind, family_of, resolve_defaults
from .structure import Structure, find_structure
from .hf import NAMED_HOOKS, extract
from .loading import EMBEDDED_MODEL, embedded_model_path, load_embedded_model, load_model
from .pooling import POOLINGS, pool
from ..streaming import load_extraction, read_manifest
from .torch_module import extract_from_module

__all__ = [
    "EMBEDDED_MODEL",
    "embedded_model_path",
    "load_embedded_model",
    "load_model",
    "Structure",
    "declared_kind",
    "find_structure",
    "resolve_defaults",
    "NAMED_HOOKS",
    "POOLINGS",
    "extract",
    "extract_from_module",
    "family_of",
    "load_extraction",
    "pool",
    "read_manifest",
]
