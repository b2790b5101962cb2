"""Prune a causal language model with the zigzag criterion and compare it with two baselines.

The steps, all with the public API:

1. take texts (a file, or the package's built-in corpus) and split them into
   prompts for the criterion and held-out texts for the evaluation;
2. ``zigzag.extract`` with its defaults for a decoder: one vector per prompt
   and representation, the last real token of the input of each block's
   feed-forward part (Llama's post-attention norm), then the final norm (the
   paper's setting; n = L + 1 representations for L blocks);
3. ``zigzag.compute`` (k = 5, H_0 and H_1) and ``zigzag.prune_plans`` at
   q = 0.9 and q = 0.8: remove the blocks with S̄_1(l) >= q * max S̄_1;
4. the angular-distance (Gromov et al. 2024) and Block Influence (ShortGPT)
   baselines for the same number of blocks, from the same texts;
5. ``zigzag.prune_model`` with every plan and ``zigzag.evaluate``: perplexity
   of the full and the pruned model on the held-out texts, side by side.

It prints a table and writes into ``--out``: ``prune_profile.png`` (the
S̄_1 profile with the removed blocks shaded), ``prune_plans.json`` (every plan
and its evaluation) and ``prune_barcode.npz`` (the barcode, to re-plot or
re-plan without the model).

Run it on a model folder (loaded with transformers, offline)::

    python examples/prune_causal_lm.py --model path/to/Llama-2-7b-hf --texts my_texts.txt \\
        --n-texts 2000 --n-eval 200 --device cuda

With no ``--model`` it builds a tiny randomly initialised Llama and a
word-level tokenizer over the built-in corpus, so the whole pipeline runs
offline in seconds. Its numbers mean nothing (an untrained model has no
language to lose); they only show the mechanics::

    python examples/prune_causal_lm.py

Memory: the full model stays loaded while each pruned copy is evaluated, so
plan for about twice the model's size.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")  # the script only writes files; never opens a window

import zigzag
from zigzag.io import write_json
from zigzag.plotting import save_figure

TINY_NOTICE = """\
NOTICE: no --model given, so this runs on a tiny Llama with RANDOM weights ({layers} blocks, hidden size 64)
and a word-level tokenizer built from the package's corpus. Its perplexities are meaningless; the run only
shows the mechanics. Pass --model DIR (a local transformers causal-LM folder) for real numbers.
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Zigzag layer pruning of a causal LM (q = 0.9 and 0.8) against the angular-distance and "
                    "Block Influence baselines, with perplexity before and after.",
    )
    parser.add_argument("--model", type=Path, default=None,
                        help="local folder of a transformers causal LM (Llama, Mistral, Qwen2, ...); "
                             "default: a tiny random Llama (mechanics only)")
    parser.add_argument("--texts", type=Path, default=None,
                        help="texts: .txt (one per line), .jsonl ('text' field) or .csv ('text' column); "
                             "default: the built-in corpus")
    parser.add_argument("--n-texts", type=int, default=200,
                        help="prompts for the criterion and the baselines (default 200; the paper uses 10,000)")
    parser.add_argument("--n-eval", type=int, default=100,
                        help="held-out texts for perplexity, taken after the prompts (default 100)")
    parser.add_argument("--q", type=float, action="append", default=None, metavar="Q",
                        help="tolerance of the zigzag rule; repeat for several (default: --q 0.9 --q 0.8)")
    parser.add_argument("--k", type=int, default=5, help="neighbours per point (default 5, as in the paper)")
    parser.add_argument("--max-length", type=int, default=None, help="truncate texts to this many tokens")
    parser.add_argument("--batch-size", type=int, default=32, help="texts per forward pass (default 32)")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="float32",
                        help="weights' dtype when loading --model (default float32, as in the paper)")
    parser.add_argument("--device", default=None, help="e.g. cuda or cpu (default: where the model loads)")
    parser.add_argument("--tiny-layers", type=int, default=8, help="blocks of the tiny random Llama (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the texts and the tiny model (default 0)")
    parser.add_argument("--out", type=Path, default=Path("examples-output"),
                        help="output folder (default: examples-output)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.q is None:
        args.q = [0.9, 0.8]
    for name in ("n_texts", "n_eval"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


# ---------------------------------------------------------------- model and texts
def load_model(args):
    """The model and tokenizer from --model, offline."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not (args.model / "config.json").is_file():
        raise SystemExit(f"error: --model {args.model} is not a transformers model folder (no config.json).")
    # transformers renamed torch_dtype= to dtype= in 4.56
    version = tuple(int(v) for v in transformers.__version__.split(".")[:2] if v.isdigit())
    dtype_key = "dtype" if version >= (4, 56) else "torch_dtype"
    tokenizer = AutoTokenizer.from_pretrained(args.model, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(args.model, local_files_only=True,
                                                 **{dtype_key: getattr(torch, args.dtype)})
    return model.eval(), tokenizer


def tiny_model(args):
    """A tiny random Llama and a word-level tokenizer over the built-in corpus, built offline."""
    import re

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = sorted({w for s in zigzag.builtin_corpus() for w in re.findall(r"\w+|[^\w\s]", s)})
    vocab = {"[PAD]": 0, "[UNK]": 1, "[BOS]": 2, **{w: i + 3 for i, w in enumerate(words)}}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]",
                                        bos_token="[BOS]")
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=args.tiny_layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, pad_token_id=0, bos_token_id=2, eos_token_id=2)
    torch.manual_seed(args.seed)
    model = LlamaForCausalLM(config).eval()
    model.config._name_or_path = "tiny-random-llama"
    return model, tokenizer


def load_text_split(args):
    """(prompts for the criterion, held-out texts for the evaluation), disjoint."""
    need = args.n_texts + args.n_eval
    if args.texts is None:
        pool = zigzag.builtin_corpus(need, seed=args.seed)
    else:
        pool = zigzag.load_texts(args.texts)
        if len(pool) < need:
            raise SystemExit(f"error: {args.texts} holds {len(pool)} texts, but --n-texts {args.n_texts} + "
                             f"--n-eval {args.n_eval} = {need} are needed; lower them or add texts.")
    return pool[:args.n_texts], pool[args.n_texts:need]


# ---------------------------------------------------------------- plans and evaluation
def make_plans(args, model, tokenizer, prompts):
    """Zigzag plans per q, and for each the two baselines with the same number of blocks."""
    progress = not args.quiet
    run = dict(batch_size=args.batch_size, max_length=args.max_length, device=args.device, progress=progress)
    clouds = zigzag.extract(model, tokenizer, prompts, **run)  # the defaults: the paper's hook, last real token
    bars = zigzag.compute(clouds, k=args.k, max_dim=1, progress=progress)
    distances = zigzag.block_distances(model, tokenizer, prompts, **run)
    groups = []
    for plan in zigzag.prune_plans(bars, q=args.q):
        group = [plan]
        if plan.n_removed:
            group.append(zigzag.angular_distance_plan(distances, plan.n_removed, tokens="last"))
            group.append(zigzag.block_influence_plan(distances, plan.n_removed))
        groups.append(group)
    return bars, groups


def evaluate_plans(args, model, tokenizer, texts, groups):
    """``{blocks: Evaluation}`` for every distinct set of removed blocks (each evaluated once)."""
    results = {}
    for plan in (p for group in groups for p in group):
        if plan.blocks in results:
            continue
        pruned = zigzag.prune_model(model, plan.blocks)
        results[plan.blocks] = zigzag.evaluate(model, pruned, tokenizer, texts, kind="causal_lm",
                                               batch_size=args.batch_size, max_length=args.max_length,
                                               device=args.device, progress=not args.quiet)
        del pruned
    return results


def runs(blocks) -> str:
    """(18, 19, 20, 25) -> '18-20, 25'."""
    out = []
    for b in blocks:
        if out and b == out[-1][1] + 1:
            out[-1][1] = b
        else:
            out.append([b, b])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in out) or "none"


def print_table(groups, evaluations, n_blocks):
    first = next(iter(evaluations.values()))
    full = first.metrics["perplexity_full"]
    rows = [("full model", "-", f"{n_blocks}/{n_blocks}", f"{full:.2f}", "1.00")]
    for group in groups:
        for plan in group:
            ev = evaluations[plan.blocks]
            name = f"zigzag {plan.label}" if plan.criterion.startswith("zigzag") else f"{plan.criterion} {plan.label}"
            rows.append((name, runs(plan.blocks), f"{n_blocks - plan.n_removed}/{n_blocks}",
                         f"{ev.metrics['perplexity_pruned']:.2f}", f"{ev.metrics['perplexity_ratio']:.2f}"))
    header = ("criterion", "removed blocks", "kept", "perplexity", "x full")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join("{:<%d}" % w if i < 3 else "{:>%d}" % w for i, w in enumerate(widths))
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    print(f"(perplexity on {first.n_texts} held-out texts, {int(first.metrics['n_tokens'])} predicted tokens)")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.model is None:
        print(TINY_NOTICE.format(layers=args.tiny_layers))
        model, tokenizer = tiny_model(args)
    else:
        model, tokenizer = load_model(args)
    prompts, held_out = load_text_split(args)
    print(f"model: {model.config._name_or_path} ({model.config.num_hidden_layers} blocks); "
          f"{len(prompts)} prompts for the criterion, {len(held_out)} held-out texts for perplexity")

    bars, groups = make_plans(args, model, tokenizer, prompts)
    n_blocks = bars.n_layers - 1
    r = zigzag.pruning_profile(bars)
    peak = int(r.argmax())
    print(f"S̄_1 peak at layer {peak} of 0..{n_blocks} (relative depth {peak / n_blocks:.2f}; "
          f"layer {n_blocks} is the final norm)")
    for group in groups:
        for plan in group:
            print(f"  {plan.describe()}")

    evaluations = evaluate_plans(args, model, tokenizer, held_out, groups)
    print()
    print_table(groups, evaluations, n_blocks)

    zigzag_plans = [group[0] for group in groups]
    ax = zigzag.plot_profile(zigzag_plans)
    ax.set_title(f"Zigzag pruning profile of {model.config._name_or_path}")
    figure_path = args.out / "prune_profile.png"
    save_figure(ax.figure, figure_path)
    bars_path = bars.save(args.out / "prune_barcode.npz")
    plans_path = write_json(args.out / "prune_plans.json", {
        "model": model.config._name_or_path,
        "tiny_random_model": args.model is None,
        "n_blocks": n_blocks,
        "n_prompts": len(prompts),
        "n_eval_texts": len(held_out),
        "k": args.k,
        "profile": r,
        "plans": [
            {**plan.to_dict(), "evaluation": evaluations[plan.blocks].to_dict()}
            for group in groups for plan in group
        ],
    })
    print(f"\nwrote {figure_path}, {plans_path} and {bars_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
