"""Atomic file output: a result is either fully written or not there at all."""

from __future__ import annotations

import json
import os
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


# ---------------------------------------------------------------------- one writer per output
class OutputLockedError(OSError):
    """Another process holds the lock on an output; the message names it."""


def lock_file_of(path) -> Path:
    """Where the lock of output ``path`` lives: the hidden file ``.<name>.lock`` beside it."""
    path = Path(os.path.realpath(path))
    return path.parent / f".{path.name}.lock"


@contextmanager
def output_lock(path, *, command: str | None = None):
    """Hold the lock on output ``path`` (a file or a folder) for the duration of the block.

    The lock is the file :func:`lock_file_of` beside the output, holding the
    holder's pid, host, start time and command, and removed on release. On
    POSIX the kernel drops the lock when its holder dies, so a killed run
    leaves no stale lock.

    Raises
    ------
    OutputLockedError
        Another live process holds the lock; the message names it.
    """
    import json as json_module
    import shlex
    import socket
    import sys
    import time

    lock = lock_file_of(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
              "command": command or shlex.join([Path(sys.argv[0]).name or "python", *sys.argv[1:]])}
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock: an exclusive create
        fcntl = None
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | (0 if fcntl else os.O_EXCL), 0o644)
        if fcntl is None:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 65536, 0).decode("utf-8", "replace")
            os.close(fd)
            try:
                h = json_module.loads(text)
                who = f"pid {h['pid']} on {h['host']}, started {h['started']}: {h['command']}"
            except (ValueError, KeyError, TypeError):
                who = "another zigzag process"
            raise OutputLockedError(f"{path} is being written by another run ({who}). Wait for it to finish "
                                    "or choose another output.") from None
        try:  # the file locked must still be the one at `lock`: a releasing holder unlinks it first
            if os.path.samestat(os.fstat(fd), os.stat(lock)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, json_module.dumps(holder).encode("utf-8"))
    try:
        yield lock
    finally:
        try:
            lock.unlink(missing_ok=True)
        finally:
            os.close(fd)
