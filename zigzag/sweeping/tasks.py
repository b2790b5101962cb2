"""The work of a sweep, one function per task; each runs on a dask worker and keeps its result in the store.

Every task first looks for its result in the store and returns it if it is
there, so a task that dask runs again (its worker died after writing) costs
nothing. Results are written atomically (``zigzag._files``), so a killed task
leaves either nothing or a complete file; only extraction folders are written
in place, batch by batch, and resume where they stopped. Tasks return small
JSON-able dicts, never arrays: the store is the only data path, so it must be
one folder that every worker sees under the same path (a shared file system
on a real cluster; automatic on a local one).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .._files import write_json

__all__ = ["Store", "run_extraction", "run_compute", "run_describe", "run_distances"]


class Store:
    """Where a sweep keeps its results, by content key, under its output folder."""

    def __init__(self, root):
        self.root = Path(root)

    def extraction(self, key: str) -> Path:
        """An extraction folder (``zigzag.extract(..., out=...)``: one memory map per layer and a manifest)."""
        return self.root / "extractions" / key

    def barcode(self, key: str) -> Path:
        return self.root / "barcodes" / f"{key}.npz"

    def cell(self, key: str) -> Path:
        return self.root / "cells" / f"{key}.json"

    def distances(self, key: str) -> Path:
        return self.root / "distances" / f"{key}.json"

    def has_extraction(self, key: str) -> bool:
        manifest = self.extraction(key) / "manifest.json"
        if not manifest.is_file():
            return False
        return bool(json.loads(manifest.read_text(encoding="utf-8")).get("complete"))


def _worker_address():
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None


def run_extraction(job: dict, texts: list, root: str) -> dict:
    """Load the model and extract its layer clouds exactly as ``zigzag run`` does, into an extraction folder."""
    store = Store(root)
    folder = store.extraction(job["key"])
    if not store.has_extraction(job["key"]):
        from ..adapters import extract, load_model, resolve_defaults

        start = time.perf_counter()
        model, tokenizer = load_model(job["model"])
        _, pooling = resolve_defaults(model, job["hook"], job["pooling"])  # the one default per model kind
        extract(model, tokenizer, list(texts), hook=job["hook"], pooling=pooling, batch_size=job["batch_size"],
                max_length=job["max_length"], device=job["device"], out=folder, overwrite=True, progress=False)
        write_json(folder / "sweep-task.json", {"model": job["model"], "worker": _worker_address(),
                                                "seconds": time.perf_counter() - start})
    return {"key": job["key"], "folder": str(folder)}


def run_compute(job: dict, extraction: dict, root: str) -> dict:
    """The zigzag barcode of one cell: all the extraction's texts, or one subset of them."""
    from ..barcode import Barcode
    from ..io import load_clouds
    from ..pipeline import compute

    store = Store(root)
    path = store.barcode(job["key"])
    if path.is_file():
        bars = Barcode.load(path)
    else:
        clouds = load_clouds(store.extraction(job["extraction"]))
        if job["points"] is not None:
            clouds = clouds.subset(np.asarray(job["points"], dtype=np.int64))
        bars = compute(clouds, k=job["k"], max_dim=job["max_dim"], zigzag=job["zigzag"], progress=False,
                       **job["fixed"])
        bars.save(path)
    return {"key": job["key"], "n_bars": len(bars), "n_layers": bars.n_layers}


def run_describe(job: dict, barcode: dict, root: str) -> dict:
    """Descriptors and pruning plans of one barcode, as ``zigzag run`` makes them; written as the cell's record."""
    store = Store(root)
    path = store.cell(job["key"])
    if not path.is_file():
        from ..barcode import Barcode
        from ..descriptors import describe
        from ..pruning import prune_plans

        bars = Barcode.load(store.barcode(job["barcode"]))
        desc = describe(bars, dims=tuple(range(job["max_dim"] + 1)))
        plans = prune_plans(bars, q=job["q"])
        profile = np.asarray(desc.average_similarity[1], dtype=float)
        peak = int(np.argmax(profile))
        write_json(path, {
            "format": "zigzag-sweep-cell/1",
            "key": job["key"],
            "barcode": job["barcode"],
            "n_texts": int(bars.params.get("n_points", 0)),
            "n_layers": bars.n_layers,
            "n_bars": len(bars),
            "bars_per_dim": {str(p): int(np.sum(bars.dimension == p)) for p in bars.dims},
            "peak_layer": peak,
            "peak_depth": peak / max(bars.n_layers - 1, 1),
            "peak_value": float(profile[peak]),
            "profile": profile.tolist(),
            "plans": [plan.to_dict() for plan in plans],
            "descriptors": desc.to_dict(),
        })
    return {"key": job["key"]}


def run_distances(job: dict, barcodes: list, root: str) -> dict:
    """One row of the sweep's distance matrix: one barcode against the barcodes after it."""
    from ..barcode import Barcode
    from ..distances import diagram_distance

    store = Store(root)
    path = store.distances(job["key"])
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    diagram = Barcode.load(store.barcode(job["row"])).to_persim(job["dim"])
    others = [Barcode.load(store.barcode(key)).to_persim(job["dim"]) for key in job["others"]]
    record = {"key": job["key"], "row": job["row"], "others": list(job["others"]), "dim": job["dim"],
              "values": {metric: [diagram_distance(diagram, other, metric) for other in others]
                         for metric in job["metrics"]}}
    write_json(path, record)
    return record
