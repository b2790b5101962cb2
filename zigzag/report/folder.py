"""The report folder: written whole or not at all, and never at the cost of a file zigzag did not write.

A report is made in ``<out>.partial`` and renamed to ``<out>`` when complete.

* **Manifest.** ``run.json`` lists every other file of the report with its
  size and SHA-256 (``"files"``). A file zigzag removes is always one that a
  manifest lists and that is unchanged since zigzag wrote it.
* **Replacing a report** needs ``overwrite=True`` (``--overwrite``) and removes
  that report's own files only; a folder that holds anything else (a file of
  yours, an edited report file, a report without a manifest) is refused with
  the reason, before any work starts.
* **``<out>.partial``.** It starts with a marker file that lists each file
  before it is written. A leftover ``<out>.partial`` (a run killed before it
  could clean up) is reused only when every entry in it is the marker, a file
  the marker lists or the temporary file of one; the run then says so on the
  log. Anything else in it is refused. A run that fails removes its own files
  from ``<out>.partial`` and the folder when it is empty.
* **Lock.** The run holds :func:`zigzag._files.output_lock` on ``<out>``, so a
  second run with the same ``--out`` refuses at once instead of clobbering the
  first; holding the lock also proves that no other run uses ``<out>.partial``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from contextlib import ExitStack
from pathlib import Path

from .._files import output_lock, write_json
from ..errors import OutputExistsError

__all__ = ["MANIFEST", "ReportFolder", "read_manifest"]

log = logging.getLogger(__name__)

#: The file of a finished report that lists the others.
MANIFEST = "run.json"
#: The marker of an unfinished report in ``<out>.partial``.
MARKER = ".zigzag-partial.json"


def file_record(path: Path) -> dict:
    """Size and SHA-256 of a file: what the manifest keeps to recognise it later."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def read_manifest(folder) -> dict | None:
    """The ``{"name": {"bytes", "sha256"}}`` list of a finished report's files, or None if it has none."""
    path = Path(folder) / MANIFEST
    try:
        files = json.loads(path.read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        return None
    return files


def _is_temporary_of(entry: str, names) -> bool:
    """``entry`` is the temporary file of an atomic write of one of ``names`` (``.<stem>.<random>...<suffix>``)."""
    return any(entry.startswith(f".{Path(n).stem}.") and entry.endswith(Path(n).suffix) for n in names)


def _listing(folder: Path, limit: int = 5) -> str:
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


class ReportFolder:
    """Make a report in ``<out>.partial``, then put it at ``<out>``; use as a context manager.

    Parameters
    ----------
    out : str or Path
        The report folder.
    overwrite : bool, default=False
        Replace an earlier report at ``out`` (its own files only).

    Raises
    ------
    OutputExistsError
        ``out`` or ``<out>.partial`` holds something zigzag did not write,
        or an earlier report and ``overwrite`` is False.
    zigzag._files.OutputLockedError
        Another run is writing ``out``.
    """

    def __init__(self, out, *, overwrite: bool = False):
        self.out = Path(out)
        self.partial = self.out.with_name(self.out.name + ".partial")
        self.overwrite = bool(overwrite)
        self.names: list = []
        self._stack = ExitStack()
        self._keep_partial = False

    # ------------------------------------------------------------ entering: lock, check, prepare
    def __enter__(self) -> "ReportFolder":
        if self.out.name in ("", ".", ".."):
            raise OutputExistsError(f"--out {self.out} names no folder of its own; give a new folder name.")
        self._stack.enter_context(output_lock(self.out))
        try:
            self.check_out()
            self._prepare_partial()
        except BaseException:
            self._stack.close()
            raise
        return self

    def check_out(self) -> dict:
        """What replacing ``out`` would remove (``{name: record}``), or raise why it must not be touched."""
        out = self.out
        if out.is_symlink():
            raise OutputExistsError(f"{out} is a symbolic link; give the folder itself (or a new name) as --out.")
        if not out.exists():
            return {}
        if not out.is_dir():
            raise OutputExistsError(f"{out} exists and is a file, not a report folder; choose another --out.")
        entries = {p.name for p in out.iterdir()}
        if not entries:
            return {}
        files = read_manifest(out)
        if files is None:
            what = ("a run.json without a list of its files (a report of an older zigzag: remove it yourself)"
                    if MANIFEST in entries else f"{_listing(out)}")
            raise OutputExistsError(
                f"{out} exists and is not a zigzag report zigzag can replace: it holds {what}. zigzag only removes "
                "files it wrote itself; choose another --out or move the folder away."
            )
        if not self.overwrite:
            raise OutputExistsError(
                f"{out} holds an earlier zigzag report. Pass --overwrite (overwrite=True) to replace it (only the "
                f"files its {MANIFEST} lists are removed), or choose another --out."
            )
        foreign = sorted(entries - set(files) - {MANIFEST})
        if foreign:
            raise OutputExistsError(
                f"{out} holds files that are not part of the earlier report ({', '.join(foreign[:5])}"
                f"{' ...' if len(foreign) > 5 else ''}); zigzag will not remove them. Move them away or choose "
                "another --out."
            )
        changed = [name for name, record in files.items()
                   if (out / name).exists() and ((out / name).is_dir() or file_record(out / name) != record)]
        if changed:
            raise OutputExistsError(
                f"{', '.join(changed[:5])} in {out} changed after zigzag wrote "
                f"{'it' if len(changed) == 1 else 'them'}; "
                "zigzag will not remove an edited file. Move it away or choose another --out."
            )
        return files

    def _prepare_partial(self) -> None:
        partial = self.partial
        if partial.is_symlink() or (partial.exists() and not partial.is_dir()):
            raise OutputExistsError(f"{partial} exists and is not a folder zigzag made; move it away.")
        if partial.exists():
            listed = self._provably_ours(partial)
            if listed is None:
                raise OutputExistsError(
                    f"{partial} exists and holds files zigzag did not write ({_listing(partial)}); zigzag never "
                    "removes them. Move the folder away or remove it, then run again."
                )
            log.warning("Removing %s: the unfinished report of an earlier run that was stopped (%s).", partial,
                        listed.get("started", "time unknown"))
            self._remove_ours(partial, listed.get("files", []))
        partial.mkdir(parents=True, exist_ok=True)
        self._write_marker()

    @staticmethod
    def _provably_ours(partial: Path) -> dict | None:
        """The marker of a leftover ``<out>.partial`` when every entry is the marker's or its temporaries, else None."""
        try:
            marker = json.loads((partial / MARKER).read_text(encoding="utf-8"))
            names = [str(n) for n in marker["files"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        for entry in partial.iterdir():
            mine = entry.name == MARKER or entry.name in names or _is_temporary_of(entry.name, [*names, MARKER])
            if not mine or entry.is_dir():
                return None
        return marker

    @staticmethod
    def _remove_ours(partial: Path, names) -> None:
        """Remove the marker, the listed files and their temporaries from ``partial``; the folder when empty."""
        for entry in list(partial.iterdir()) if partial.is_dir() else []:
            if entry.is_file() and (entry.name in (MARKER, *names) or _is_temporary_of(entry.name, [*names, MARKER])):
                entry.unlink()
        try:
            partial.rmdir()
        except OSError:  # something else is in it: leave it
            pass

    def _write_marker(self) -> None:
        write_json(self.partial / MARKER, {
            "zigzag": "unfinished report", "out": str(self.out), "pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "files": self.names,
        })

    # ------------------------------------------------------------ writing
    def path(self, name: str) -> Path:
        """Where to write report file ``name``; it is recorded in the marker before it is written."""
        if name in (MANIFEST, MARKER) or Path(name).name != name:
            raise ValueError(f"{name!r} is not a report file name.")
        if name not in self.names:
            self.names.append(name)
            self._write_marker()
        return self.partial / name

    def discard(self, name: str) -> None:
        """Take back a file announced by :meth:`path` that was not written after all (an optional figure)."""
        if (self.partial / name).exists():
            raise RuntimeError(f"report file {name!r} was written; it cannot be discarded")
        if name in self.names:
            self.names.remove(name)
            self._write_marker()

    def finish(self, record: dict) -> dict:
        """Write ``run.json`` (``record`` plus the manifest) and move the report to ``out``; return the manifest."""
        files = {name: file_record(self.partial / name) for name in self.names if (self.partial / name).is_file()}
        missing = sorted(set(self.names) - set(files))
        if missing:
            raise RuntimeError(f"report files {missing} were announced but not written")
        self.names.append(MANIFEST)
        self._write_marker()
        write_json(self.partial / MANIFEST, {**record, "files": files})
        try:
            old = self.check_out()  # again: the folder may have changed while the report was made
        except OutputExistsError as err:
            self._keep_partial = True
            raise OutputExistsError(f"{err} The new report is complete in {self.partial}.") from None
        if self.out.exists():
            for name in [n for n in old if n != MANIFEST] + [MANIFEST]:
                (self.out / name).unlink(missing_ok=True)
            self.out.rmdir()
        (self.partial / MARKER).unlink()
        os.replace(self.partial, self.out)
        return files

    # ------------------------------------------------------------ leaving
    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None and not self._keep_partial and self.partial.is_dir():
                self._remove_ours(self.partial, self.names)
        finally:
            self._stack.close()
        return False
