"""Reproduce the layer-pruning choice of Gardinazzi et al. from their published barcode.

The authors published the zigzag barcode of Llama 2 7B on Pile-10k prompts
(k = 5) as a CSV of ``dimension,birth,death`` rows in 1-based zigzag steps.
This script reads such a file, computes the pruning profile
r(l) = S̄_1(l) (average persistence similarity of the 1-cycles, one value per
representation: blocks 0..L-1, then the final norm) and prints the blocks the
rule "remove every block with r(l) >= q * max r" takes out. On the Llama 2 7B
file it removes blocks 20-27 at q = 0.9 and 18-29 at q = 0.8 (0-based), as in
the paper.

It writes, into ``--out``:

* ``<name>_profile.png``: r(l) over the layers with each plan's blocks shaded;
* ``<name>_plans.json``: the plans (criterion, q, blocks, the profile r).

Run it with::

    python examples/reproduce_authors_pruning.py ../shared/reference/llama2-7b_pile10k_knn5_dim4.csv
    python examples/reproduce_authors_pruning.py BARS.csv --q 0.9 --q 0.8 --q 0.7 --out my-folder

Any barcode the package writes (``.csv``, ``.npz``, ``.json``) works too.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")  # the script only writes files; never opens a window

import numpy as np

import zigzag
from zigzag.io import write_json
from zigzag.plotting import save_figure


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Read the authors' barcode CSV and print the blocks the zigzag pruning rule removes.",
        epilog="Example: python examples/reproduce_authors_pruning.py "
               "../shared/reference/llama2-7b_pile10k_knn5_dim4.csv --q 0.9 --q 0.8",
    )
    parser.add_argument("barcode", type=Path,
                        help="barcode file: the authors' CSV (dimension,birth,death; 1-based steps) or a zigzag "
                             ".npz/.json")
    parser.add_argument("--q", type=float, action="append", default=None, metavar="Q",
                        help="tolerance: remove the blocks with r(l) >= Q * max r; repeat for several "
                             "(default: --q 0.9 --q 0.8, the paper's '10%%' and '20%%')")
    parser.add_argument("--blocks", type=int, action="append", default=[], metavar="M",
                        help="also remove exactly M blocks (the contiguous window with the highest mean r); "
                             "may be repeated")
    parser.add_argument("--layers", type=int, default=None,
                        help="number of representations n (default: half the largest death step of the CSV)")
    parser.add_argument("--out", type=Path, default=Path("examples-output"),
                        help="folder for the figure and the plans (default: examples-output)")
    args = parser.parse_args(argv)
    if args.q is None:
        args.q = [0.9, 0.8]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    bars = zigzag.Barcode.load(args.barcode, n_layers=args.layers)
    n = bars.n_layers
    n_h1 = len(bars.select(1))
    print(f"{args.barcode.name}: {n} representations (blocks 0..{n - 2}, then the final norm as layer {n - 1}), "
          f"{len(bars):,} bars, {n_h1:,} of them in H_1")
    if n_h1 == 0:
        print("warning: no H_1 bars, so the profile is zero and no rule can choose blocks.", file=sys.stderr)

    plans = zigzag.prune_plans(bars, q=args.q, blocks=args.blocks)
    r = zigzag.pruning_profile(bars)
    peak = int(np.nanargmax(r))
    print(f"S̄_1 peak: layer {peak} of 0..{n - 1} (relative depth {peak / (n - 1):.2f}), r = {r[peak]:.4f}")
    print("Blocks removed (0-based):")
    for plan in plans:
        runs = zigzag.pruning.format_blocks(plan)
        rule = f"r >= {plan.q:g} * max r = {plan.q * r[peak]:.4f}" if plan.q is not None else "best window"
        print(f"  {plan.label:>7}: {runs:<12} ({plan.n_removed:>2} of {plan.n_blocks} blocks; {rule})")

    stem = args.barcode.name.split(".")[0]
    figure_path = args.out / f"{stem}_profile.png"
    plans_path = args.out / f"{stem}_plans.json"
    ax = zigzag.plot_profile(plans)
    ax.set_title(f"Pruning profile of {stem}")
    save_figure(ax.figure, figure_path)
    write_json(plans_path, {
        "barcode": args.barcode.name,
        "n_layers": n,
        "peak_layer": peak,
        "profile": r,
        "plans": [plan.to_dict() for plan in plans],
    })
    print(f"wrote {figure_path} and {plans_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
