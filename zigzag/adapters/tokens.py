"""Texts to token batches for a model: its position limit, what truncation cut, padding.

A text longer than the model's position limit would crash the forward pass
(or read past the position table), so texts are truncated to the limit by
default; :func:`count_truncated` says how many were, before any work starts.
"""

from __future__ import annotations

__all__ = ["FIXED_PADDING", "count_truncated", "encode", "fixed_padding", "max_tokens", "position_offset"]

_NO_LIMIT = 10**6  # tokenizers without a limit report int(1e30)


# Models that accept one padding only, whatever was asked: model type -> (padding side, pad id), with the reason.
FIXED_PADDING = {
    # CpmAntModel ignores attention_mask: it takes every token but id 0 as the text's and the last ones of each row
    # as the real ones (mask_1d in _prepare_attention_mask), so a batch must be padded on the left with id 0
    "cpmant": ("left", 0),
}


def fixed_padding(model):
    """``(padding side, pad id)`` for a model that accepts only that padding (:data:`FIXED_PADDING`), else None."""
    return FIXED_PADDING.get(str(getattr(getattr(model, "config", None), "model_type", "") or ""))


def position_offset(model) -> int:
    """First position id of real tokens: 0, or ``padding_idx + 1`` for RoBERTa-style position tables.

    RoBERTa, XLM-R, CamemBERT and their kin number positions from
    ``pad_token_id + 1`` (their position table has a padding row); every
    other model from 0.
    """
    import torch

    for name, module in model.named_modules():
        if name.endswith("position_embeddings") and isinstance(module, torch.nn.Embedding) and \
                module.padding_idx is not None:
            return int(module.padding_idx) + 1
    return 0


def max_tokens(model, tokenizer=None) -> int | None:
    """The most tokens (special tokens included) one text may have: None when neither model nor tokenizer says."""
    config = getattr(model, "config", None)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    limits = []
    positions = getattr(text, "max_position_embeddings", None)
    if isinstance(positions, int) and not isinstance(positions, bool) and positions > 0:
        limits.append(positions - position_offset(model))
    declared = getattr(tokenizer, "model_max_length", None)
    if isinstance(declared, int) and 0 < declared < _NO_LIMIT:
        limits.append(declared)
    return min(limits) if limits else None


def _empty_error(ids, where) -> None:
    empty = [i for i, x in enumerate(ids) if len(x) == 0]
    if empty:
        raise ValueError(f"{', '.join(where(i) for i in empty[:5])}: tokenises to no token at all; remove it.")


def count_truncated(tokenizer, texts, *, max_length, add_special_tokens: bool, where=None, chunk: int = 512) -> int:
    """How many texts tokenise to more than ``max_length`` tokens.

    ``where(i)`` names text ``i`` in errors (its line in the file): a text with no token at all is a ValueError.
    """
    where = where or (lambda i: f"text {i}")
    n_long = 0
    for start in range(0, len(texts), chunk):
        ids = tokenizer(list(texts[start:start + chunk]), add_special_tokens=add_special_tokens)["input_ids"]
        _empty_error(ids, lambda i: where(start + i))
        if max_length is not None:
            n_long += sum(len(x) > max_length for x in ids)
    return n_long


def encode(tokenizer, texts, *, max_length, add_special_tokens: bool, padding_side: str, pad_id: int,
           offset: int = 0, where=None):
    """Pad texts into ``input_ids``, ``attention_mask`` and ``position_ids`` tensors (positions from the mask)."""
    import torch

    ids = tokenizer(list(texts), add_special_tokens=add_special_tokens, truncation=max_length is not None,
                    max_length=max_length)["input_ids"]
    _empty_error(ids, where or (lambda i: f"text {i} of the batch"))
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        sl = slice(width - len(x), width) if padding_side == "left" else slice(0, len(x))
        input_ids[row, sl] = torch.as_tensor(x, dtype=torch.long)
        mask[row, sl] = 1
    position_ids = (mask.cumsum(1) - 1).clamp(min=0)
    if offset:  # RoBERTa-style: real tokens from offset, padding at offset - 1
        position_ids = torch.where(mask.bool(), position_ids + offset, torch.full_like(position_ids, offset - 1))
    return input_ids, mask, position_ids
