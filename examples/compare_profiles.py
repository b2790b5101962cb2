"""Compare the S̄_1 profiles of two or more models on one plot, over relative depth.

S̄_1(l), the average persistence similarity of the 1-cycles, says how much of
layer l's topology every other layer shares; its peak marks the most
redundant stretch of the network (the blocks the zigzag criterion prunes).
Plotting it against relative depth l / (n - 1) lines up models of different
depth.

Two ways to run it:

* with barcode files (the authors' CSV, or a zigzag ``.npz``/``.json``),
  labelled in the same order::

      python examples/compare_profiles.py \\
          ../shared/reference/llama2-7b_pile10k_knn5_dim4.csv \\
          ../shared/reference/llama3-8b_sst_knn5_dim4.csv \\
          --label "Llama 2 7B, Pile" --label "Llama 3 8B, SST"

* with no file: the trained all-MiniLM-L6-v2 that ships with the ``demo``
  extra (``zigzag.load_embedded_model()``) against a small randomly
  initialised Llama (same tokenizer), both on the package's built-in corpus;
  this needs no network::

      python examples/compare_profiles.py --n-texts 300

  The two barcodes are saved next to the figure, so they can be compared
  again, or with other models, by passing the files.

It writes ``profiles.png`` (and, without files, the barcodes) into ``--out``
and prints the peak of each profile.
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
        description="Compare S̄_1 profiles of several barcodes (or, without files, MiniLM against a random "
                    "Llama) over relative depth.",
    )
    parser.add_argument("barcodes", type=Path, nargs="*",
                        help="barcode files (.csv in the authors' format, .npz, .json); none: compute MiniLM "
                             "and a random Llama on the built-in corpus")
    parser.add_argument("--label", action="append", default=None,
                        help="label of each barcode, in order (default: the file names); repeat per file")
    parser.add_argument("--n-texts", type=int, default=300,
                        help="without files: prompts from the built-in corpus (default 300)")
    parser.add_argument("--k", type=int, default=5, help="without files: neighbours per point (default 5)")
    parser.add_argument("--random-layers", type=int, default=12,
                        help="without files: blocks of the random Llama (default 12, twice MiniLM's 6, to show "
                             "that relative depth lines up models of different depth)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the texts and the random weights")
    parser.add_argument("--out", type=Path, default=Path("examples-output"),
                        help="output folder (default: examples-output)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.label is not None and len(args.label) != len(args.barcodes):
        parser.error(f"give one --label per barcode file: {len(args.barcodes)} files, {len(args.label)} labels")
    if len(args.barcodes) == 1:
        parser.error("give at least two barcode files to compare (or none for the built-in demo)")
    return args


def demo_barcodes(args) -> dict:
    """MiniLM (trained) and a small random Llama on the built-in corpus: {label: (file stem, Barcode)}."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    texts = zigzag.builtin_corpus(args.n_texts, seed=args.seed)
    model, tokenizer = zigzag.load_embedded_model()
    results = {}
    clouds = zigzag.extract(model, tokenizer, texts, progress=not args.quiet)
    results["all-MiniLM-L6-v2 (trained, 6 blocks)"] = ("minilm", zigzag.compute(clouds, k=args.k,
                                                                                 progress=not args.quiet))

    # Same tokenizer, random weights: what the profile looks like when nothing was learnt.
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                         num_hidden_layers=args.random_layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(args.seed)
    llama = LlamaForCausalLM(config).eval()
    clouds = zigzag.extract(llama, tokenizer, texts, progress=not args.quiet)
    results[f"Llama, random weights ({args.random_layers} blocks)"] = ("random_llama", zigzag.compute(
        clouds, k=args.k, progress=not args.quiet))
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.barcodes:
        labels = args.label or [path.name.split(".")[0] for path in args.barcodes]
        results = {label: zigzag.Barcode.load(path) for label, path in zip(labels, args.barcodes)}
    else:
        print(f"No barcode files given: comparing the embedded MiniLM with a random Llama on "
              f"{args.n_texts} built-in sentences (k={args.k}).")
        computed = demo_barcodes(args)
        results = {label: bars for label, (_, bars) in computed.items()}

    summary = []
    for label, bars in results.items():
        r = zigzag.pruning_profile(bars)
        peak = int(np.nanargmax(r))
        depth = peak / (bars.n_layers - 1)
        summary.append({"label": label, "n_layers": bars.n_layers, "n_h1_bars": len(bars.select(1)),
                        "peak_layer": peak, "peak_relative_depth": depth, "peak_value": r[peak], "profile": r})
        print(f"  {label}: {bars.n_layers} layers, {len(bars.select(1)):,} H_1 bars; S̄_1 peak at layer {peak} "
              f"(relative depth {depth:.2f}), S̄_1 = {r[peak]:.3f}")

    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    if not args.barcodes:  # keep what was computed so it can be compared again without the models
        for stem, bars in computed.values():
            path = args.out / f"{stem}.npz"
            bars.save(path)
            written.append(path)
    ax = zigzag.plot_curves(results, "average_similarity", dim=1)
    ax.set_title(r"$\bar S_1$ over relative depth (peak = most redundant layers)")
    ax.set_ylim(bottom=0)
    figure_path = args.out / "profiles.png"
    save_figure(ax.figure, figure_path)
    summary_path = write_json(args.out / "profiles.json", {"profiles": summary})
    written += [figure_path, summary_path]
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
