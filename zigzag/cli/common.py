"""What several subcommands share: the barcode argument, and where results go (a file or standard output)."""

from __future__ import annotations

import sys
from pathlib import Path

#: ``-o -``: the result goes to standard output (text formats only) and the summary to standard error.
STDOUT = "-"


def load_bars(args):
    from ..barcode import Barcode

    return Barcode.load(args.bars, n_layers=args.layers, max_dim=args.max_dim)


def add_bars_argument(p):
    p.add_argument("bars", help="barcode file: .csv (authors' format), .npz or .json")
    p.add_argument("--layers", type=int, default=None,
                   help="number of representations n (default: stored in the file; for the authors' CSV, "
                        "half the largest death step); refused when it disagrees with the file")
    p.add_argument("--max-dim", type=int, default=None,
                   help="highest exact homology dimension (default: stored in the file; the authors' CSV records "
                        "none: their H4 bars are artefacts, so pass 3); higher ones are left out of plots and "
                        "describe's defaults")


def check_output(output: str, *, text: bool, what: str) -> None:
    """Fail before any work when ``output`` cannot take the result: ``-`` for a binary result, a folder, no access."""
    from .._files import check_output_path

    if output == STDOUT:
        if not text:
            raise ValueError(f"-o - (standard output) takes text formats only; {what} is binary, so give a file name.")
        return
    check_output_path(output)


def barcode_output(output: str, format: str | None) -> str:
    """The format a barcode goes to ``output`` in (``--format``, else the suffix; json for ``-``), checked first."""
    formats = ("csv", "json", "npz")
    suffix = "" if output == STDOUT else Path(output).suffix.lower().lstrip(".")
    fmt = format or suffix or ("json" if output == STDOUT else "")
    if fmt not in formats:
        raise ValueError(f"Cannot tell the barcode format of {output!r}: name it .csv, .json or .npz, or pass --format.")
    if format and suffix in formats and suffix != format:
        raise ValueError(f"--format {format} disagrees with the suffix of {output!r}; drop one of them.")
    check_output(output, text=fmt != "npz", what="an .npz barcode")
    return fmt


def write_result(output: str, save, dumps):
    """Save a result to ``output``, or print ``dumps()`` when it is ``-``; return the stream for the summary."""
    if output == STDOUT:
        sys.stdout.write(dumps())
        sys.stdout.flush()
        return sys.stderr
    save(output)
    return sys.stdout
