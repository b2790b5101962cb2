"""The zigzag command: zigzag persistence of a network's layers, from model to pruning plan.

Each subcommand lives in a module of this package with an
``_add_<name>(subparsers)`` that declares its arguments and a
``_cmd_<name>(args)`` that runs it and returns an exit code; ``_COMMANDS``
below lists them in the order ``zigzag --help`` shows.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .._version import __version__
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


def main(argv=None) -> int:
    """Run the ``zigzag`` command; user errors print one line and exit with status 2."""
    args = build_parser().parse_args(argv)
    if getattr(args, "quiet", False):
        os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # transformers' own weight-loading bars
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, OSError, ImportError) as err:  # OSError: missing files, permissions, a locked output;
        # ImportError: an optional package (the message names the extra)
        print(f"zigzag {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
