"""The report's second process: the barcode, the figures and the persistent loops.

``zigzag run``'s main process imports torch and transformers and runs the
model; this process (spawned, so it shares no state) meanwhile loads numba's
kernels and matplotlib on another core (imports hold the GIL, so a thread
could not overlap them), computes the barcode from the extracted clouds, and
draws the figures while the main process evaluates the plans. The functions
take and return plain picklable objects; the main process names every file
before it is written (the report folder's marker).
"""

from __future__ import annotations

import logging
import signal
import time

log = logging.getLogger("zigzag.report")


def ignore_interrupts() -> None:
    """Ctrl-C reaches every process of the terminal; the main process decides, and waits for this one's last task."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def prepare() -> None:
    """Load the barcode's kernels and pay matplotlib's first-figure costs; a failure resurfaces where it matters."""
    from ..pipeline import warm_up
    from .figures import warm_up_figures

    for step in (warm_up, warm_up_figures):
        try:
            step()
        except Exception:  # noqa: BLE001 - only a head start: the barcode or the figures report any real error
            log.debug("%s failed", step.__name__, exc_info=True)


def barcode(clouds, k: int, max_dim: int, paths):
    """The zigzag barcode of ``clouds``, saved to each of ``paths`` (``.csv`` and ``.npz``)."""
    from ..pipeline import compute

    bars = compute(clouds, k=k, max_dim=max_dim, progress=False)
    for path in paths:
        bars.save(path)
    return bars


def draw(bars, zigzag_plans, clouds, texts, figure_paths: dict, loops_path) -> tuple:
    """The figures (``figure_paths``: name -> path) and the persistent-loops section (its figure at ``loops_path``,
    when it has one); returns the section's markdown lines and the seconds of each part."""
    from ..plotting import persistent_loops_section
    from .figures import draw_figures

    start = time.perf_counter()
    draw_figures(bars, zigzag_plans, lambda name: figure_paths[name])
    middle = time.perf_counter()
    loops = tuple(persistent_loops_section(clouds, bars, texts, lambda name: loops_path))
    return loops, {"figures": middle - start, "persistent loops": time.perf_counter() - middle}
