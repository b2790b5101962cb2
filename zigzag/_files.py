"""Writing outputs safely: whole or not at all, through links, strict JSON, one writer at a time.

* :func:`atomic_path` (and :func:`write_text`, :func:`write_bytes`,
  :func:`write_json`, :func:`save_figure` on top of it): the result is written
  to a temporary file beside the target and renamed onto it, so a reader sees
  the old file or the new one, never half of one. A symlink is written
  through: its target is replaced and the link stays. An exception, Ctrl-C or
  SIGTERM during the write removes the temporary file.
* :func:`json_text`: JSON that strict readers accept (no NaN, no Infinity).
* :func:`output_lock`: a lock on an output (file or folder), so a second run
  given the same output refuses and names the first.
* :func:`atomic_dir`: the same for a whole folder (a pruned model): built as
  ``.<name>.<random>.partial`` beside it and renamed at the end.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

try:  # POSIX: a lock the kernel drops when its holder dies
    import fcntl
except ImportError:  # pragma: no cover - Windows falls back to a pid check
    fcntl = None

__all__ = ["atomic_path", "check_output_path", "write_text", "write_bytes", "write_json", "json_text", "jsonable", "save_figure",
           "output_lock", "OutputLockedError", "lock_file_of"]


class OutputLockedError(OSError):
    """Another process holds the lock on an output; the message names it."""


# ---------------------------------------------------------------------- atomic writes
def _write_target(path: Path) -> Path:
    """The file a write to ``path`` replaces: ``path`` itself, or the file a symlink at ``path`` points to."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if target.is_dir():
        extra = f" (the link points to the folder {target})" if target != path else ""
        raise ValueError(f"The output {path} is a folder{extra}; give a file name inside it or beside it.")
    if target != path and not target.parent.is_dir():
        raise ValueError(f"The output {path} is a link to {target}, whose folder does not exist; fix or remove the link.")
    return target


