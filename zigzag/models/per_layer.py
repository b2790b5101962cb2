"""Keep every per-layer entry of a transformers config with its block when blocks are removed.

Configs describe what differs between blocks in several ways; each follows
the kept blocks (``kept``: their old indices, in order; L' = ``len(kept)``):

* **depth** (the one of ``num_layers``, ``n_layer``, ``n_layers``,
  ``num_hidden_layers`` that counts the blocks, or ``decoder_layers`` for a
  decoder stack): L'.
* **per-layer lists** of length L (``layer_types``, ``mlp_layer_types``,
  ``no_rope_layers``, ``attention_layers``, ...): the kept entries; a pattern
  repeated over the depth (RecurrentGemma's ``block_types``): the kept
  blocks' entries, written out.
* **index lists** (``mlp_only_layers``, ``moe_layers``, ``attn_layer_indices``,
  ...): the kept indices, renumbered (Qwen4-exp's ``ple_layer_ids`` count from 1).
* **prefix, middle and suffix counts** (``first_k_dense_replace``,
  ``num_dense_layers``, ``max_window_layers``, ``n_input_layers``; Dory's
  ``n_recurrent_layers``; ``num_kv_shared_layers``, ``n_output_layers``): how
  many kept blocks fall inside the prefix (middle section, suffix); section
  bounds (Inkling 2 Loop's ``loop_layer_index_start``/``end``): how many kept
  blocks lie before the bound.
* **rules** that decide a block's kind from its index: ``decoder_sparse_step``
  becomes 1 with the dense kept blocks listed in ``mlp_only_layers``; a
  ``*_layer_period``/``*_layer_offset`` pair and Ernie's
  ``moe_layer_start_index``/``end_index``/``interval`` are solved anew for the
  kept pattern (a ValueError when no value gives it); GPT-Neo's
  ``attention_types`` is rebuilt from the kept ``attention_layers``.
* **heterogeneous configs** (``per_layer_config``): keys renumbered.
"""

from __future__ import annotations

__all__ = ["prune_config"]

INDEX_LISTS = ("mlp_only_layers", "moe_layers", "attn_layer_indices", "full_attn_idxs", "hybrid_layer_ids",
               "cross_attention_layers", "global_attention_blocks", "local_layer_ids",
               "kv_source_layers", "rope_scaling_layers")
PER_LAYER_EXTRA = ("indexer_types", "intermediate_size", "activation_sparsity_pattern")
ONE_BASED_INDEX_LISTS = ("ple_layer_ids",)  # Qwen4-exp counts its per-layer-embedding blocks from 1
CYCLES = ("block_types",)  # RecurrentGemma: a pattern repeated over the depth
PREFIX_COUNTS = ("first_k_dense_replace", "num_dense_layers", "max_window_layers", "n_input_layers")
SUFFIX_COUNTS = ("num_kv_shared_layers", "n_output_layers")
# a section of blocks after a prefix: (its count, the prefix count); Dory loops over its recurrent section
MIDDLE_COUNTS = (("n_recurrent_layers", "n_input_layers"),)
BOUNDS = ("loop_layer_index_start", "loop_layer_index_end")  # Inkling 2 Loop: its looped blocks are [start, end)
PERIODS = (("attn_layer_period", "attn_layer_offset"), ("expert_layer_period", "expert_layer_offset"))
_DEPTH_OF_DECODER = ("decoder_layers", "num_decoder_layers")


