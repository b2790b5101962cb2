"""Tiny, randomly initialised transformers models of every causal-LM model type (test helper).

:func:`tiny_config` shrinks the default config of a model type: every size
field that the config class has (hidden size, heads, experts, low-rank and
state-space sizes, ...) is set to a small value, depth to ``n_layers``, and
per-layer lists (``layer_types`` and the like) are left to the config to
derive for the new depth. A few types need one more setting to build; they
are listed in ``_EXTRA`` with the reason. :func:`tiny_model` builds the
model of the type's causal-LM class (or any other auto class) with a seed.
"""

from __future__ import annotations

import dataclasses
import functools

# size fields (first spelling the config class knows wins; attribute_map aliases count)
_SIZES = {
    "hidden_size": 32, "d_model": 32, "n_embd": 32, "dim": 32, "embed_dim": 32, "n_embed": 32,
    "intermediate_size": 64, "ffn_dim": 64, "n_inner": 64, "d_ff": 64, "d_inner": 64, "decoder_ffn_dim": 64,
    "encoder_ffn_dim": 64, "feed_forward_size": 64, "intermediate_size_mlp": 64, "ffn_hidden_size": 64,
    "num_attention_heads": 4, "n_head": 4, "n_heads": 4, "decoder_attention_heads": 4, "encoder_attention_heads": 4,
    "num_key_value_heads": 2, "num_kv_heads": 2, "head_dim": 8, "d_head": 8, "attention_head_size": 8,
    "kv_channels": 8,
    "max_position_embeddings": 128, "n_positions": 128, "max_seq_len": 128, "n_ctx": 128,
    "max_target_positions": 128, "max_source_positions": 128,
    # mixture of experts
    "num_experts": 4, "num_local_experts": 4, "n_routed_experts": 4, "moe_num_experts": 4, "num_routed_experts": 4,
    "num_experts_per_tok": 2, "moe_topk": 2, "top_k": 2, "moe_k": 2, "num_selected_experts": 2,
    "moe_intermediate_size": 32, "shared_expert_intermediate_size": 32, "expert_intermediate_size": 32,
    "moe_shared_expert_intermediate_size": 32, "n_shared_experts": 1, "num_shared_experts": 1,
    "n_group": 1, "topk_group": 1,
    # multi-head latent attention
    "q_lora_rank": 16, "kv_lora_rank": 16, "qk_rope_head_dim": 8, "qk_nope_head_dim": 8, "v_head_dim": 8,
    "qk_head_dim": 16,
    # linear attention and state-space mixers
    "linear_num_key_heads": 2, "linear_num_value_heads": 4, "linear_key_head_dim": 8, "linear_value_head_dim": 8,
    "linear_num_heads": 4, "linear_head_dim": 8,
    "mamba_d_state": 8, "state_size": 8, "ssm_state_size": 8, "mamba_n_heads": 4, "mamba_num_heads": 4,
    "mamba_head_dim": 16, "mamba_d_head": 16, "mamba_dt_rank": 4, "time_step_rank": 4, "mamba_expand": 2,
    "n_mamba_heads": 2, "mamba_n_groups": 1, "n_groups": 1, "chunk_size": 16, "mamba_chunk_size": 16,
    "attention_window_size": 16, "lru_width": 32, "rotary_dim": 4, "vocab_size_per_layer_input": None,
    "hidden_size_per_layer_input": 8, "laurel_rank": 4, "hidden_dim": 64,
    "vocab_size": None, "unpadded_vocab_size": None,  # the tokenizer's (Inkling 2's output size is the unpadded)
    "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 1, "cls_token_id": 4,
    "sep_token_id": 5,
}
# per-layer lists and patterns the config derives from the depth when they are not given
_DERIVED = ("layer_types", "layers_block_type", "block_types", "mlp_layer_types", "no_rope_layers", "moe_layers",
            "attn_layer_indices", "hybrid_override_pattern", "swa_layers", "full_attn_idxs", "sliding_window_pattern")
_DEPTH = ("num_hidden_layers", "n_layer", "n_layers", "num_layers", "decoder_layers", "encoder_layers",
          "num_decoder_layers", "num_encoder_layers")


def _fields(cls) -> dict:
    try:
        return {f.name: f for f in dataclasses.fields(cls)}
    except TypeError:
        return {}


def _names(cls) -> set:
    return set(_fields(cls)) | set(getattr(cls, "attribute_map", {}))


