"""`zigzag run`: the whole pipeline, from a model and texts to a report folder."""

from __future__ import annotations

import argparse


def _add_run(sub):
    from ..adapters.pooling import POOLINGS
    from ..report import RunConfig

    d = RunConfig()
    p = sub.add_parser("run", help="the whole pruning-criterion pipeline, from a model and texts to a report folder",
                       description="Extract layer clouds, compute the zigzag barcode, descriptors and pruning plans "
                                   "(with the angular-distance and Block-Influence baselines), optionally prune and "
                                   "evaluate each plan, and write a report folder. The defaults run offline on the "
                                   "bundled all-MiniLM-L6-v2 and the built-in corpus. An earlier report is replaced "
                                   "only with --overwrite, and then only the files its run.json lists are removed.")
    p.add_argument("--model", default=d.model,
                   help="a local model folder, a hub name in the local cache, or 'embedded' (default)")
    p.add_argument("--texts", default=d.texts, help="a .txt (one per line), .jsonl (--field) or .csv (--column) file; "
                                                   "default: built-in corpus")
    p.add_argument("--field", default=d.text_field, help=f"JSON field of a .jsonl file (default {d.text_field})")
    p.add_argument("--column", default=d.text_column, help=f"column of a .csv file (default {d.text_column})")
    p.add_argument("--dedupe", action="store_true", default=d.dedupe,
                   help="keep only the first of repeated texts (default: keep them and warn)")
    p.add_argument("--n-texts", type=int, default=d.n_texts,
                   help=f"at most this many texts, sampled with --seed when the file has more (default {d.n_texts})")
    p.add_argument("--hook", default=d.hook,
                   help="post_attention_norm, residual or a module pattern (default: post_attention_norm)")
    p.add_argument("--pooling", default=d.pooling,
                   help=f"{', '.join(POOLINGS)} or a token position (default: last for decoders, mean for encoders)")
    p.add_argument("--k", type=int, default=d.k, help=f"neighbours per point (default {d.k})")
    p.add_argument("--max-dim", type=int, default=d.max_dim, help=f"highest homology dimension (default {d.max_dim})")
    p.add_argument("--q", "--tolerance", type=float, action="append", dest="q",
                   help="tolerance of the zigzag plan: remove blocks with r >= q * max r; repeat "
                        "(default 0.9 and 0.8)")
    p.add_argument("--blocks", type=int, default=d.blocks,
                   help="also plan exactly this many blocks; baselines use it (default: as many as the first q plan)")
    p.add_argument("--evaluate", action=argparse.BooleanOptionalAction, default=d.evaluate,
                   help="prune the model with each plan and compare it with the full one (default: yes)")
    p.add_argument("--out", default=d.out, help=f"report folder (default {d.out})")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier report in --out (only the files its run.json lists)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed for sampling texts (default 0)")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"texts per forward pass (default {d.batch_size})")
    p.add_argument("--max-length", type=int, default=d.max_length,
                   help="truncate texts to this many tokens (default: the model's position limit, as zigzag extract)")
    p.add_argument("--device", default=d.device,
                   help="torch device, e.g. cuda (default: where the model loads, the CPU)")
    p.set_defaults(func=_cmd_run)


def _cmd_run(args) -> int:
    from ..report import RunConfig, run_report

    pooling = int(args.pooling) if args.pooling and args.pooling.lstrip("-").isdigit() else args.pooling
    config = RunConfig(model=args.model, texts=args.texts, text_field=args.field, text_column=args.column,
                       dedupe=args.dedupe, n_texts=args.n_texts, hook=args.hook, pooling=pooling,
                       k=args.k, max_dim=args.max_dim, q=tuple(args.q or RunConfig.q), blocks=args.blocks,
                       evaluate=args.evaluate, out=args.out, overwrite=args.overwrite, seed=args.seed,
                       batch_size=args.batch_size, max_length=args.max_length, device=args.device)
    print(summary(run_report(config, progress=not args.quiet)))
    return 0


def summary(result) -> str:
    """What ``zigzag run`` prints: the run in one line, one line per plan, where the report is."""
    from ..pruning import format_blocks

    model, texts = result.record["model"], result.record["texts"]
    lines = [f"zigzag run: {model['name']} ({model['n_blocks']} blocks), {texts['n']} texts, "
             f"{len(result.barcode)} bars, peak at representation {result.peak}, "
             f"{sum(result.seconds.values()):.0f} s"]
    outcomes = {id(e.plan): e for e in result.evaluations}
    for plan in result.plans:
        outcome = outcomes.get(id(plan))
        note = ""
        if outcome is not None and outcome.evaluation is not None:
            ev = outcome.evaluation
            key = "perplexity_ratio" if ev.kind == "causal_lm" else "mean_cosine"
            note = f"  {key}={ev.metrics[key]:.3f}"
        elif plan.degenerate:
            note = f"  degenerate ({plan.degenerate}): not applied"
        lines.append(f"  {plan.criterion:<16} {plan.label:<7} remove {format_blocks(plan)} "
                     f"({plan.n_removed} of {plan.n_blocks}){note}")
    lines.append(f"report: {result.report}")
    return "\n".join(lines)
