"""`zigzag sweep`: zigzag run's analysis over models × texts × k × prompt subsets, on dask.distributed."""

from __future__ import annotations


def _resources(text: str) -> dict:
    """``"GPU=1"`` or ``"GPU=1,MEM=2"`` as a dask resources dict."""
    import argparse

    out = {}
    for part in text.split(","):
        name, sep, amount = part.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(amount)
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes NAME=AMOUNT[,NAME=AMOUNT], e.g. GPU=1; got {text!r}") from None
    return out


def _add_sweep(sub):
    from ..report import RunConfig

    d = RunConfig()
    p = sub.add_parser(
        "sweep", help="zigzag run's analysis over models × texts × k × prompt subsets, on dask.distributed",
        description="Extract each (model, texts) once, then compute the zigzag barcode, descriptors and pruning plans "
                    "of every (model, texts, k, subset) cell with zigzag run's settings, each step a dask task. "
                    "Results are cached in --out by a content hash of their inputs and parameters: a rerun computes "
                    "nothing and an interrupted sweep resumes. Writes summary.csv, summary.md (S̄₁ profiles, "
                    "mean ± std across subsets, and the plans), per-cell barcodes and distance matrices.")
    p.add_argument("--model", action="append", metavar="M",
                   help="a local model folder, a hub name in the local cache, or 'embedded'; repeat (default embedded)")
    p.add_argument("--texts", action="append", metavar="FILE",
                   help="a .txt, .jsonl or .csv file, or 'builtin' for the built-in corpus; repeat (default builtin)")
    p.add_argument("--k", type=int, action="append", help=f"neighbours per point; repeat (default {d.k})")
    p.add_argument("--subsets", type=int, default=1, metavar="S",
                   help="split each text set into S disjoint random parts, one cell each (default 1: all texts)")
    p.add_argument("--out", required=True, metavar="DIR", help="the sweep's folder (cache and summaries)")
    p.add_argument("--max-dim", type=int, default=d.max_dim, help=f"highest homology dimension (default {d.max_dim})")
    p.add_argument("--zigzag", choices=("intersection", "union"), default="intersection",
                   help="how consecutive layers are linked (default intersection)")
    p.add_argument("--q", type=float, action="append", help="tolerance of the plans; repeat (default 0.9 and 0.8)")
    p.add_argument("--n-texts", type=int, default=d.n_texts,
                   help=f"texts per file; longer files are sampled with --seed (default {d.n_texts})")
    p.add_argument("--field", default=d.text_field, help=f"JSON field of a .jsonl file (default {d.text_field})")
    p.add_argument("--column", default=d.text_column, help=f"column of a .csv file (default {d.text_column})")
    p.add_argument("--dedupe", action="store_true", default=d.dedupe,
                   help="drop repeated texts (keeping the first of each) before sampling, as zigzag run --dedupe")
    p.add_argument("--seed", type=int, default=d.seed, help="seed for sampling texts and drawing subsets (default 0)")
    p.add_argument("--hook", default=d.hook, help="hook point or module pattern (default: post_attention_norm)")
    p.add_argument("--pooling", default=None,
                   help="last, mean, first or a token position (default: last for decoders, mean for encoders)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"texts per forward pass (default {d.batch_size})")
    p.add_argument("--max-length", type=int, default=d.max_length,
                   help="truncate texts to this many tokens (default: the model's position limit, as zigzag extract)")
    p.add_argument("--device", default=None, help="torch device of the extracting workers, e.g. cuda (default CPU)")
    p.add_argument("--distance", action="append", choices=("bottleneck", "wasserstein"),
                   help="distance matrices between the cells' H1 diagrams; repeat (default both)")
    p.add_argument("--no-distances", action="store_true", help="no distance matrices")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster)")
    where.add_argument("--scheduler-file", metavar="FILE", help="a scheduler file written by 'dask scheduler'")
    p.add_argument("--workers", type=int, default=None, help="worker processes of the local cluster (default: one per core)")
    p.add_argument("--extract-resources", type=_resources, default=None, metavar="NAME=AMOUNT",
                   help="dask resources each extraction needs, e.g. GPU=1 for workers started with --resources GPU=1")
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args) -> int:
    import logging

    from ..report import RunConfig
    from ..sweeping import sweep

    d = RunConfig()
    if not args.verbose:  # dask's own INFO lines (scheduler and workers starting, stopping) are not for the user
        logging.getLogger("distributed").setLevel(logging.ERROR)
    pooling = int(args.pooling) if args.pooling and args.pooling.lstrip("-").isdigit() else args.pooling
    distances = () if args.no_distances else tuple(args.distance or ("bottleneck", "wasserstein"))
    frame = sweep(args.model or ["embedded"], args.texts or ["builtin"], out=args.out, k=args.k or [d.k],
                  subsets=args.subsets, max_dim=args.max_dim, zigzag=args.zigzag, q=tuple(args.q or d.q),
                  n_texts=args.n_texts, seed=args.seed, text_field=args.field, text_column=args.column,
                  dedupe=args.dedupe, hook=args.hook, pooling=pooling, batch_size=args.batch_size,
                  max_length=args.max_length, device=args.device, distances=distances, scheduler=args.scheduler,
                  scheduler_file=args.scheduler_file, n_workers=args.workers, extract_resources=args.extract_resources,
                  progress=not args.quiet)
    tasks = frame.attrs["tasks"]
    print(f"zigzag sweep: {len(frame)} cells; {tasks['total']} tasks: {tasks['done']} done, {tasks['cached']} cached, "
          f"{tasks['failed']} failed")
    for row in frame.itertuples(index=False):
        if row.error:
            print(f"  {row.run}: failed: {row.error}")
    print(f"summary: {frame.attrs['out']}/summary.md")
    return 1 if tasks["failed"] else 0
