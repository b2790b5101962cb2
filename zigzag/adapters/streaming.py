"""Extraction folders: one ``.npy`` memory map per layer, a JSON manifest, resumable.

Layout of ``DIR`` (written by ``zigzag extract --out DIR`` or
``zigzag.extract(..., out=DIR)``)::

    DIR/manifest.json     what was extracted and how far the run got
    DIR/layer_000.npy     (n_texts, n_features_0) vectors of representation 0
    DIR/layer_001.npy     ...

The manifest holds ``format``, ``model``, ``revision``, ``hook``, ``pooling``,
``texts_sha256``, ``n_texts``, ``dtype``, ``names``, ``files``, ``shapes``,
``n_done`` (texts written so far) and ``complete``. Rows are flushed before
``n_done`` moves past them, so after an interruption running the same command
again continues at ``n_done``; only one batch of vectors is in memory at a
time. :func:`load_extraction` reads a complete folder back, memory-mapped.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from .._files import jsonable, write_json
from ..clouds import LayerClouds, as_layer_clouds

__all__ = ["load_extraction", "stream_to_folder", "MANIFEST", "FORMAT"]

log = logging.getLogger("zigzag")

MANIFEST = "manifest.json"
FORMAT = "zigzag-extraction/1"
# what must agree between an interrupted run and the run that resumes it
_SAME_RUN = ("model", "revision", "model_dtype", "family", "hook", "embeddings", "final_norm", "pooling", "texts_sha256", "n_texts",
             "max_length", "add_special_tokens", "dtype", "names")


def read_manifest(folder) -> dict:
    """The manifest of an extraction folder.

    Raises
    ------
    FileNotFoundError
        When the folder has no manifest.
    ValueError
        When the manifest is not one zigzag wrote.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not an extraction folder: it has no {MANIFEST}. Write one with 'zigzag extract ... --out {folder}'.")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not a zigzag extraction manifest (format {manifest.get('format')!r}, expected {FORMAT!r}).")
    return manifest


def load_extraction(folder) -> LayerClouds:
    """Read a complete extraction folder as memory-mapped, read-only :class:`LayerClouds`.

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    LayerClouds
        One (n_texts, n_features) memory map per layer; ``meta`` is the manifest.

    Raises
    ------
    ValueError
        When the run was interrupted (the message says how to resume) or a
        layer file does not match the manifest.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if not manifest.get("complete"):
        raise ValueError(
            f"The extraction in {folder} is incomplete: {manifest.get('n_done', 0)} of {manifest['n_texts']} texts "
            f"were written before it stopped. Resume it by running the same command again (zigzag extract ... "
            f"--out {folder}, or zigzag.extract(..., out=folder) with the same model, texts and options)."
        )
    layers = []
    for name, shape in zip(manifest["files"], manifest["shapes"]):
        array = np.load(folder / name, mmap_mode="r", allow_pickle=False)
        if list(array.shape) != list(shape):
            raise ValueError(f"{folder / name} has shape {array.shape}, but the manifest says {tuple(shape)}; the folder is damaged.")
        layers.append(array)
    return as_layer_clouds(layers, names=manifest["names"], meta=manifest)


def stream_to_folder(folder, names, meta, batches, *, overwrite: bool = False) -> LayerClouds:
    """Write pooled batches into an extraction folder, resuming a matching interrupted run.

    Parameters
    ----------
    folder : str or Path
    names : list of str
        Layer names, in depth order.
    meta : dict
        Provenance; the keys in ``_SAME_RUN`` must match to resume.
    batches : callable
        ``batches(start)`` yields ``(start_index, [ndarray of shape (batch, dim) per layer])``
        for the texts from ``start`` on.
    overwrite : bool, default=False
        Start over when the folder holds a different extraction.

    Returns
    -------
    LayerClouds
        :func:`load_extraction` of the finished folder.

    Raises
    ------
    ValueError
        When the folder holds a different extraction and ``overwrite`` is False.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = dict(meta, format=FORMAT, names=list(names), files=[f"layer_{i:03d}.npy" for i in range(len(names))],
                    shapes=None, n_done=0, complete=False)
    manifest = jsonable(manifest)  # normalise tuples etc. as JSON would
    start, maps = 0, None
    if (folder / MANIFEST).is_file():
        old = read_manifest(folder)
        differs = [key for key in _SAME_RUN if old.get(key) != manifest.get(key)]
        if differs and not overwrite:
            raise ValueError(
                f"{folder} holds a different extraction ({', '.join(f'{k}: {old.get(k)!r} there, {manifest.get(k)!r} now' for k in differs[:3])}). "
                "Use another folder, or overwrite=True (--overwrite) to start over."
            )
        if not differs:
            if old.get("complete"):
                log.info("extraction in %s is already complete", folder)
                return load_extraction(folder)
            if old.get("shapes"):
                start = int(old["n_done"])
                manifest["shapes"], manifest["n_done"] = old["shapes"], start
                maps = [np.lib.format.open_memmap(folder / f, mode="r+") for f in manifest["files"]]
                log.info("resuming extraction in %s at text %d of %d", folder, start, manifest["n_texts"])
    write_json(folder / MANIFEST, manifest)
    n = manifest["n_texts"]
    for s, vectors in batches(start):
        if maps is None:
            manifest["shapes"] = [[n, int(v.shape[1])] for v in vectors]
            maps = [np.lib.format.open_memmap(folder / f, mode="w+", dtype=v.dtype, shape=(n, v.shape[1]))
                    for f, v in zip(manifest["files"], vectors)]
        for name, target, v in zip(names, maps, vectors):
            if v.shape[1] != target.shape[1]:
                raise ValueError(f"Inconsistent batch outputs at {name!r}: width {v.shape[1]}, earlier batches {target.shape[1]}.")
            target[s:s + v.shape[0]] = v
        for target in maps:
            target.flush()
        manifest["n_done"] = s + vectors[0].shape[0]
        write_json(folder / MANIFEST, manifest)
    del maps
    manifest["complete"] = manifest["n_done"] == n
    write_json(folder / MANIFEST, manifest)
    return load_extraction(folder)
