"""Extraction folders: one ``.npy`` memory map per layer, a JSON manifest, resumable.

Layout of ``DIR`` (written by ``zigzag extract --out DIR`` or
``zigzag.extract(..., out=DIR)``)::

    DIR/manifest.json     what was extracted and how far the run got
    DIR/layer_000.npy     (n_texts, n_features_0) vectors of representation 0
    DIR/layer_001.npy     ...

The manifest holds ``format``, ``model``, ``revision``, ``hook``, ``pooling``,
``texts_sha256``, ``n_texts``, ``dtype``, ``names``, ``files``, ``shapes``,
``batch_order`` (``"length"``: texts run in batches of similar length,
longest first), ``batch_sizes`` (``[n_done, batch_size]`` per run that wrote
rows), ``n_done`` (texts written so far, counted in the batch order) and
``complete``. Rows are flushed before ``n_done`` moves past them, so after an
interruption running the same command again continues after the first
``n_done`` texts of the batch order (which does not depend on the batch size);
only one batch of vectors is in memory at a time. :func:`load_extraction` reads a complete folder back, memory-mapped.

A manifest is data, not a path to follow: the files it names must be plain
names inside ``DIR`` (no ``..``, no absolute path, no link out of ``DIR``).
While a run writes ``DIR`` it holds a lock (``.DIR.lock`` beside it), so a
second run on the same folder refuses. A run that fails before it has written
any row removes what it wrote, so the corrected command starts afresh.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from ._files import jsonable, output_lock, write_json
from .clouds import LayerClouds, as_layer_clouds

__all__ = ["load_extraction", "read_manifest", "stream_to_folder", "MANIFEST", "FORMAT"]

log = logging.getLogger("zigzag")

MANIFEST = "manifest.json"
FORMAT = "zigzag-extraction/1"
_READ_VERSIONS = (1,)
# what must agree between an interrupted run and the run that resumes it
_SAME_RUN = ("model", "revision", "model_dtype", "family", "hook", "embeddings", "final_norm", "pooling",
             "texts_sha256", "n_texts", "max_length", "add_special_tokens", "dtype", "names")
# key: (allowed types, description); checked on every manifest read
_KEYS = {"n_texts": (int, "an integer"), "n_done": (int, "an integer"), "complete": (bool, "true or false"),
         "names": (list, "a list of layer names"), "files": (list, "a list of file names"),
         "shapes": ((list, type(None)), "a list of [n_texts, n_features] pairs")}


def read_manifest(folder) -> dict:
    """The checked manifest of an extraction folder.

    Raises
    ------
    FileNotFoundError
        When the folder has no manifest.
    ValueError
        When the manifest is not one zigzag wrote, is from a newer zigzag,
        is damaged (invalid JSON, keys missing or of the wrong type), or
        names a file outside the folder.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder} is not an extraction folder: it has no {MANIFEST}. Write one with 'zigzag extract ... --out {folder}'."
        )
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({str(err).splitlines()[0][:80]}); the folder is damaged. "
                         "Extract again with --overwrite.") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path} holds a JSON {type(manifest).__name__}, not a zigzag extraction manifest.")
    _check_format(path, manifest.get("format"))
    for key, (types, what) in _KEYS.items():
        value = manifest.get(key, ...)
        if value is ... or isinstance(value, bool) and types is int or not isinstance(value, types):
            found = "missing" if value is ... else f"{type(value).__name__} {value!r:.40}"
            raise ValueError(f"{path}: {key!r} must be {what}, found {found}; the folder is damaged.")
    names, files, shapes = manifest["names"], manifest["files"], manifest["shapes"]
    if len(files) != len(names) or (shapes is not None and len(shapes) != len(names)):
        raise ValueError(f"{path} lists {len(names)} layer names, {len(files)} files and "
                         f"{'no' if shapes is None else len(shapes)} shapes; the folder is damaged.")
    if shapes is not None and not all(isinstance(s, list) and len(s) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in s) for s in shapes):
        raise ValueError(f"{path}: 'shapes' must be [n_texts, n_features] pairs of integers; the folder is damaged.")
    for name in files:
        _inside(folder, name, path)
    return manifest


