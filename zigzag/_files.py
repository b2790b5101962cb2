"""Atomic file output: a result is either fully written or not there at all."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary file keeps the suffix of ``path`` so writers that look at
    the extension (numpy, matplotlib) behave as for the real name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes owner-only files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path, *, overwrite: bool = False):
    """Yield an empty temporary folder beside ``path``; move it onto ``path`` when the block succeeds.

    The folder is ``.<name>.<random>.partial`` until then, and removed on
    failure, so ``path`` either holds a complete result or is left as it was.

    Raises
    ------
    FileExistsError
        When ``path`` exists and ``overwrite`` is False.
    ValueError
        When ``path`` exists and is not a folder.
    """
    path = Path(path)
    check_new_dir(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes owner-only folders
        check_new_dir(path, overwrite=overwrite)
        if not path.exists():
            os.replace(tmp, path)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
        os.replace(path, old / path.name)  # keep the old folder until the new one is in place
        try:
            os.replace(tmp, path)
        except BaseException:
            os.replace(old / path.name, path)
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_new_dir(path, *, overwrite: bool) -> Path:
    """Raise unless ``path`` can become a new output folder (absent, or a folder and ``overwrite``)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} exists and is not a folder; choose another output folder.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it, "
                              "or choose another output folder.")
    return path


def write_text(path, text: str, *, newline: str | None = None) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
    return Path(path)


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def jsonable(obj):
    """``obj`` as plain JSON types (what writing and reading it back gives); unknown objects become strings."""
    def lenient(value):
        try:
            return _json_default(value)
        except TypeError:
            return str(value)

    return json.loads(json.dumps(obj, default=lenient))


def save_figure(fig, path, *, dpi: int = 150) -> Path:
    """Save a matplotlib figure to ``path`` atomically (the format follows the suffix)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    return Path(path)


def _json_default(obj):
    """Let numpy scalars and arrays, paths and tuples go into JSON."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")
