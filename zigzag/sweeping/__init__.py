"""Sweeps: ``zigzag run``'s analysis over a grid of models × texts × k × prompt subsets, on dask.distributed.

The grid (:mod:`.grid`) becomes tasks (:mod:`.tasks`): one extraction per
(model, texts), one barcode per (extraction, k, subset), descriptors and plans
per barcode, and one row of the distance matrix per barcode. :mod:`.runner`
submits the missing ones to a dask cluster (a LocalCluster by default, or an
existing scheduler) under one progress bar; :mod:`.summary` writes
``summary.csv``, ``summary.md``, the S̄ figure and the distance matrices. The
results live in the output folder under content hashes of their inputs and
parameters, so reruns and interrupted sweeps reuse everything already done.
"""

from .driver import sweep

__all__ = ["sweep"]
