"""Where each model family keeps its blocks and norms: the table behind the named hook points.

Module paths are relative to the model's *base model* (``model.base_model``:
``LlamaModel`` inside ``LlamaForCausalLM``, ``BertModel`` itself, ...); the
names written into :class:`~zigzag.LayerClouds` are full paths in the model the
user passed.

Per family (blocks; per-block ``post_attention_norm`` module; final norm; kind):

- ``llama``, ``mistral``, ``qwen2``, ``gemma``: ``layers``;
  ``post_attention_layernorm``; ``norm``; decoder.
- ``phi``: ``layers``; ``input_layernorm`` (see below); ``final_layernorm``; decoder.
- ``gpt2``: ``h``; ``ln_2``; ``ln_f``; decoder.
- ``gpt_neox`` (Pythia): ``layers``; ``post_attention_layernorm``; ``final_layer_norm``; decoder.
- ``bert`` (all-MiniLM): ``encoder.layer``; ``attention.output.LayerNorm``;
  none (see below); encoder.

Closest analogues, where a family has no ``post_attention_layernorm`` that
reads ``x + attention(x)``:

* **gpt2**: ``ln_2`` is the norm in front of the MLP, applied to
  ``x + attn(x)``: the same position as Llama's ``post_attention_layernorm``.
* **gpt_neox** (Pythia): the module has the Llama name, but with
  ``use_parallel_residual=True`` (Pythia's default) it normalises the block's
  input ``x`` (attention and MLP run in parallel); with a sequential residual
  it reads ``x + attn(x)`` as in Llama.
* **phi**: a parallel block with a single ``input_layernorm`` that feeds both
  attention and MLP. Its output is the normalised residual stream entering the
  block, the nearest thing to a per-block norm; the sequence is then
  ``input_layernorm`` of blocks 0..L-1 followed by ``final_layernorm``.
* **bert** (all-MiniLM): post-LN blocks; ``attention.output.LayerNorm`` is
  ``LayerNorm(x + attention(x))``, the exact analogue. BERT has no final norm:
  the last representation is the output of the last block (its
  ``output.LayerNorm``), which is what the model returns.

Every family gives n = L + 1 representations for ``post_attention_norm``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Family", "FAMILIES", "family_of", "suggest_patterns"]


@dataclass(frozen=True)
class Family:
    """How one model family is laid out (paths relative to the base model)."""

    name: str
    blocks: str
    post_attention_norm: str
    final_norm: str | None
    kind: str  # "decoder" or "encoder"


FAMILIES = {
    "llama": Family("llama", "layers", "post_attention_layernorm", "norm", "decoder"),
    "mistral": Family("mistral", "layers", "post_attention_layernorm", "norm", "decoder"),
    "qwen2": Family("qwen2", "layers", "post_attention_layernorm", "norm", "decoder"),
    "gemma": Family("gemma", "layers", "post_attention_layernorm", "norm", "decoder"),
    "phi": Family("phi", "layers", "input_layernorm", "final_layernorm", "decoder"),
    "gpt2": Family("gpt2", "h", "ln_2", "ln_f", "decoder"),
    "gpt_neox": Family("gpt_neox", "layers", "post_attention_layernorm", "final_layer_norm", "decoder"),
    "bert": Family("bert", "encoder.layer", "attention.output.LayerNorm", None, "encoder"),
}


def base_prefix(model) -> str:
    """Dotted path of ``model.base_model`` inside ``model`` (``""`` when the model is its own base)."""
    base = getattr(model, "base_model", model)
    if base is model:
        return ""
    for name, module in model.named_modules():
        if module is base:
            return name + "."
    return ""


def family_of(model) -> Family:
    """The :class:`Family` of a Hugging Face model, or a ValueError listing hook patterns that would work.

    Raises
    ------
    ValueError
        If the model's ``config.model_type`` is not in the table, or its modules
        are not where the table says.
    """
    config = getattr(model, "config", None)
    model_type = getattr(config, "model_type", None)
    family = FAMILIES.get(model_type)
    if family is None:
        raise ValueError(
            f"Unknown model family {model_type!r} ({type(model).__name__}): the named hook points "
            f"('post_attention_norm', 'residual') know {', '.join(sorted(FAMILIES))}. Pass a module-name "
            f"pattern as hook instead; patterns that match this model: {', '.join(suggest_patterns(model)) or 'none found'}."
        )
    base = getattr(model, "base_model", model)
    try:
        blocks = base.get_submodule(family.blocks)
        blocks[0].get_submodule(family.post_attention_norm)
        if family.final_norm:
            base.get_submodule(family.final_norm)
    except (AttributeError, IndexError, TypeError) as err:
        raise ValueError(
            f"A {model_type!r} model ({type(model).__name__}) does not have the modules zigzag expects "
            f"({family.blocks}.*.{family.post_attention_norm}): {err}. Pass a module-name pattern as hook "
            f"instead; patterns that match this model: {', '.join(suggest_patterns(model)) or 'none found'}."
        ) from None
    return family


def suggest_patterns(model, limit: int = 8) -> list:
    """Module-name patterns (``"model.layers.*.mlp"``) for the longest ModuleList in ``model``."""
    import torch

    best_name, best = None, None
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) and (best is None or len(module) > len(best)):
            best_name, best = name, module
    if best is None:
        return []
    children = [name for name, _ in best[0].named_modules() if name]
    return [f"{best_name}.*"] + [f"{best_name}.*.{c}" for c in children[: limit - 1]]
