"""zigzag._progress: the text bar where tqdm.auto would warn that no notebook widget can be drawn."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("widgets", [False, True])
def test_progress_bars_are_text_bars_without_ipywidgets(monkeypatch, widgets):
    import importlib.util

    from tqdm import std

    from zigzag import _progress

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: (object() if widgets else None)
                        if name == "ipywidgets" else real(name, *a))
    _progress._bar_class.cache_clear()
    try:
        bar = _progress.progress_bar(range(3), disable=True)
        assert list(bar) == [0, 1, 2]
        if not widgets:
            assert type(bar) is std.tqdm  # tqdm.auto would warn "IProgress not found" in a notebook
        else:
            from tqdm.auto import tqdm as auto

            assert type(bar) is auto
    finally:
        _progress._bar_class.cache_clear()
