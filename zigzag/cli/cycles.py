"""`zigzag cycles`: which prompts form the longest bars (representative cycles)."""

from __future__ import annotations

_SNIPPET = 60  # characters of each prompt in the table


def _layer(value: str):
    """``--layer``: 'birth', 'middle' or a layer index."""
    if value in ("birth", "middle"):
        return value
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"--layer must be 'birth', 'middle' or a layer index (0-based), got {value!r}.") from None


def _add_cycles(sub):
    p = sub.add_parser("cycles", help="which prompts form each persistent feature (representative cycles)",
                       description="Representative cycles of the longest bars: for H1, a loop of prompts in one "
                                   "layer's kNN graph that no triangles fill, read inside the bar's life. "
                                   "A representative is one choice among many (see docs/cycles.md).")
    p.add_argument("clouds", help="a .npy file holding an (n_layers, n_points, n_features) array, or a folder "
                                  "written by 'zigzag extract'")
    p.add_argument("--texts", default=None, help="the prompts, one per point, in order (.txt, .jsonl or .csv)")
    p.add_argument("--k", type=int, default=5, help="neighbours per point (default 5)")
    p.add_argument("--dim", type=int, default=1, help="homology dimension: 1 loops (default), 0 components")
    p.add_argument("--top", type=int, default=10, help="how many bars, longest first (default 10; 0 for all)")
    p.add_argument("--layer", default="birth",
                   help="where to read each cycle: 'birth' (default), 'middle' or a layer index (then only the "
                        "bars alive there)")
    p.add_argument("--barcode", default=None,
                   help="a barcode file computed from these clouds with the same options (.npz, .json, .csv); "
                        "default: compute it")
    p.add_argument("--metric", choices=["euclidean", "cosine"], default="euclidean")
    p.add_argument("--graph", choices=["union", "mutual"], default="union")
    p.add_argument("--zigzag", choices=["intersection", "union"], default="intersection")
    p.add_argument("--json", action="store_true", help="print a JSON list (longest bar first) instead of the table")
    p.add_argument("-o", "--output", default=None, help="also write the JSON list to this .json file")
    p.set_defaults(func=_cmd_cycles)


def _check_texts(texts, clouds, path):
    from ..texts import texts_sha256

    if len(texts) != clouds.n_points:
        raise ValueError(f"{path} holds {len(texts)} texts but the clouds have {clouds.n_points} points; pass the "
                         "texts the clouds were extracted from.")
    expected = clouds.meta.get("texts_sha256")
    if expected and texts_sha256(texts) != expected:
        raise ValueError(f"the texts in {path} are not the ones the clouds were extracted from (texts_sha256 "
                         "differs); pass the same file, in the same order.")


def _table(found, texts) -> str:
    lines = []
    for rank, cycle in enumerate(found, start=1):
        lines.append(f"#{rank}  H{cycle.dimension} bar {cycle.bar_index}: layers {cycle.birth_layer}–"
                     f"{cycle.death_layer - 1} ({cycle.persistence} layers, {cycle.interval_type}), read at layer "
                     f"{cycle.layer}: {len(cycle.vertices)} points, {len(cycle.edges)} edges")
        snippets = cycle.texts(texts) if texts is not None else [None] * len(cycle.vertices)
        for vertex, text in zip(cycle.vertices.tolist(), snippets):
            if text is None:
                lines.append(f"    {vertex:>7}")
                continue
            flat = " ".join(text.split())
            cut = flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…"
            lines.append(f"    {vertex:>7}  {cut}")
    return "\n".join(lines) if lines else "no bar of that dimension lives at the requested layer"


def _cmd_cycles(args) -> int:
    import json

    from .._files import write_json
    from ..barcode import Barcode
    from ..cycles import cycles
    from ..io import load_clouds
    from ..texts import load_texts

    clouds = load_clouds(args.clouds)
    texts = None
    if args.texts is not None:
        texts = load_texts(args.texts)
        _check_texts(texts, clouds, args.texts)
    if args.top < 0:
        raise ValueError(f"--top must be a number of bars >= 1 (or 0 for all), got {args.top}.")
    barcode = Barcode.load(args.barcode) if args.barcode else None
    found = cycles(clouds, barcode, k=args.k, dim=args.dim, top=args.top or None, layer=_layer(args.layer),
                   metric=args.metric, graph=args.graph, zigzag=args.zigzag, progress=not args.quiet)
    records = [cycle.to_dict(texts) for cycle in found]
    if args.output:
        write_json(args.output, {"params": {"clouds": args.clouds, "k": args.k, "dim": args.dim, "top": args.top,
                                            "layer": args.layer, "metric": args.metric, "graph": args.graph,
                                            "zigzag": args.zigzag, "barcode": args.barcode},
                                 "cycles": records})
    if args.json:
        print(json.dumps(records))
    else:
        print(_table(found, texts))
    return 0
