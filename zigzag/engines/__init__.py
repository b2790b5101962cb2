"""The barcode of a zigzag schedule, by one of three engines that give the same bars.

* ``fast`` (default): the FastZigzag cone (Dey and Hou) built from the
  schedule with numpy (:mod:`zigzag.engines.cone`), reduced by union-find and
  a twist reduction compiled with numba (:mod:`zigzag.engines.reduction`); the
  bars are read off the pairs with dionysus' rules. About 5x faster than
  ``dionysus``.
* ``dionysus``: ``dionysus.fast_zigzag`` (the same cone), its
  ``homology_persistence`` with the clearing optimisation, then
  ``init_zigzag_diagrams``: the reference implementation.
* ``classic``: ``dionysus.zigzag_homology_persistence``, the original zigzag
  algorithm: about 40x slower than ``dionysus``, kept as the oracle the
  others are tested against.

Steps are integers (dionysus stores times as 32-bit floats, exact for
integers below 2**24).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_option
from ..filtration import ZigzagSchedule

__all__ = ["ENGINES", "zigzag_bars", "interval_types"]

ENGINES = ("fast", "dionysus", "classic")


def _import_dionysus():
    try:
        import dionysus
    except ImportError as err:  # pragma: no cover - dionysus is a hard dependency
        raise ImportError(
            "zigzag needs dionysus >= 2.2 to compute barcodes; the README's set-up command builds it."
        ) from err
    return dionysus


def interval_types(birth_step: np.ndarray, death_step: np.ndarray, *, n_layers: int, kind: str) -> np.ndarray:
    """End types of bars from the operation at each end of the schedule.

    A bar born by an insertion is closed at its birth (``"c"``), born by a
    deletion open (``"o"``); it is closed at its death when a deletion kills
    it and open when an insertion does. In the intersection zigzag even steps
    insert and odd steps delete; in the union zigzag odd steps (and step 0)
    insert, even steps (and the final step ``2n - 1``) delete.
    """

    def inserts(step):
        if kind == "intersection":
            return step % 2 == 0
        return ((step % 2 == 1) & (step < 2 * n_layers - 1)) | (step == 0)

    birth = np.where(inserts(birth_step), "c", "o")
    death = np.where(inserts(death_step), "o", "c")
    return np.char.add(birth, death).astype("<U2")


def zigzag_bars(schedule: ZigzagSchedule, *, max_dim: int, engine: str = "fast", progress: bool = False) -> dict:
    """Bars of dimensions 0..max_dim of the zigzag, as arrays.

    Zero-length bars (birth and death at the same step) and the bars of
    dimension ``max_dim + 1``, which the truncated complex cannot compute
    exactly, are dropped.

    Parameters
    ----------
    schedule : ZigzagSchedule
    max_dim : int
        Highest homology dimension kept.
    engine : {"fast", "dionysus", "classic"}, default="fast"
        See the module docstring; all three give the same bars.
    progress : bool, default=False
        A progress bar over the reduction (``fast`` only; dionysus cannot report progress).

    Returns
    -------
    dict with ndarrays ``dimension``, ``birth_step``, ``death_step``, ``interval_type``
        Sorted by (dimension, birth, death, type).
    """
    engine = check_option(engine, "engine", ENGINES, caller="zigzag_bars")
    if engine == "fast":
        from .cone import bars_from_pairs, cone_matrix
        from .reduction import persistence_pairs

        cone = cone_matrix(schedule)
        births, deaths, _ = persistence_pairs(cone, progress=progress)
        bars = bars_from_pairs(cone, births, deaths)
        dimension, birth, death, types = (bars[key] for key in ("dimension", "birth_step", "death_step",
                                                                 "interval_type"))
    else:
        dimension, birth, death, types = _dionysus_bars(schedule, engine)
    keep = (dimension <= max_dim) & (death > birth)
    dimension, birth, death, types = dimension[keep], birth[keep], death[keep], types[keep]
    order = np.lexsort((types, death, birth, dimension))
    return {
        "dimension": dimension[order],
        "birth_step": birth[order],
        "death_step": death[order],
        "interval_type": types[order],
    }


def _dionysus_bars(schedule: ZigzagSchedule, engine: str):
    """(dimension, birth, death, type) arrays from dionysus' fast or classic zigzag."""
    d = _import_dionysus()
    simplices, times = schedule.to_dionysus_input()
    dims, births, deaths, types = [], [], [], []
    if engine == "dionysus":
        cone = d.fast_zigzag(simplices, times)
        reduced = d.homology_persistence(cone, method="clearing")
        for p, by_type in enumerate(d.init_zigzag_diagrams(reduced, cone)):
            for kind, diagram in by_type.items():
                for point in diagram:
                    dims.append(p)
                    births.append(point.birth)
                    deaths.append(point.death)
                    types.append(kind)
    else:
        filtration = d.Filtration(simplices)
        _, diagrams, _ = d.zigzag_homology_persistence(filtration, times)
        for p, diagram in enumerate(diagrams):
            for point in diagram:
                dims.append(p)
                births.append(point.birth)
                deaths.append(point.death)
    dimension = np.asarray(dims, dtype=np.int64)
    birth = np.asarray(births, dtype=np.float64)
    death = np.asarray(deaths, dtype=np.float64)
    if np.any(~np.isfinite(death)):
        raise RuntimeError("dionysus returned an infinite bar although the schedule deletes everything at the end.")
    birth, death = birth.astype(np.int64), death.astype(np.int64)
    if engine == "classic":
        types = interval_types(birth, death, n_layers=schedule.n_layers, kind=schedule.kind)
    return dimension, birth, death, np.asarray(types, dtype="<U2")