def _check_format(path: Path, found) -> None:
    family, _, version = str(found).partition("/")
    if family != "zigzag-extraction":
        raise ValueError(f"{path} is not a zigzag extraction manifest (format {found!r}, expected {FORMAT!r}).")
    if not version.isdigit() or int(version) not in _READ_VERSIONS:
        raise ValueError(
            f"{path} has format version {version!r} ({found!r}), but this zigzag reads versions "
            f"{', '.join(map(str, _READ_VERSIONS))}. It was written by a newer zigzag: upgrade (pip install -U zigzag-tda)."
        )


def _inside(folder: Path, name, manifest_path: Path) -> Path:
    """``folder / name`` when ``name`` is a plain file name that stays inside ``folder`` (links resolved)."""
    if not isinstance(name, str) or not name or name != Path(name).name or name in (".", ".."):
        raise ValueError(f"{manifest_path} names the file {name!r}; a manifest may only name files inside its "
                         "folder (no folders, '..' or absolute paths). The folder is damaged or not zigzag's.")
    path = folder / name
    real, root = os.path.realpath(path), os.path.realpath(folder)
    if os.path.commonpath([real, root]) != root:
        raise ValueError(f"{manifest_path} names {name!r}, a link to {real} outside the folder; zigzag reads only "
                         "files inside an extraction folder.")
    return path


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
        When the run was interrupted (the message says how to resume), the
        manifest is damaged, or a layer file is missing, damaged or does not
        match the manifest.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if not manifest["complete"] or manifest["shapes"] is None:
        raise ValueError(
            f"The extraction in {folder} is incomplete: {manifest['n_done']} of {manifest['n_texts']} texts "
            f"were written before it stopped. Resume it by running the same command again (zigzag extract ... "
            f"--out {folder}, or zigzag.extract(..., out=folder) with the same model, texts and options)."
        )
    layers = []
    for name, shape in zip(manifest["files"], manifest["shapes"]):
        path = _inside(folder, name, folder / MANIFEST)
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            raise ValueError(f"{path} is missing, but the manifest lists it; the folder is damaged. "
                             "Extract again with --overwrite.") from None
        except Exception as err:  # numpy raises many kinds on a damaged header
            raise ValueError(f"{path} is not a readable .npy file ({str(err).splitlines()[0][:80]}); it is damaged "
                             "or cut short. Extract again with --overwrite.") from None
        if list(array.shape) != list(shape):
            raise ValueError(f"{path} has shape {array.shape}, but the manifest says {tuple(shape)}; the folder is damaged.")
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
        Provenance; the keys in ``_SAME_RUN`` must match to resume. A
        ``batch_size`` key is recorded in ``batch_sizes``: a resume with
        another batch size is allowed (with a warning) and recorded, since it
        may change the last bits of the vectors.
    batches : callable
        ``batches(start)`` yields ``(rows, [ndarray of shape (batch, dim) per layer])``
        for the texts from position ``start`` of the batch order on; ``rows``
        is the batch's text indices (an array), or the int index of its first
        text when the batch is a run of consecutive texts.
    overwrite : bool, default=False
        Start over when the folder holds a different extraction.

    Returns
    -------
    LayerClouds
        :func:`load_extraction` of the finished folder.

    Raises
    ------
    ValueError
        When the folder holds a different extraction and ``overwrite`` is
        False, or holds files but no manifest.
    OSError
        When another run is writing the folder (``OutputLockedError``).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file; an extraction is written to a folder: choose a new or empty folder.")
    with output_lock(folder):
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        try:
            return _stream(folder, names, meta, batches, overwrite, created)
        finally:
            if created and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()  # a run that failed before writing anything leaves no folder behind


