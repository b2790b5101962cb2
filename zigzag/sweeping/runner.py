"""Running a sweep's tasks on dask.distributed: which tasks are needed, submitting them, one progress display.

A task is submitted only when its result is missing from the store, and an
extraction only when one of the barcodes it feeds is missing (extraction
folders may be deleted once the barcodes exist). A sweep whose results are
all in the store connects to no cluster at all.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field

from .._progress import progress_bar

from . import tasks as T

log = logging.getLogger("zigzag")

#: environment of the local cluster's workers: no progress bars of their own on the user's terminal
_WORKER_ENV = {"HF_HUB_DISABLE_PROGRESS_BARS": "1", "TQDM_DISABLE": "1"}
#: no dashboard, and the scheduler's small HTTP server on a free port rather than 8787 (often taken)
_NO_DASHBOARD = {"dashboard": False, "dashboard_address": "127.0.0.1:0"}


@dataclass
class Tally:
    """How the grid's tasks went: done (run now), cached (found in the store), failed."""

    total: int = 0
    done: int = 0
    cached: int = 0
    failed: int = 0
    errors: dict = field(default_factory=dict)  # task name -> error text

    def to_dict(self) -> dict:
        return {"total": self.total, "done": self.done, "cached": self.cached, "failed": self.failed}


@dataclass
class _Task:
    name: str  # dask key: zigzag-<stage>-<content key>
    func: object
    job: dict
    needs: list  # names of the tasks whose results are arguments
    extra: tuple = ()  # arguments after the dependencies
    resources: dict | None = None


def plan_tasks(extractions, cells, rows, store, *, max_dim: int, zigzag: str, q: tuple, fixed: dict,
               resources=None) -> tuple:
    """The tasks the grid still needs, and how many of its tasks are already in the store.

    Returns
    -------
    tasks : list of _Task
        In dependency order.
    cached : int
        Tasks of the grid whose results are already stored.
    """
    root = str(store.root)
    need_barcode = {c.barcode_key for c in cells if not store.barcode(c.barcode_key).is_file()}
    need_extraction = {c.extraction.key for c in cells
                       if c.barcode_key in need_barcode and not store.has_extraction(c.extraction.key)}
    todo, cached = [], 0
    for ext in extractions:
        if ext.key not in need_extraction:
            cached += 1
            continue
        job = {"key": ext.key, "model": ext.model, **ext.options}
        todo.append(_Task(f"zigzag-extract-{ext.key}", T.run_extraction, job, [], (list(ext.texts.texts), root),
                          resources))
    seen = set()
    for cell in cells:
        if cell.barcode_key in seen:
            continue
        seen.add(cell.barcode_key)
        if cell.barcode_key not in need_barcode:
            cached += 1
            continue
        job = {"key": cell.barcode_key, "extraction": cell.extraction.key, "k": cell.k, "max_dim": max_dim,
               "zigzag": zigzag, "points": None if cell.points is None else list(cell.points), "fixed": dict(fixed)}
        needs = [f"zigzag-extract-{cell.extraction.key}"] if cell.extraction.key in need_extraction else [None]
        todo.append(_Task(f"zigzag-compute-{cell.barcode_key}", T.run_compute, job, needs, (root,)))
    for cell in cells:
        if store.cell(cell.key).is_file():
            cached += 1
            continue
        job = {"key": cell.key, "barcode": cell.barcode_key, "max_dim": max_dim, "q": list(q)}
        todo.append(_Task(f"zigzag-describe-{cell.key}", T.run_describe, job, [_compute_name(cell.barcode_key,
                                                                                          need_barcode)], (root,)))
    for row in rows:
        if store.distances(row["key"]).is_file():
            cached += 1
            continue
        needs = [[_compute_name(key, need_barcode) for key in [row["row"], *row["others"]]]]
        todo.append(_Task(f"zigzag-distances-{row['key']}", T.run_distances, row, needs, (root,)))
    return todo, cached


def _compute_name(barcode_key: str, need_barcode: set):
    return f"zigzag-compute-{barcode_key}" if barcode_key in need_barcode else None


@contextmanager
def connect(scheduler=None, *, scheduler_file=None, n_workers=None):
    """A dask client: to the given scheduler (address, scheduler file or ``Client``), else to a new LocalCluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("zigzag sweep runs on dask.distributed: pip install 'zigzag-tda[sweep]'.") from None
    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is None and scheduler_file is None:
        workers = n_workers or os.cpu_count() or 1
        log.info("starting a local dask cluster of %d worker processes", workers)
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, scheduler_kwargs=_NO_DASHBOARD, silence_logs=logging.ERROR,
                          env=dict(_WORKER_ENV)) as cluster:
            with Client(cluster) as client:
                yield client
        return
    where = f"the scheduler file {scheduler_file}" if scheduler_file else f"the dask scheduler at {scheduler}"
    try:
        client = Client(scheduler_file=str(scheduler_file)) if scheduler_file else Client(scheduler, timeout="30s")
    except (OSError, TimeoutError, ValueError) as err:
        raise ValueError(f"Cannot reach {where} ({err}). Start one with 'dask scheduler' and 'dask worker', "
                         "or leave out --scheduler for a local cluster.") from None
    with client:
        yield client


def run_tasks(todo: list, cached: int, client_factory, *, progress: bool = True) -> Tally:
    """Submit the tasks and follow them on one progress bar; return the :class:`Tally`.

    ``client_factory`` is called (a context manager giving a dask client) only
    when there is something to run.
    """
    from distributed import as_completed

    tally = Tally(total=len(todo) + cached, cached=cached)
    bar = progress_bar(total=tally.total, desc="zigzag sweep", unit="task", disable=not progress, initial=cached)

    def show(refresh: bool):
        bar.set_postfix_str(f"done {tally.done}, cached {tally.cached}, failed {tally.failed}", refresh=refresh)

    show(True)
    if todo:
        with client_factory() as client:
            futures = {}
            for task in todo:
                args = [_resolve(need, futures) for need in task.needs]
                futures[task.name] = client.submit(task.func, task.job, *args, *task.extra, key=task.name,
                                                   resources=task.resources, retries=0)
            for future in as_completed(list(futures.values())):
                if future.status == "finished":
                    tally.done += 1
                else:
                    tally.failed += 1
                    tally.errors[future.key] = _error_text(future)
                show(False)
                bar.update(1)
            del futures
    bar.close()
    return tally


def _resolve(need, futures):
    if isinstance(need, list):
        return [_resolve(n, futures) for n in need]
    return None if need is None else futures[need]


def _error_text(future) -> str:
    try:
        err = future.exception()
    except Exception as exc:  # cancelled, lost
        err = exc
    return f"{type(err).__name__}: {err}"
