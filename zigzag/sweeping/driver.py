"""``zigzag.sweep``: a grid of models × texts × k × prompt subsets, run as dask tasks and cached by content."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from .._files import jsonable, write_json
from .._validation import check_float, check_int, check_option, python_scalar
from ..report import RunConfig
from .grid import COMPUTE_DEFAULTS, build_grid, load_text_set
from .runner import connect, plan_tasks, run_tasks
from .summary import distance_frames, summary_rows, write_outputs
from .tasks import Store

__all__ = ["sweep"]

log = logging.getLogger("zigzag")

_RUN = RunConfig()  # a sweep's cell is a zigzag run with these defaults
MARKER = "sweep.json"


def _as_list(value, name: str, kind) -> list:
    values = [value] if isinstance(value, (str, Path)) or value is None or np.isscalar(value) else list(value)
    if not values:
        raise ValueError(f"The {name!r} parameter of sweep needs at least one value.")
    for v in values:
        if v is not None and not isinstance(v, kind):
            raise TypeError(f"The {name!r} parameter of sweep takes {kind}, got {type(v).__name__} {v!r}.")
    return list(dict.fromkeys(values))  # keep order, drop repeats


def _check_out(out) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the sweep's results.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ValueError(f"{out} exists and is not a zigzag sweep folder (no {MARKER}); choose another --out.")
    return out


def sweep(models="embedded", texts=None, *, out, k=_RUN.k, subsets: int = 1, max_dim: int = _RUN.max_dim,
          zigzag: str = "intersection", q=_RUN.q, n_texts: int = _RUN.n_texts, seed: int = _RUN.seed,
          text_field: str = _RUN.text_field, text_column: str = _RUN.text_column, dedupe: bool = _RUN.dedupe,
          hook: str = _RUN.hook, pooling=_RUN.pooling, batch_size: int = _RUN.batch_size,
          max_length: int | None = _RUN.max_length, device=None, distances=("bottleneck", "wasserstein"),
          scheduler=None, scheduler_file=None, n_workers: int | None = None, extract_resources=None,
          progress: bool = True):
    """Run ``zigzag run``'s analysis over a grid of models × text files × k × prompt subsets on dask.distributed.

    Each (model, texts) pair is extracted once, with ``zigzag run``'s
    settings, into the cache; each (model, texts, k, subset) cell gets the
    zigzag barcode of its texts, then descriptors and pruning plans. Every
    step is a dask task whose result is stored in ``out`` under a content
    hash of its inputs and parameters, so a rerun computes nothing, an
    interrupted sweep resumes, and a task lost with a killed worker is run
    again by dask on another worker.

    Parameters
    ----------
    models : str or list of str, default="embedded"
        Model folders, hub names in the local cache, or ``"embedded"``
        (the bundled all-MiniLM-L6-v2), as ``zigzag run --model`` takes them.
    texts : path, "builtin" or list of them, optional
        Text files (``.txt``, ``.jsonl``, ``.csv``); default the built-in corpus.
        A file longer than ``n_texts`` is sampled with ``seed``, as in ``zigzag run``.
    out : path
        The sweep's folder: cache, per-cell barcodes and the summaries.
    k : int or list of int, default=5
    subsets : int, default=1
        Split each text set into this many disjoint random parts (seeded;
        ``n // subsets`` texts each) and compute every part; 1 computes all
        texts, exactly as ``zigzag run`` does.
    max_dim : int >= 1, default=1
    zigzag : {"intersection", "union"}, default="intersection"
    q : float or tuple of float, default=(0.9, 0.8)
        Tolerances of the pruning plans.
    n_texts, seed, text_field, text_column, dedupe, hook, pooling, batch_size, max_length, device
        As in ``zigzag run`` (``pooling=None``: last token for decoders, mean
        for encoders). ``device`` is where workers run the model, e.g. "cuda".
    distances : tuple of {"bottleneck", "wasserstein"}, default=both
        Distance matrices between the cells' H_1 diagrams (:func:`zigzag.distance`); ``()`` for none.
    scheduler : str or distributed.Client, optional
        Address of a running dask scheduler (e.g. ``"tcp://10.0.0.5:8786"``)
        or a client; default: a LocalCluster of ``n_workers`` processes on
        127.0.0.1, started for the sweep and stopped after it.
    scheduler_file : path, optional
        A scheduler file (``dask scheduler --scheduler-file``) instead of an address.
    n_workers : int, optional
        Workers of the local cluster; default one per CPU core.
    extract_resources : dict, optional
        dask resources an extraction needs, e.g. ``{"GPU": 1}`` to run them
        only on workers started with ``--resources GPU=1``.
    progress : bool, default=True
        One progress bar for the whole grid (tasks done, cached, failed).

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``run, model, texts, k, subset, n_subsets, n_texts,
        n_layers, n_bars, n_bars_h1, peak_layer, peak_depth, peak_value``, per
        q ``blocks_q<q>`` (space-separated blocks) and ``n_removed_q<q>``, the
        parameters, the ``barcode`` and ``cell`` files (relative to ``out``)
        and ``error`` (empty unless the cell failed). ``attrs["tasks"]``
        counts the tasks, ``attrs["distances"]`` holds the distance matrices.

    Raises
    ------
    ValueError, TypeError
        For bad parameters, subsets too small for k, or an ``out`` that is not a sweep folder.
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("zigzag sweep returns a pandas DataFrame: pip install 'zigzag-tda[sweep]'.") from None
    from ..adapters.pooling import check_pooling
    from ..distances import METRICS
    from ..filtration import ZIGZAGS

    models = _as_list(models, "models", str)
    sources = _as_list(texts, "texts", (str, Path))
    ks = [check_int(python_scalar(v), "k", minimum=1, caller="sweep") for v in _as_list(k, "k", object)]
    subsets = check_int(subsets, "subsets", minimum=1, caller="sweep")
    max_dim = check_int(max_dim, "max_dim", minimum=1, caller="sweep")  # the plans need H_1
    zigzag = check_option(zigzag, "zigzag", ZIGZAGS, caller="sweep")
    qs = tuple(check_float(python_scalar(v), "q", low=0.0, high=1.0, caller="sweep")
               for v in ([q] if isinstance(q, (int, float)) else q))
    if not qs:
        raise ValueError("The 'q' parameter of sweep needs at least one tolerance, e.g. 0.9.")
    n_texts = check_int(n_texts, "n_texts", minimum=2, caller="sweep")
    seed = check_int(seed, "seed", caller="sweep")
    batch_size = check_int(batch_size, "batch_size", minimum=1, caller="sweep")
    if max_length is not None:
        max_length = check_int(max_length, "max_length", minimum=1, caller="sweep")
    metrics = tuple(check_option(m, "distances", METRICS, caller="sweep") for m in distances)
    if pooling is not None:
        check_pooling(pooling, caller="sweep")
    if n_workers is not None:
        n_workers = check_int(n_workers, "n_workers", minimum=1, caller="sweep")
    if scheduler is not None and not isinstance(scheduler, str) and not hasattr(scheduler, "submit"):
        raise TypeError("The 'scheduler' parameter of sweep must be the address of a dask scheduler, e.g. "
                        f"'tcp://10.0.0.5:8786', or a distributed.Client; got {type(scheduler).__name__}.")
    if scheduler is not None and scheduler_file is not None:
        raise ValueError("Pass either scheduler (an address) or scheduler_file, not both.")
    out = _check_out(out)
    reading = {"text_field": text_field, "text_column": text_column, "dedupe": bool(dedupe)}
    text_sets = [load_text_set(source, n_texts, seed, **reading) for source in sources]
    for ts in text_sets:
        size = len(ts.texts) // subsets
        if size <= max(ks):
            raise ValueError(
                f"{ts.label}: {len(ts.texts)} texts in {subsets} subset(s) leave {size} per subset, too few for "
                f"k={max(ks)} (k must be below the number of texts). Give more texts, fewer --subsets or a smaller k."
            )
    out.mkdir(parents=True, exist_ok=True)
    store = Store(out.resolve())
    settings = {"models": models, "texts": ["builtin" if v is None else str(v) for v in sources],
                "k": ks, "subsets": subsets, "max_dim": max_dim, "zigzag": zigzag, "q": list(qs), "n_texts": n_texts,
                "seed": seed, **reading, "hook": hook, "pooling": pooling, "batch_size": batch_size, "max_length": max_length,
                "device": device, "distances": list(metrics)}
    write_json(out / MARKER, {"format": "zigzag-sweep/1", "status": "running", "settings": jsonable(settings)})
    options = {"hook": hook, "pooling": pooling, "batch_size": batch_size, "max_length": max_length, "device": device}
    extractions, cells, rows = build_grid(models, text_sets, ks, subsets=subsets, seed=seed, max_dim=max_dim,
                                          zigzag=zigzag, q=qs, metrics=metrics, options=options,
                                          memo=out / ".fingerprints.json")

    start = time.perf_counter()
    todo, cached = plan_tasks(extractions, cells, rows, store, max_dim=max_dim, zigzag=zigzag, q=qs,
                              fixed=COMPUTE_DEFAULTS, resources=extract_resources)
    tally = run_tasks(todo, cached, lambda: connect(scheduler, scheduler_file=scheduler_file, n_workers=n_workers),
                      progress=progress)
    if tally.failed:
        log.warning("zigzag sweep: %d of %d tasks failed; see %s", tally.failed, tally.total, out / "summary.md")

    records_rows, records = summary_rows(cells, store, tally, settings)
    frame = pd.DataFrame.from_records(records_rows)
    matrices = distance_frames(cells, rows, store, metrics)
    write_outputs(out, cells, store, tally, settings, frame, matrices, records)
    write_json(out / MARKER, {"format": "zigzag-sweep/1", "status": "complete" if not tally.failed else "failed",
                              "settings": jsonable(settings), "tasks": tally.to_dict(), "errors": tally.errors,
                              "seconds": time.perf_counter() - start,
                              "cells": [{"run": c.run, "barcode": c.barcode_key, "cell": c.key,
                                         "extraction": c.extraction.key, "points": c.points} for c in cells]})
    frame.attrs["tasks"] = tally.to_dict()
    frame.attrs["distances"] = matrices
    frame.attrs["out"] = str(out)
    return frame