def check_output_path(path) -> Path:
    """Check, before any work, that ``path`` can be written: not a folder, its folder creatable and writable.

    Returns the file a write will replace (the target of a symlink).
    """
    path = Path(path)
    target = _write_target(path)
    folder = next((p for p in (target.parent, *target.parent.parents) if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise ValueError(f"Cannot write {path}: {folder} is a file, not a folder.")
    if folder is not None and not os.access(folder, os.W_OK):
        raise PermissionError(f"Cannot write {path}: the folder {folder} is not writable. Choose another output path "
                              "or change the folder's permissions.")
    return target


def _make_parent(path: Path, target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ValueError(f"Cannot write {path}: a part of the folder path {target.parent} is a file, not a folder.") from None
    except PermissionError:
        raise PermissionError(f"Cannot write {path}: no permission to create the folder {target.parent}.") from None


@contextmanager
def _terminate_as_exit():
    """Turn SIGTERM/SIGHUP into ``SystemExit`` meanwhile, so cleanup code runs (main thread, default handlers only)."""
    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    taken = [getattr(signal, n) for n in names if signal.getsignal(getattr(signal, n)) is signal.SIG_DFL]

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    for signum in taken:
        signal.signal(signum, leave)
    try:
        yield
    finally:
        for signum in taken:
            signal.signal(signum, signal.SIG_DFL)


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside the output; rename it onto the output when the block succeeds.

    The temporary file ends with the suffix of ``path``, so writers that look
    at the extension (numpy, matplotlib) behave as for the real name. When
    ``path`` is a symlink the file it points to is replaced and the link is
    kept. When the block raises (or the process gets Ctrl-C or SIGTERM) the
    temporary file is removed and the output is left as it was.

    Raises
    ------
    ValueError
        ``path`` is a folder, or a link into a folder that does not exist.
    PermissionError
        The folder of the output is not writable.
    """
    path = Path(path)
    target = _write_target(path)
    _make_parent(path, target)
    with _terminate_as_exit():
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
        except PermissionError:
            raise PermissionError(
                f"Cannot write {path}: the folder {target.parent} is not writable. Choose another output path "
                "or change the folder's permissions."
            ) from None
        os.close(fd)
        try:
            yield Path(tmp)
            os.chmod(tmp, _mode_for(target))
            os.replace(tmp, target)
        except BaseException as err:
            Path(tmp).unlink(missing_ok=True)
            _name_the_output(err, tmp, path)
            raise


def _name_the_output(err: BaseException, tmp: str, path: Path) -> None:
    """Errors name the user's output, never the temporary file (a writer may have put its name in the message)."""
    if isinstance(err, OSError) and err.filename == tmp:
        err.filename = str(path)
    if any(isinstance(a, str) and tmp in a for a in err.args):
        err.args = tuple(a.replace(tmp, str(path)) if isinstance(a, str) else a for a in err.args)


def _mode_for(target: Path) -> int:
    """Keep the mode of the file being replaced; new files get the usual 0o666 less the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(path, text: str, *, newline: str | None = None) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
    return Path(path)


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return Path(path)


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented, strict JSON atomically (see :func:`json_text`)."""
    return write_text(path, json_text(obj, what=str(path)))


def save_figure(fig, path, *, dpi: int = 150) -> Path:
    """Save a matplotlib figure to ``path`` atomically; the format follows the suffix, which is checked first.

    ``fig`` may also be an Axes (what every ``plot_*`` returns): its figure is saved.
    """
    while not hasattr(fig, "savefig") and hasattr(fig, "figure"):  # an Axes, or a SubFigure
        fig = fig.figure
    path = Path(path)
    formats = fig.canvas.get_supported_filetypes()
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in formats:
        found = f"the suffix {path.suffix!r}" if path.suffix else "no suffix"
        raise ValueError(
            f"Cannot save a figure as {str(path)!r}: it has {found}. Name the file with one of "
            f"{', '.join('.' + s for s in ('png', 'pdf', 'svg') if s in formats)} (matplotlib also writes "
            f"{', '.join('.' + s for s in sorted(formats) if s not in ('png', 'pdf', 'svg'))})."
        )
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=suffix)
    return path


# ---------------------------------------------------------------------- strict JSON
def json_text(obj, *, what: str = "the output") -> str:
    """``obj`` as indented JSON text with a final newline; never ``NaN`` or ``Infinity``.

    numpy scalars and arrays, paths, sets and tuples are converted.

    Raises
    ------
    ValueError
        When a value is not finite (JSON has no NaN or Infinity); the message
        names where it is. Such values come from parameters that overflow
        float64, e.g. a huge exponent.
    """
    try:
        return json.dumps(obj, indent=2, default=_json_default, allow_nan=False) + "\n"
    except ValueError:
        where, value = _first_non_finite(json.loads(json.dumps(obj, default=_json_default)))
        raise ValueError(
            f"Cannot write {what} as JSON: {where} is {value}, and JSON has no NaN or Infinity. A parameter "
            "overflowed float64 (e.g. a huge --alpha); use smaller values."
        ) from None


def _first_non_finite(obj, where: str = ""):
    """(where, value) of the first NaN or infinity in plain JSON data, e.g. ``("ilp.1[0][3]", inf)``."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return where or "the value", obj
    if isinstance(obj, dict):
        items = ((f"{where}.{key}" if where else str(key), value) for key, value in obj.items())
    else:
        items = ((f"{where}[{i}]", value) for i, value in enumerate(obj)) if isinstance(obj, list) else ()
    for place, value in items:
        found = _first_non_finite(value, place)
        if found:
            return found
    return None


def jsonable(obj):
    """``obj`` as plain JSON types (what writing and reading it back gives); unknown objects become strings."""
    def lenient(value):
        try:
            return _json_default(value)
        except TypeError:
            return str(value)

    return json.loads(json.dumps(obj, default=lenient))


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
def lock_file_of(path) -> Path:
    """Where the lock of output ``path`` lives: the hidden file ``.<name>.lock`` beside it."""
    path = Path(os.path.realpath(path))
    return path.parent / f".{path.name}.lock"


@contextmanager
def output_lock(path, *, command: str | None = None):
    """Hold the lock on output ``path`` (a file or a folder) for the duration of the block.

    The lock is the file :func:`lock_file_of` beside the output, holding the
    holder's pid, host, start time and command. It is removed on release. A
    lock whose holder died (killed, crashed, machine rebooted) is taken over:
    on POSIX the kernel drops it with the process; elsewhere a lock of a pid
    that no longer runs on this host is stale.

    Parameters
    ----------
    path : str or Path
        The output to protect (it need not exist yet).
    command : str, optional
        What to show a second run; default: this process's command line.

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    OutputLockedError
        Another live process holds the lock; the message names it.
    """
    lock = lock_file_of(path)
    _make_parent(Path(path), lock)
    holder = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": time.strftime("%Y-%m-%d %H:%M:%S"), "command": command or _command_line()}
    release = _lock_posix(path, lock, holder) if fcntl is not None else _lock_by_pid(path, lock, holder)
    try:
        yield lock
    finally:
        release()


def _command_line() -> str:
    return shlex.join([Path(sys.argv[0]).name or "python", *sys.argv[1:]])


def _busy(path, lock: Path, text: str) -> OutputLockedError:
    try:
        h = json.loads(text)
        who = f"pid {h['pid']} on {h['host']}, started {h['started']}: {h['command']}"
    except (ValueError, KeyError, TypeError):
        who = "another zigzag process (starting up)"
    return OutputLockedError(
        f"{path} is being written by another run ({who}). Wait for it to finish or choose another output; "
        f"if that run is gone, delete {lock}."
    )


def _lock_posix(path, lock: Path, holder: dict):
    try:
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.pread(fd, 65536, 0).decode("utf-8", "replace")
                os.close(fd)
                raise _busy(path, lock, text) from None
            try:  # the file locked must still be the one at `lock`: a releasing holder unlinks it first
                if os.path.samestat(os.fstat(fd), os.stat(lock)):
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
    except PermissionError:
        raise PermissionError(f"Cannot lock {path}: the folder {lock.parent} is not writable.") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)

    def release():
        try:
            lock.unlink(missing_ok=True)
        finally:
            os.close(fd)

    return release


def _lock_by_pid(path, lock: Path, holder: dict):  # pragma: no cover - exercised on Windows only
    while True:
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            text = lock.read_text(encoding="utf-8", errors="replace")
            try:
                old = json.loads(text)
                stale = old["host"] == holder["host"] and not _alive(int(old["pid"]))
            except (ValueError, KeyError, TypeError):
                stale = False
            if not stale:
                raise _busy(path, lock, text) from None
            lock.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(holder))
        return lambda: lock.unlink(missing_ok=True)


def _alive(pid: int) -> bool:  # pragma: no cover - used by the fallback only
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


# ---------------------------------------------------------------------- output folders
def check_new_dir(path, *, overwrite: bool) -> Path:
    """Raise unless ``path`` can become a new output folder (absent, or a folder and ``overwrite``)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} exists and is not a folder; choose another output folder.")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it, "
                              "or choose another output folder.")
    return path


@contextmanager
def atomic_dir(path, *, overwrite: bool = False):
    """Yield an empty temporary folder beside ``path``; move it onto ``path`` when the block succeeds.

    The folder is ``.<name>.<random>.partial`` until then and is removed when
    the block raises (or on Ctrl-C or SIGTERM), so ``path`` either holds a
    complete result or is left as it was. An existing ``path`` is replaced
    (with ``overwrite``) only once the new folder is complete.

    Raises
    ------
    FileExistsError
        When ``path`` exists and ``overwrite`` is False.
    ValueError
        When ``path`` exists and is not a folder.
    """
    path = Path(path)
    check_new_dir(path, overwrite=overwrite)
    _make_parent(path, path)
    with _terminate_as_exit():
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