def _shrink(cls, n_layers: int, vocab_size: int) -> dict:
    names = _names(cls)
    kwargs, taken = {}, set()
    for name, value in _SIZES.items():
        if name not in names:
            continue
        target = getattr(cls, "attribute_map", {}).get(name, name)
        if target in taken:
            continue
        taken.add(target)
        kwargs[target] = vocab_size if value is None else value
    for name in _DEPTH:
        target = getattr(cls, "attribute_map", {}).get(name, name)
        if name in names and target not in taken:
            taken.add(target)
            kwargs[target] = n_layers
    if "kv_lora_rank" in names and "num_key_value_heads" in kwargs:  # latent attention: as many as query heads
        kwargs["num_key_value_heads"] = kwargs.get("num_attention_heads", 4)
    fields = _fields(cls)
    for name in _DERIVED:  # derived from the depth when None is their default
        if name in fields and fields[name].default is None:
            kwargs[name] = None
    subs = getattr(cls, "sub_configs", {})
    if subs:
        default = cls()  # the classes of the default sub-configs (AutoConfig stands for several)
        for name in subs:
            sub = type(getattr(default, name, None))
            if name in names and hasattr(sub, "model_type"):
                kwargs[name] = _shrink(sub, n_layers, vocab_size) | {"model_type": sub.model_type}
    return kwargs


@functools.lru_cache(maxsize=None)
def _tiny_kwargs(model_type: str, n_layers: int, vocab_size: int) -> dict:
    from transformers import CONFIG_MAPPING

    cls = CONFIG_MAPPING[model_type]
    kwargs = _shrink(cls, n_layers, vocab_size)
    extra = _EXTRA.get(model_type, lambda n: {})(n_layers)
    for name, value in extra.items():
        if isinstance(kwargs.get(name), dict) and isinstance(value, dict):
            kwargs[name] = kwargs[name] | value
        else:
            kwargs[name] = value
    text = _EXTRA.get(model_type + "_text")  # the text config of a multimodal type gets its text type's extras
    if text and "text_config" in kwargs:
        kwargs["text_config"] = kwargs["text_config"] | text(n_layers)
    return kwargs


def _alternate(n: int, a, b) -> list:
    return [a if i % 2 == 0 else b for i in range(n)]


