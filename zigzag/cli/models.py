"""`zigzag prune` and `zigzag evaluate`: remove blocks from a model, and benchmark it with lm-eval-harness."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

_BLOCKS_HELP = "0-based blocks to remove: a range 20-27, a list 3,5,7-9"
_MODEL_HELP = "a model folder or hub name that transformers can load (offline: a folder or a cached name)"
_DTYPES = ["float32", "bfloat16", "float16"]


def parse_blocks(text: str) -> list:
    """``"3,5,7-9"`` -> ``[3, 5, 7, 8, 9]``: comma-separated 0-based indices and inclusive ranges ``a-b``.

    Raises
    ------
    ValueError
        On anything else, a range that runs backwards, or a block named twice.
    """
    blocks = []
    for part in str(text).replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ValueError(f"--blocks must be 0-based block indices and ranges such as 20-27 or 3,5,7-9; "
                             f"got {text!r} ({part!r} is neither).")
        first, last = int(match[1]), int(match[2] or match[1])
        if last < first:
            raise ValueError(f"--blocks: the range {part!r} runs backwards; write {last}-{first}.")
        blocks.extend(range(first, last + 1))
    repeated = sorted({b for b in blocks if blocks.count(b) > 1})
    if repeated:
        raise ValueError(f"--blocks names blocks {repeated} more than once in {text!r}.")
    return sorted(blocks)


def _ranges(blocks) -> str:
    """``[3, 5, 7, 8, 9]`` -> ``"3, 5, 7-9"``."""
    runs, start = [], None
    for i, b in enumerate(blocks):
        if start is None:
            start = b
        if i + 1 == len(blocks) or blocks[i + 1] != b + 1:
            runs.append(f"{start}" if start == b else f"{start}-{b}")
            start = None
    return ", ".join(runs) or "none"


def _load(args):
    from ..adapters import load_model

    return load_model(args.model, dtype=args.dtype)


# ---------------------------------------------------------------- zigzag prune
def _add_prune(sub):
    p = sub.add_parser("prune", help="write a model with some blocks removed (loads with from_pretrained)",
                       description="Remove decoder (or encoder) blocks from a transformers model and write the "
                                   "pruned model, its tokenizer and zigzag-prune.json to DIR. The config records "
                                   "the original indices of the blocks kept as zigzag_kept_blocks. DIR is written "
                                   "as a .partial folder renamed at the end.")
    p.add_argument("model", help=_MODEL_HELP)
    p.add_argument("--blocks", required=True, help=_BLOCKS_HELP)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (must not exist, unless --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace DIR if it exists (only once the new one is complete)")
    p.add_argument("--dtype", choices=_DTYPES, default="float32", help="dtype to load and save the weights in")
    p.set_defaults(func=_cmd_prune)


def _cmd_prune(args) -> int:
    from .._version import __version__
    from .._files import atomic_dir, check_new_dir, write_json
    from ..models import prune_model

    blocks = parse_blocks(args.blocks)
    out = check_new_dir(Path(args.out), overwrite=args.overwrite)  # before the model loads, not after
    model, tokenizer = _load(args)
    n_before = model.config.num_hidden_layers
    pruned = prune_model(model, blocks, copy=False)
    with atomic_dir(out, overwrite=args.overwrite) as tmp:
        pruned.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_json(tmp / "zigzag-prune.json", {
            "source_model": args.model, "removed_blocks": blocks, "kept_blocks": pruned.config.zigzag_kept_blocks,
            "n_blocks_before": n_before, "n_blocks_after": pruned.config.num_hidden_layers,
            "dtype": args.dtype, "zigzag_version": __version__,
        })
    print(f"{args.model}: removed blocks {_ranges(blocks)} ({len(blocks)} of {n_before}) -> {out}")
    return 0


# ---------------------------------------------------------------- zigzag evaluate
def _add_evaluate(sub):
    p = sub.add_parser("evaluate", help="lm-eval-harness tasks on a pruned and the full model, side by side",
                       description="Run lm-eval-harness tasks on the full model, remove --blocks, run them again "
                                   "and print a side-by-side table (full, pruned, change). With --out, write it "
                                   "as lm_eval.md and lm_eval.json (with both models' full results). Needs "
                                   "pip install 'zigzag-tda[lmeval]'.")
    p.add_argument("model", help=_MODEL_HELP + "; a causal language model")
    p.add_argument("--blocks", required=True, help=_BLOCKS_HELP)
    p.add_argument("--tasks", required=True, metavar="TASKS",
                   help="comma-separated lm-eval task or group names, e.g. arc_easy,piqa")
    p.add_argument("--include-path", action="append", default=None, metavar="PATH",
                   help="folder or YAML file of extra (local) task definitions; repeatable")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="folder for lm_eval.md and lm_eval.json (default: print only)")
    p.add_argument("--limit", type=float, default=None, metavar="N",
                   help="examples per task (a number below 1: a fraction of each task)")
    p.add_argument("--num-fewshot", type=int, default=None, metavar="N",
                   help="examples in each prompt (default: the task's)")
    p.add_argument("--batch-size", type=int, default=8, metavar="N", help="default 8")
    p.add_argument("--prefix-token-id", type=int, default=None, metavar="ID",
                   help="token before a continuation without context (default BOS, else EOS)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: where the model loads, the CPU)")
    p.add_argument("--dtype", choices=_DTYPES, default="float32", help="dtype the model computes in")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args) -> int:
    import logging

    from .._version import __version__
    from .._files import check_output_path, jsonable, write_json, write_text
    from ..adapters.families import family_of
    from ..models import prune_model
    from ..models.harness import check_lm_eval, lm_eval_tasks, markdown_table, side_by_side, task_manager

    version = check_lm_eval("zigzag evaluate")  # before anything slow
    blocks = parse_blocks(args.blocks)
    tasks = [t for t in (s.strip() for s in args.tasks.split(",")) if t]
    if not tasks:
        raise ValueError("--tasks needs at least one lm-eval task name, e.g. --tasks arc_easy,piqa.")
    if args.limit is not None and not args.limit > 0:
        raise ValueError(f"--limit must be a positive number of examples (or a fraction below 1); got {args.limit:g}.")
    limit = int(args.limit) if args.limit is not None and args.limit >= 1 else args.limit
    for path in args.include_path or []:
        if not Path(path).exists():
            raise FileNotFoundError(f"--include-path {path}: no such folder or file.")
    if args.out:
        for name in ("lm_eval.md", "lm_eval.json"):
            check_output_path(Path(args.out) / name)  # before the long runs, not after
    if not args.verbose:
        logging.getLogger("lm_eval").setLevel(logging.ERROR)
    model, tokenizer = _load(args)
    if family_of(model).kind != "decoder" or getattr(model, "get_output_embeddings", lambda: None)() is None:
        raise ValueError(f"lm-eval scores causal language models; {args.model} loads as {type(model).__name__}, "
                         "which has no language-model head.")
    if args.device is not None:
        model.to(args.device)
    n_blocks = model.config.num_hidden_layers
    run = dict(batch_size=args.batch_size, limit=limit, num_fewshot=args.num_fewshot,
               prefix_token_id=args.prefix_token_id, progress=not args.quiet,
               task_manager=task_manager(tasks, args.include_path))  # indexed once for both models
    full = lm_eval_tasks(model, tokenizer, tasks, **run)
    pruned = prune_model(model, blocks, copy=False)  # in place: one model in memory
    cut = lm_eval_tasks(pruned, tokenizer, tasks, **run)
    rows = side_by_side(full, cut)
    if not rows:
        raise ValueError(f"lm-eval returned no numeric metric for the tasks {tasks}.")
    title = (f"# lm-eval: {args.model}, blocks {_ranges(blocks)} removed ({len(blocks)} of {n_blocks})\n\n"
             f"tasks: {', '.join(tasks)}; limit: {limit}; num_fewshot: {args.num_fewshot}; "
             f"lm-eval {version}; zigzag {__version__}\n\n")
    table = markdown_table(rows)
    sys.stdout.write(title + table)
    if args.out:
        out = Path(args.out)
        write_text(out / "lm_eval.md", title + table)
        write_json(out / "lm_eval.json", {
            "format": "zigzag-lm-eval", "model": args.model, "removed_blocks": blocks,
            "kept_blocks": list(pruned.config.zigzag_kept_blocks), "n_blocks": n_blocks, "tasks": tasks,
            "include_path": args.include_path, "limit": limit, "num_fewshot": args.num_fewshot,
            "batch_size": args.batch_size, "dtype": args.dtype, "lm_eval_version": version,
            "zigzag_version": __version__, "rows": rows,
            "results": _finite_or_none(jsonable({"full": full, "pruned": cut})),
        })
        print(f"wrote {out / 'lm_eval.md'} and {out / 'lm_eval.json'}")
    return 0


def _finite_or_none(obj):
    """JSON data with every NaN or infinity (lm-eval reports some) replaced by None: strict JSON has neither."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {key: _finite_or_none(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_finite_or_none(value) for value in obj]
    return obj
