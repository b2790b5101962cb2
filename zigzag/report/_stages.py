"""The stages of a run: one display per stage on stderr, and the seconds each took."""

from __future__ import annotations

import logging
import sys
import threading
import time
from contextlib import contextmanager

log = logging.getLogger("zigzag.report")


class Stages:
    """Time each stage of a run and show it as one line on stderr (tqdm), unless ``progress`` is False.

    A stage that runs in batches shows its own progress bar (pass
    ``ticking=False``); any other stage shows its name and the time elapsed,
    updated twice a second on a terminal, so a long single step (the zigzag
    engine) is visibly alive.
    """

    def __init__(self, progress: bool):
        self.progress = progress
        self.seconds: dict = {}

    @contextmanager
    def __call__(self, name: str, *, ticking: bool = True):
        log.info("%s ...", name)
        start = time.perf_counter()
        stop = threading.Event()
        bar = ticker = None
        if self.progress and ticking and _is_terminal(sys.stderr):
            from .._progress import progress_bar

            bar = progress_bar(desc=name, bar_format="{desc}: {elapsed}", leave=True)
            ticker = threading.Thread(target=_tick, args=(bar, stop), daemon=True)
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()
                bar.refresh()
                bar.close()
            self.seconds[name] = time.perf_counter() - start
            if self.progress and ticking and bar is None:  # a log file gets the line once, with the final time
                from tqdm import tqdm

                tqdm.write(f"{name}: {tqdm.format_interval(self.seconds[name])}", file=sys.stderr)
            log.info("%s: %.1f s", name, self.seconds[name])


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _tick(bar, stop: threading.Event) -> None:
    while not stop.wait(0.5):
        bar.refresh()
