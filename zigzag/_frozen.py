"""Pickling and copying of the frozen result objects, whose mappings are read-only proxies.

``types.MappingProxyType`` cannot be pickled, so without this a ``Barcode`` or
``Descriptors`` could not go to another process (joblib, dask, a scikit-learn
grid search with ``n_jobs``) nor through ``copy.deepcopy``.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType


def _thaw(value):
    if isinstance(value, MappingProxyType):
        return {key: _thaw(item) for key, item in value.items()}
    return value


class FrozenRecord:
    """Mixin for frozen dataclasses: pickle (and deep-copy) by calling the constructor again.

    The constructor's ``__post_init__`` then freezes the mappings and arrays
    exactly as it did the first time.
    """

    __slots__ = ()

    def __reduce__(self):
        values = tuple(_thaw(getattr(self, f.name)) for f in dataclasses.fields(self) if f.init)
        return (self.__class__, values)
