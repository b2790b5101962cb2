"""The ``zigzag`` command: a thin shell over the library's public functions.

Each subcommand has an ``_add_<name>(subparsers)`` that declares its
arguments and a ``_cmd_<name>(args)`` that runs it and returns an exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__

log = logging.getLogger("zigzag")


# ---------------------------------------------------------------- compute
def _add_compute(sub):
    p = sub.add_parser("compute", help="zigzag barcode of a sequence of point clouds",
                       description="Compute the zigzag barcode of layer clouds (.npy (n, N, D) array or an extraction folder).")
    p.add_argument("clouds", help="a .npy file holding an (n_layers, n_points, n_features) array, or a folder written by 'zigzag extract'")
    p.add_argument("-o", "--output", required=True, help="barcode file: .csv (authors' format), .npz or .json")
    p.add_argument("--k", type=int, default=5, help="neighbours per point (default 5)")
    p.add_argument("--max-dim", type=int, default=1, help="highest homology dimension (default 1)")
    p.add_argument("--metric", choices=["euclidean", "cosine"], default="euclidean")
    p.add_argument("--graph", choices=["union", "mutual"], default="union")
    p.add_argument("--zigzag", choices=["intersection", "union"], default="intersection")
    p.add_argument("--engine", choices=["fast", "classic"], default="fast")
    p.set_defaults(func=_cmd_compute)


def _cmd_compute(args) -> int:
    from .io import load_clouds
    from .pipeline import compute

    clouds = load_clouds(args.clouds)
    bars = compute(clouds, k=args.k, max_dim=args.max_dim, metric=args.metric, graph=args.graph,
                   zigzag=args.zigzag, engine=args.engine, progress=not args.quiet)
    bars.save(args.output)
    betti = bars.betti_numbers(range(args.max_dim + 1))
    print(f"{bars} -> {args.output}")
    for p, row in enumerate(betti):
        print(f"  beta_{p} per layer: {' '.join(str(int(v)) for v in row)}")
    return 0


# ---------------------------------------------------------------- entry point
_COMMANDS = [_add_compute]


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
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"zigzag {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
