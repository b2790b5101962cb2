"""`zigzag compute`: the barcode of layer clouds."""

from __future__ import annotations


def _add_compute(sub):
    from ..engines import ENGINES
    from ..filtration import ZIGZAGS
    from ..knn import GRAPHS, METRICS

    p = sub.add_parser("compute", help="zigzag barcode of a sequence of point clouds",
                       description="Compute the zigzag barcode of layer clouds (.npy (n, N, D) array or an extraction folder).")
    p.add_argument("clouds", help="a .npy file holding an (n_layers, n_points, n_features) array, or a folder written by 'zigzag extract'")
    p.add_argument("-o", "--output", required=True,
                   help="barcode file: .csv (authors' format), .npz or .json; '-' for standard output")
    p.add_argument("--format", choices=["csv", "json", "npz"], default=None,
                   help="file format (default: from the suffix of -o; json for -o -)")
    p.add_argument("--k", type=int, default=5, help="neighbours per point (default 5)")
    p.add_argument("--max-dim", type=int, default=1, help="highest homology dimension (default 1)")
    p.add_argument("--metric", choices=METRICS, default="euclidean")
    p.add_argument("--graph", choices=GRAPHS, default="union")
    p.add_argument("--zigzag", choices=ZIGZAGS, default="intersection")
    p.add_argument("--engine", choices=ENGINES, default="fast",
                   help="fast: compiled twist reduction of the FastZigzag cone (default); dionysus: dionysus' "
                        "fast zigzag (the reference); classic: dionysus' original algorithm (the slow oracle). "
                        "All give the same bars")
    p.add_argument("--device", default=None,
                   help="compute the kNN products with torch on this device (cpu, cuda, cuda:1, mps); "
                        "default: numpy on the CPU. The graphs are the same on every device")
    p.add_argument("--timings", metavar="FILE.json", default=None,
                   help="also write the seconds spent in each stage (knn, complexes, engine, total) to this JSON file")
    p.set_defaults(func=_cmd_compute)


def _cmd_compute(args) -> int:
    from .._files import write_json
    from ..io import load_clouds
    from ..pipeline import compute
    from .common import STDOUT, barcode_output, write_result

    fmt = barcode_output(args.output, args.format)
    clouds = load_clouds(args.clouds)
    bars = compute(clouds, k=args.k, max_dim=args.max_dim, metric=args.metric, graph=args.graph,
                   zigzag=args.zigzag, engine=args.engine, progress=not args.quiet, device=args.device)
    summary = write_result(args.output, lambda path: bars.save(path, format=fmt), lambda: bars.dumps(fmt))
    if args.timings:
        params = {key: value for key, value in bars.params.items() if key != "timings"}
        write_json(args.timings, {**bars.params["timings"], "params": params})
    betti = bars.betti_numbers(range(args.max_dim + 1))
    print(f"{bars} -> {'standard output' if args.output == STDOUT else args.output}", file=summary)
    for p, row in enumerate(betti):
        print(f"  beta_{p} per layer: {' '.join(str(int(v)) for v in row)}", file=summary)
    if args.timings:
        timings = bars.params["timings"]
        print("  seconds: " + ", ".join(f"{key} {value:.2f}" for key, value in timings.items()) + f" -> {args.timings}",
              file=summary)
    return 0