def _stream(folder: Path, names, meta, batches, overwrite: bool, created: bool) -> LayerClouds:
    meta = dict(meta)
    batch_size = meta.pop("batch_size", None)
    manifest = dict(meta, format=FORMAT, names=list(names), files=[f"layer_{i:03d}.npy" for i in range(len(names))],
                    shapes=None, n_done=0, complete=False, batch_sizes=[])
    manifest = jsonable(manifest)  # normalise tuples etc. as JSON would
    start, maps, old = 0, None, None
    if (folder / MANIFEST).is_file():
        old = read_manifest(folder)
        differs = [key for key in _SAME_RUN if old.get(key) != manifest.get(key)]
        if differs and old["n_done"] > 0 and not overwrite:
            raise ValueError(
                f"{folder} holds a different extraction ({', '.join(f'{k}: {old.get(k)!r} there, {manifest.get(k)!r} now' for k in differs[:3])}). "
                "Use another folder, or overwrite=True (--overwrite) to start over."
            )
        if not differs and old["complete"]:
            log.info("extraction in %s is already complete", folder)
            return load_extraction(folder)
        reorder = old.get("batch_order") != manifest.get("batch_order")
        if not differs and old["shapes"] and old["n_done"] > 0 and reorder and not overwrite:
            raise ValueError(
                f"{folder} holds an interrupted extraction that ran its texts in another order "
                f"({old.get('batch_order') or 'text order'}; an older zigzag wrote it), so it cannot be resumed. "
                "Use overwrite=True (--overwrite) to start over."
            )
        if not differs and not reorder and old["shapes"] and old["n_done"] > 0:
            start = int(old["n_done"])
            manifest.update(shapes=old["shapes"], n_done=start, batch_sizes=old.get("batch_sizes") or [])
            maps = [np.lib.format.open_memmap(_inside(folder, f, folder / MANIFEST), mode="r+")
                    for f in manifest["files"]]
            if [list(m.shape) for m in maps] != manifest["shapes"]:
                raise ValueError(f"The layer files in {folder} do not match its manifest; the folder is damaged. "
                                 "Extract again with --overwrite.")
            log.info("resuming extraction in %s after %d of %d texts", folder, start, manifest["n_texts"])
        else:  # starting over: remove the old run's layer files that this one will not rewrite
            for name in set(old["files"]) - set(manifest["files"]):
                _inside(folder, name, folder / MANIFEST).unlink(missing_ok=True)
    elif not created and any(folder.iterdir()):
        found = sorted(p.name for p in folder.iterdir())
        raise ValueError(f"{folder} holds files ({', '.join(found[:3])}{', ...' if len(found) > 3 else ''}) but no "
                         f"{MANIFEST}, so it is not an extraction folder; choose a new or empty folder.")
    if batch_size is not None:
        runs = manifest["batch_sizes"]
        if runs and runs[-1][1] != batch_size:
            log.warning("resuming the extraction in %s with batch size %d (texts before %d used %d); the batch "
                        "size can change the last bits of the vectors, so it is recorded in the manifest",
                        folder, batch_size, start, runs[-1][1])
        if not runs or runs[-1][1] != batch_size:
            runs.append([start, int(batch_size)])
    written = []
    try:
        write_json(folder / MANIFEST, manifest)
        written.append(MANIFEST)
        n = manifest["n_texts"]
        for rows, vectors in batches(start):
            count = vectors[0].shape[0]
            where = slice(rows, rows + count) if isinstance(rows, (int, np.integer)) else np.asarray(rows)
            if maps is None:
                manifest["shapes"] = [[n, int(v.shape[1])] for v in vectors]
                maps = []
                for f, v in zip(manifest["files"], vectors):
                    written.append(f)
                    maps.append(np.lib.format.open_memmap(folder / f, mode="w+", dtype=v.dtype, shape=(n, v.shape[1])))
            for name, target, v in zip(names, maps, vectors):
                if v.shape[1] != target.shape[1]:
                    raise ValueError(f"Inconsistent batch outputs at {name!r}: width {v.shape[1]}, earlier batches {target.shape[1]}.")
                target[where] = v
            for target in maps:
                target.flush()
            manifest["n_done"] += count
            write_json(folder / MANIFEST, manifest)
    except BaseException:
        if manifest["n_done"] == 0:  # nothing kept: leave nothing that would block the corrected rerun
            del maps
            for name in written:
                (folder / name).unlink(missing_ok=True)
        raise
    del maps
    manifest["complete"] = manifest["n_done"] == n
    write_json(folder / MANIFEST, manifest)
    return load_extraction(folder)
