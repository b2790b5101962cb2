"""What several subcommands share: reading a barcode file argument."""

from __future__ import annotations

def load_bars(args):
    from ..barcode import Barcode

    return Barcode.load(args.bars, n_layers=args.layers, max_dim=args.max_dim)


def add_bars_argument(p):
    p.add_argument("bars", help="barcode file: .csv (authors' format), .npz or .json")
    p.add_argument("--layers", type=int, default=None,
                   help="number of representations n (default: stored in the file; for the authors' CSV, "
                        "half the largest death step)")
    p.add_argument("--max-dim", type=int, default=None,
                   help="highest exact homology dimension (default: stored in the file; the authors' CSV records "
                        "none: their H4 bars are artefacts, so pass 3); higher ones are left out of plots and "
                        "describe's defaults")