# Settings some types need on top of the shrinking (functions of the depth n), each with the reason.
_EXTRA = {
    # its default pattern of attention kinds is written out for 24 layers
    "gpt_neo": lambda n: {"attention_types": [[["global", "local"], n // 2]] if n % 2 == 0 else [[["global"], n]]},
    # hybrids: put attention (and experts) in every other block so that the tiny model has both kinds
    "jamba": lambda n: {"attn_layer_period": 2, "attn_layer_offset": 1, "expert_layer_period": 2,
                        "expert_layer_offset": 1},
    "bamba": lambda n: {"attn_layer_indices": list(range(1, n, 2))},
    "granitemoehybrid": lambda n: {"layer_types": _alternate(n, "mamba", "attention")},
    "zamba2": lambda n: {"layers_block_type": _alternate(n, "mamba", "hybrid")},
    "bailing_hybrid": lambda n: {"layer_group_size": 2},
    "kimi_linear": lambda n: {"layer_types": _alternate(n, "linear_attention", "full_attention")},
    "lfm2_moe": lambda n: {"layer_types": _alternate(n, "conv", "full_attention"), "num_dense_layers": 1},
    # the state-space head sizes must multiply to hidden_size * expand
    "falcon_h1": lambda n: {"mamba_d_ssm": 64},
    "mamba2": lambda n: {"num_heads": 4, "head_dim": 16},
    # these require as many key/value heads as query heads, or a single expert per token
    "dots3_note_text": lambda n: {"num_key_value_heads": 4},
    "zaya": lambda n: {"num_experts_per_tok": 1},
    # sparse-attention indexer and n-gram embeddings are off or huge by default; per-layer n-gram embeddings
    # (ple_layer_ids, one-based, linear-attention blocks only) in block 1
    "qwen4_exp_text": lambda n: {"indexer_n_heads": 2, "indexer_kv_heads": 1, "indexer_head_dim": 8,
                                 "indexer_budget": 4, "indexer_compress_ratio": 2, "hc_lowrank": 8,
                                 "ngram_vocab_size_base": 64, "split_ngram_parts": 4, "heads_per_ngram": 2,
                                 "ple_layer_ids": [2]},
    # attention residuals over groups of 2 blocks (default 6, more than the tiny depth): blocks 0 and 2 start a group
    "inkling2_text": lambda n: {"n_layers_per_attn_res_block": 2},
    # blocks 1 and 2 looped twice (defaults 6..18, beyond the tiny depth); loop bounds must be multiples of the group
    "inkling2_loop_text": lambda n: {"n_layers_per_attn_res_block": 1, "loop_layer_index_start": 1,
                                     "loop_layer_index_end": n - 1, "loop_num_passes": 2, "loop_gate_rank": 8},
    # an input, a recurrent (looped twice) and an output section of 1, 2 and 1 blocks (defaults: 8, rest, 8)
    "dory": lambda n: {"n_input_layers": 1, "n_output_layers": 1, "n_recurrent_layers": n - 2, "n_recurrent_loops": 2},
    # its hashed byte n-gram embeddings have half a million rows by default
    "blt": lambda n: {"encoder_hash_byte_group_vocab": 64},
    # the language-model class asserts it
    "reformer": lambda n: {"is_decoder": True, "attn_layers": _alternate(n, "local", "lsh"),
                           "axial_pos_shape": (8, 16), "axial_pos_embds_dim": (16, 16),
                           "local_attn_chunk_length": 8, "lsh_attn_chunk_length": 8, "num_buckets": 4},
    "xmod": lambda n: {"default_language": "en_XX"},
    # weights of std init_std = 1.0 grow random hidden states to ~1e4, where float32 rounding exceeds 1e-4
    "cpmant": lambda n: {"init_std": 0.02},
    # rotary parameters are read per layer kind, or from the attention sub-config
    "cohere_compass_text": lambda n: {"rope_parameters": {"full_attention": {"rope_type": "default",
                                                                             "rope_theta": 10000.0}}},
    "dbrx": lambda n: {"attn_config": {"rope_theta": 10000.0, "kv_n_heads": 2, "clip_qkv": 8.0}},
}


def tiny_config(model_type: str, n_layers: int = 4, vocab_size: int = 128):
    """A small config of ``model_type``: hidden size 32, 4 heads, ``n_layers`` blocks."""
    from transformers import CONFIG_MAPPING

    cls = CONFIG_MAPPING[model_type]
    kwargs = dict(_tiny_kwargs(model_type, n_layers, vocab_size))
    for name, sub in list(kwargs.items()):
        if isinstance(sub, dict) and "model_type" in sub:
            sub = dict(sub)
            sub.pop("model_type")
            kwargs[name] = sub
    return cls(**kwargs)


def causal_lm_types() -> list:
    """Every model type with a causal-LM class in the installed transformers, sorted."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    return sorted(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)


def tiny_model(model_type: str, n_layers: int = 4, vocab_size: int = 128, auto: str = "AutoModelForCausalLM",
               seed: int = 0):
    """A seeded random model of ``model_type`` built from :func:`tiny_config`, in eval mode."""
    import torch
    import transformers

    config = tiny_config(model_type, n_layers, vocab_size)
    torch.manual_seed(seed)
    return getattr(transformers, auto).from_config(config).eval()


ENCODERS = {  # the encoder families sentence-embedding users load, as their bare (AutoModel) classes
    "bert": "BertModel", "roberta": "RobertaModel", "xlm-roberta": "XLMRobertaModel",
    "distilbert": "DistilBertModel", "modernbert": "ModernBertModel",
}

TEXTS_FOR_TESTS = ("the cat sat on the", "a dog ran fast", "birds fly south in winter and then it rained",
                   "old man sea", "small house under far away hills")

WORDS = ("the a cat dog sat ran on under mat tree fast slowly and then it was very quiet night day "
         "birds fly south in winter rain falls green hills far away small house old man sea").split()


def word_tokenizer(words=WORDS):
    """A word-level tokenizer: [PAD]=0, [BOS]=1, [EOS]=2, [UNK]=3, [CLS]=4, [SEP]=5, then ``words``.

    With ``add_special_tokens=True`` it wraps a text in [CLS] ... [SEP] (as BERT does).
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[BOS]", "[EOS]", "[UNK]", "[CLS]", "[SEP]"]
    vocab = {w: i for i, w in enumerate(specials + [w for w in dict.fromkeys(words) if w not in specials])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                           special_tokens=[("[CLS]", 4), ("[SEP]", 5)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", bos_token="[BOS]",
                                   eos_token="[EOS]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]")
