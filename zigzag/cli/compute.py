"""`zigzag compute`: the barcode of layer clouds."""

from __future__ import annotations

def _add_compute(sub):
    p = sub.add_parser("compute", help="zigzag barcode of a sequence of point clouds",
                       description="Compute the zigzag barcode of layer clouds (.npy (n, N, D) array or an extraction folder).")
    p.add_argument("clouds", help="a .npy file holding an (n_layers, n_points, n_features) array, or a folder written by 'zigzag extract'")
    p.add_argument("-o", "--output", required=True,
                   help="barcode file: .csv (authors' format), .npz or .json; '-' for standard output")
    p.add_argument("--format", choices=["csv", "json", "npz"], default=None,
                   help="file format (default: from the suffix of -o; json for -o -)")
    p.add_argument("--k", type=int, default=5, help="neighbours per point (default 5)")
    p.add_argument("--max-dim", type=int, default=1, help="highest homology dimension (default 1)")
    p.add_argument("--metric", choices=["euclidean", "cosine"], default="euclidean")
    p.add_argument("--graph", choices=["union", "mutual"], default="union")
    p.add_argument("--zigzag", choices=["intersection", "union"], default="intersection")
    p.add_argument("--engine", choices=["fast", "classic"], default="fast")
    p.set_defaults(func=_cmd_compute)


def _cmd_compute(args) -> int:
    from ..io import load_clouds
    from ..pipeline import compute
    from .common import STDOUT, barcode_output, write_result

    fmt = barcode_output(args.output, args.format)
    clouds = load_clouds(args.clouds)
    bars = compute(clouds, k=args.k, max_dim=args.max_dim, metric=args.metric, graph=args.graph,
                   zigzag=args.zigzag, engine=args.engine, progress=not args.quiet)
    summary = write_result(args.output, lambda path: bars.save(path, format=fmt), lambda: bars.dumps(fmt))
    betti = bars.betti_numbers(range(args.max_dim + 1))
    print(f"{bars} -> {'standard output' if args.output == STDOUT else args.output}", file=summary)
    for p, row in enumerate(betti):
        print(f"  beta_{p} per layer: {' '.join(str(int(v)) for v in row)}", file=summary)
    return 0