def prune_config(config, kept, n_blocks: int, blocks_path: str) -> list:
    """Update ``config`` (its text config, for composite models) in place for the kept blocks; return what changed."""
    target = config.get_text_config() if hasattr(config, "get_text_config") else config
    new = len(kept)
    changed = []

    def put(name, value):
        setattr(target, name, value)
        changed.append(name)

    spec = getattr(target, "_heterogeneity_spec", None)
    old = dict(_attributes(target))  # the rules below read the values before any change
    depth_names = [n for n in _DEPTH_OF_DECODER if ".decoder." in f".{blocks_path}."] + [
        "num_layers", "n_layer", "n_layers", "num_hidden_layers"]  # LongCat: num_hidden_layers = 2 * num_layers
    depth = next((n for n in depth_names if getattr(target, n, None) == n_blocks), "num_hidden_layers")
    put(depth, new)
    for name, value in old.items():
        if name in INDEX_LISTS and isinstance(value, (list, tuple)):
            where = {old: i for i, old in enumerate(kept)}
            put(name, type(value)(where[v] for v in value if v in where))
        elif name in ONE_BASED_INDEX_LISTS and isinstance(value, (list, tuple)):
            where = {old + 1: i + 1 for i, old in enumerate(kept)}
            put(name, type(value)(where[v] for v in value if v in where))
        elif isinstance(value, (list, tuple)) and len(value) == n_blocks and (
                "layer" in name or name in PER_LAYER_EXTRA) and name != "zigzag_kept_blocks":
            put(name, type(value)(value[i] for i in kept))
        elif name in CYCLES and isinstance(value, (list, tuple)) and value:
            put(name, type(value)(value[i % len(value)] for i in kept))
        elif name in PREFIX_COUNTS and _is_int(value):
            put(name, sum(i < value for i in kept))
        elif name in SUFFIX_COUNTS and _is_int(value):
            put(name, sum(i >= n_blocks - value for i in kept))
        elif name in BOUNDS and _is_int(value):
            put(name, sum(i < value for i in kept))
    for name, prefix in MIDDLE_COUNTS:
        if _is_int(old.get(name)) and _is_int(old.get(prefix)):
            start = old[prefix]
            put(name, sum(start <= i < start + old[name] for i in kept))
    if _is_int(old.get("decoder_sparse_step")) and old["decoder_sparse_step"] != 1:
        step, dense = old["decoder_sparse_step"], set(old.get("mlp_only_layers") or [])
        put("decoder_sparse_step", 1)
        put("mlp_only_layers", [j for j, i in enumerate(kept) if i in dense or (i + 1) % step != 0])
    for period, offset in PERIODS:
        if _is_int(old.get(period)) and _is_int(old.get(offset)):
            p, o = old[period], old[offset]
            pattern = [i % p == o for i in kept]
            p, o = _solve_period(pattern, period)
            put(period, p)
            put(offset, o)
    if all(_is_int(getattr(target, n, None)) for n in ("moe_layer_start_index", "moe_layer_end_index",
                                                         "moe_layer_interval")):
        _ernie(target, kept, put)
    if isinstance(getattr(target, "attention_layers", None), (list, tuple)) and hasattr(target, "attention_types"):
        put("attention_types", [[list(target.attention_layers), 1]])
    if spec is not None:
        overrides = spec.per_layer_overrides
        target.per_layer_config = {j: dict(overrides[i]) for j, i in enumerate(kept) if i in overrides}
        changed.append("per_layer_config")
    return changed


def _attributes(config) -> dict:
    allow = getattr(config, "allow_global_per_layer_attribute_access", None)
    try:
        if allow is not None:
            config.allow_global_per_layer_attribute_access = True
        return {k: v for k, v in vars(config).items() if not k.startswith("_")}
    finally:
        if allow is not None:
            config.allow_global_per_layer_attribute_access = allow


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _solve_period(pattern, name: str) -> tuple:
    """The smallest (period, offset) with ``j % period == offset`` exactly where ``pattern`` is True."""
    n = len(pattern)
    for p in range(1, n + 2):
        for o in range(p):
            if [j % p == o for j in range(n)] == list(pattern):
                return p, o
    raise ValueError(
        f"The kept blocks' pattern {['yes' if x else 'no' for x in pattern]} (config {name!r}) cannot be written "
        "as one period and offset, so a reloaded model would build other blocks. Remove blocks that keep the "
        "pattern periodic."
    )


def _ernie(config, kept, put) -> None:
    start, end, interval = config.moe_layer_start_index, config.moe_layer_end_index, config.moe_layer_interval
    pattern = [(i + 1) % interval == 0 and start <= i <= end for i in kept]
    n = len(pattern)
    if not any(pattern):
        put("moe_layer_start_index", n)
        return
    first, last = pattern.index(True), n - 1 - pattern[::-1].index(True)
    for step in range(1, n + 1):
        if [(j + 1) % step == 0 and first <= j <= last for j in range(n)] == pattern:
            put("moe_layer_start_index", first)
            put("moe_layer_end_index", last)
            put("moe_layer_interval", step)
            return
    raise ValueError(f"The kept blocks' pattern of expert layers {pattern} cannot be written with Ernie's "
                     "moe_layer_start_index/end_index/interval; remove blocks that keep it regular.")
