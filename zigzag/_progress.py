"""Progress bars: tqdm's notebook widget where one can be drawn, its text bar everywhere else.

``tqdm.auto`` warns ("IProgress not found") in every notebook without
ipywidgets and then falls back to the text bar anyway; zigzag picks the text
bar itself in that case, so ``import zigzag`` and its bars stay silent.
"""

from __future__ import annotations

import functools
import importlib.util

__all__ = ["progress_bar"]


def progress_bar(iterable=None, **kwargs):
    """A tqdm bar (``tqdm(iterable, **kwargs)``) of the kind this environment can show."""
    return _bar_class()(iterable, **kwargs)


@functools.lru_cache(maxsize=None)
def _bar_class():
    if importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm
