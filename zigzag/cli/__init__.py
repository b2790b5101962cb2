"""The zigzag command: zigzag persistence of a network's layers, from model to pruning plan.

Each subcommand lives in a module of this package with an
``_add_<name>(subparsers)`` that declares its arguments and a
``_cmd_<name>(args)`` that runs it and returns an exit code; ``_COMMANDS``
below lists them in the order ``zigzag --help`` shows.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager

from .._version import __version__
from ..errors import ZigzagError
from .analysis import _add_describe, _add_plot, _add_prune_plan
from .compute import _add_compute
from .cycles import _add_cycles
from .extract import _add_extract
from .models import _add_evaluate, _add_prune
from .run import _add_run
from .sweep import _add_sweep

log = logging.getLogger("zigzag")


_COMMANDS = [_add_run, _add_sweep, _add_extract, _add_compute, _add_describe, _add_prune_plan, _add_plot,
             _add_cycles, _add_prune, _add_evaluate]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``zigzag`` command (also used to document it)."""
    parser = argparse.ArgumentParser(prog="zigzag", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"zigzag {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    common.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    original = sub.add_parser

    def add_parser(name, **kwargs):
        kwargs.setdefault("parents", [common])
        return original(name, **kwargs)

    sub.add_parser = add_parser
    for add in _COMMANDS:
        add(sub)
    return parser


#: What to do after Ctrl-C, per command (default: run it again).
_RESUME = {
    "run": "the unfinished report was removed; run the same command again to start over",
    "extract": "run the same command again to resume from the last finished batch",
}
#: The commands with a --q option, where "-q 0.9" is a slip for "--q 0.9".
_Q_COMMANDS = ("run", "prune-plan", "plot")


def main(argv=None) -> int:
    """Run the ``zigzag`` command.

    Input zigzag cannot use (:class:`zigzag.errors.ZigzagError`,
    ``ValueError``, and the ``OSError`` of files) prints one line
    ``zigzag COMMAND: error: ...`` and returns 2; Ctrl-C prints one line that
    says how to resume and returns 130. Anything else is a bug and keeps its
    traceback.
    """
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    hint = _quiet_hint(argv)
    if hint:
        print(hint, file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        # run shows its own line per stage, model loading included; -q hides every bar
        with _sigterm_as_exit(), _loading_bars_hidden(args.quiet or args.command == "run"):
            if getattr(args, "device", None) is not None:
                from ..models.devices import check_device

                check_device(args.device)
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"zigzag {args.command}: interrupted; {_RESUME.get(args.command, 'run the same command again')}.",
              file=sys.stderr)
        return 130
    except (ZigzagError, ValueError, OSError, ImportError) as err:  # ImportError: an optional package (the message names the extra)
        print(f"zigzag {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2


def _one_line(err: BaseException) -> str:
    """The message of an error on one line (an OSError of the system as 'reason: file')."""
    if isinstance(err, OSError) and not isinstance(err, ZigzagError) and err.strerror and err.filename:
        return f"{err.strerror}: {err.filename}"
    return " ".join(str(err).split()) or type(err).__name__


def _quiet_hint(argv) -> str | None:
    """The error for ``-q 0.9`` (or ``-q0.9``) given to a command that has ``--q``, else None."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in _Q_COMMANDS:
        return None
    for i, arg in enumerate(argv):
        if arg in ("-q", "--quiet") and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("-q") and not arg.startswith("--"):
            value = arg[2:]
        else:
            continue
        try:
            float(value)
        except ValueError:
            continue
        return f"zigzag {command}: error: -q is --quiet (no progress bars); did you mean --q {value} (the tolerance)?"
    return None


@contextmanager
def _loading_bars_hidden(hide: bool):
    """Meanwhile, no progress bars from transformers / huggingface_hub (their model-loading bars)."""
    if not hide:
        yield
        return
    before = os.environ.get("HF_HUB_DISABLE_PROGRESS_BARS")
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # read when transformers is imported
    loaded = sys.modules.get("transformers")  # already imported (a Python session): switch its bars off
    was_on = loaded is not None and loaded.utils.logging.is_progress_bar_enabled()
    if was_on:
        loaded.utils.logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            loaded.utils.logging.enable_progress_bar()
        if before is None:
            os.environ.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
        else:
            os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = before


@contextmanager
def _sigterm_as_exit():
    """Meanwhile, SIGTERM exits through Python (status 143), so an unfinished output is cleaned up."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM") \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


#: The cyclic collector's third threshold in the command's process (Python's default is 10).
FULL_COLLECTION_THRESHOLD = 100


def entry() -> None:
    """The ``zigzag`` executable (and ``python -m zigzag.cli``): :func:`main` in a process of its own.

    Importing torch and transformers leaves about half a million long-lived
    objects, and each full pass of Python's cyclic collector rescans them all:
    eight passes took 3 s of a 15 s ``zigzag run``. The command's process makes
    full passes ten times rarer (young cycles are still collected as usual)
    and freezes what is left at the end (``gc.freeze``), so exiting does not
    rescan it either. :func:`main` itself leaves the collector alone, for
    callers in a Python session.
    """
    gc.set_threshold(*gc.get_threshold()[:2], FULL_COLLECTION_THRESHOLD)
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
