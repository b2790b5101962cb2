"""`zigzag describe`, `zigzag prune-plan` and `zigzag plot`: what a barcode file says."""

from __future__ import annotations

import sys

from ..descriptors import BRF_INDEX, NORMALIZATIONS
from .common import add_bars_argument, load_bars


def _add_describe(sub):
    p = sub.add_parser("describe", help="descriptors of a barcode (Betti, H, S, S-bar, ILP, BRF, kappa) as JSON",
                       description="Compute every descriptor of a barcode per homology dimension and write them as JSON.")
    add_bars_argument(p)
    p.add_argument("-o", "--output", required=True, help="output .json file; '-' for standard output")
    p.add_argument("--dims", type=int, nargs="+", default=None,
                   help="homology dimensions (default: those the barcode has, 0..max_dim when it records max_dim)")
    p.add_argument("--alpha", type=float, nargs="+", default=[0.0, 1.0],
                   help="exponents of ILP and BRF (default 0 1)")
    p.add_argument("--threshold", type=float, default=0.5, help="threshold of the correlation lengths (default 0.5)")
    p.add_argument("--brf-index", choices=BRF_INDEX, default="birth",
                   help="count bars at their birth layer or at their last layer alive (authors' curves)")
    p.add_argument("--normalization", choices=NORMALIZATIONS, default="column",
                   help="normalisation of the average similarity (default column, the paper's)")
    p.set_defaults(func=_cmd_describe)


def _cmd_describe(args) -> int:
    from ..descriptors import describe
    from .common import STDOUT, check_output, write_result

    check_output(args.output, text=True, what="")
    bars = load_bars(args)
    desc = describe(bars, dims=args.dims, alpha=args.alpha, threshold=args.threshold,
                    brf_index=args.brf_index, normalization=args.normalization)
    summary = write_result(args.output, desc.save, desc.dumps)
    print(f"{bars} -> {'standard output' if args.output == STDOUT else args.output}", file=summary)
    for p in desc.dims:
        r = desc.average_similarity[p]
        print(f"  H{p}: peak of the average similarity at layer {int(r.argmax())} ({float(r.max()):.3f})", file=summary)
    return 0


def _add_prune_plan(sub):
    p = sub.add_parser("prune-plan", help="blocks to remove by the zigzag criterion",
                       description="Which decoder blocks to remove (0-based), from the average persistence "
                                   "similarity of the barcode. Default: --q 0.9 --q 0.8. A plan that removes every "
                                   "block, or all but one, is marked degenerate and warned about on stderr.")
    add_bars_argument(p)
    p.add_argument("--q", "--tolerance", type=float, action="append", default=None, dest="qs",
                   help="tolerance: remove blocks with r >= q * max r (repeatable)")
    p.add_argument("--blocks", type=int, action="append", default=None,
                   help="remove exactly this many blocks, the best contiguous window (repeatable)")
    p.add_argument("--dim", type=int, default=1, help="homology dimension of the profile (default 1)")
    p.add_argument("--normalization", choices=NORMALIZATIONS, default="column",
                   help="normalisation of the average similarity (default column, the paper's)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.set_defaults(func=_cmd_prune_plan)


def _cmd_prune_plan(args) -> int:
    import json

    from ..pruning import format_blocks, prune_plans

    bars = load_bars(args)
    qs = args.qs if args.qs is not None else ([] if args.blocks else [0.9, 0.8])
    plans = prune_plans(bars, q=qs, blocks=args.blocks or [], dim=args.dim, normalization=args.normalization)
    for plan in plans:
        if plan.degenerate:
            print(f"zigzag prune-plan: warning: the plan {plan.label} is degenerate: it {plan.degenerate}. "
                  "Use a higher --q or --blocks.", file=sys.stderr)
    profile = plans[0].scores
    peak = int(profile.argmax())
    if args.json:
        out = {
            "n_layers": bars.n_layers, "n_blocks": bars.n_layers - 1, "dim": args.dim,
            "normalization": args.normalization, "profile": [float(v) for v in profile], "peak_layer": peak,
            "plans": [
                {**({"q": plan.q} if plan.q is not None else {"blocks_requested": plan.blocks_requested}),
                 "blocks": list(plan.blocks), "n_removed": plan.n_removed, "n_blocks": plan.n_blocks,
                 "criterion": plan.criterion, "degenerate": plan.degenerate}
                for plan in plans
            ],
        }
        print(json.dumps(out))
        return 0
    n = bars.n_layers
    print(f"r(l) = S-bar_{args.dim} over {n} representations (blocks 0..{n - 2}; {n - 1} = the last "
          "representation, never removed)")
    print(f"peak at layer {peak} (r = {float(profile[peak]):.3f})")
    print(f"{'rule':<8} {'removed':>10}  blocks (0-based)")
    for plan in plans:
        note = f"  (degenerate: {plan.degenerate})" if plan.degenerate else ""
        print(f"{plan.label:<8} {f'{plan.n_removed} of {plan.n_blocks}':>10}  {format_blocks(plan)}{note}")
    return 0


#: The figures ``zigzag plot`` draws from one barcode file: ``zigzag.plotting.plot_<kind>``.
PLOT_KINDS = ("diagram", "barcode", "histogram", "betti", "similarity", "profile")


def _add_plot(sub):
    kinds = PLOT_KINDS
    p = sub.add_parser("plot", help=f"a figure of a barcode ({', '.join(kinds)})",
                       description="Draw one figure of a barcode and save it (.png, .pdf, .svg).")
    add_bars_argument(p)
    p.add_argument("--kind", choices=kinds, required=True)
    p.add_argument("--dim", type=int, default=None,
                   help="homology dimension (default 1; diagram and betti: all dimensions with bars)")
    p.add_argument("--q", "--tolerance", type=float, action="append", default=None, dest="qs",
                   help="profile: tolerances to shade (default 0.9 and 0.8)")
    p.add_argument("--logy", action="store_true", help="betti: log scale on the count axis")
    p.add_argument("--dpi", type=int, default=150)
    p.add_argument("-o", "--output", required=True, help="figure file (.png, .pdf, .svg)")
    p.set_defaults(func=_cmd_plot)


def _cmd_plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import plotting
    from ..plotting import save_figure
    from .common import check_output

    check_output(args.output, text=False, what="a figure")
    bars = load_bars(args)
    dim = 1 if args.dim is None else args.dim
    if args.logy and args.kind != "betti":
        raise ValueError(f"--logy applies to --kind betti only, not {args.kind}.")
    if args.kind == "diagram":
        ax = plotting.plot_diagram(bars, dims=args.dim)
    elif args.kind == "betti":
        ax = plotting.plot_betti(bars, dims=args.dim, logy=args.logy)
    elif args.kind == "profile":
        ax = plotting.plot_profile(bars, q=args.qs or [0.9, 0.8], dim=dim)
    else:
        ax = getattr(plotting, f"plot_{args.kind}")(bars, dim)
    fig = ax.figure
    save_figure(fig, args.output, dpi=args.dpi)
    plt.close(fig)
    print(f"{args.kind} of {bars} -> {args.output}")
    return 0
