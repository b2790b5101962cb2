"""Texts to token batches for a model: its position limit, what truncation cut, batching by length, padding.

A text longer than the model's position limit would crash the forward pass
(or read past the position table), so texts are truncated to the limit by
default (:func:`resolve_max_length`, the one default every entry point uses);
:func:`token_lengths` says how long each text is, before any work starts.
Texts go through a model in batches of similar length
(:func:`length_batches`): a batch is padded to its longest text, so batches in
text order carry about as many padding tokens as real ones on a mixed corpus.
"""

from __future__ import annotations

import logging

__all__ = ["DEFAULT_BATCH_SIZE", "FIXED_PADDING", "encode", "fixed_padding", "length_batches", "length_order",
           "max_tokens", "position_offset", "resolve_max_length", "token_lengths", "truncation"]

_NO_LIMIT = 10**6  # tokenizers without a limit report int(1e30)
DEFAULT_BATCH_SIZE = 32  # texts per forward pass, for every entry point (extract, run, sweep, baselines, evaluation)


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


def resolve_max_length(model, tokenizer, max_length=None, *, caller: str = "extract") -> int | None:
    """The truncation limit for a model: ``max_length`` capped at the model's limit, or that limit when None.

    Every entry point (extraction, block distances, evaluation, ``zigzag run``)
    resolves its limit here, so they cut texts alike.
    """
    from .._validation import check_int

    if max_length is not None:
        max_length = check_int(max_length, "max_length", minimum=1, caller=caller)
    limit = max_tokens(model, tokenizer)
    return limit if max_length is None else max_length if limit is None else min(max_length, limit)


def token_lengths(tokenizer, texts, *, add_special_tokens: bool, where=None, chunk: int = 512):
    """How many tokens each text has before truncation: an int64 array of shape (n_texts,).

    ``where(i)`` names text ``i`` in errors (its line in the file): a text with no token at all is a ValueError.
    """
    import numpy as np

    where = where or (lambda i: f"text {i}")
    lengths = np.zeros(len(texts), dtype=np.int64)
    for start in range(0, len(texts), chunk):
        ids = tokenizer(list(texts[start:start + chunk]), add_special_tokens=add_special_tokens)["input_ids"]
        _empty_error(ids, lambda i: where(start + i))
        lengths[start:start + len(ids)] = [len(x) for x in ids]
    return lengths


def truncation(model, tokenizer, texts, max_length=None, *, add_special_tokens: bool, caller: str = "extract",
               quiet: bool = False) -> tuple:
    """``(max_length, lengths, n_truncated)``: the resolved limit, each text's token count, how many texts it cuts.

    Every entry point counts (and, unless ``quiet``, logs) the texts it cuts here.
    """
    import numpy as np

    from ..texts import text_position

    max_length = resolve_max_length(model, tokenizer, max_length, caller=caller)
    lengths = token_lengths(tokenizer, texts, add_special_tokens=add_special_tokens,
                            where=lambda i: text_position(texts, i))
    n_truncated = 0 if max_length is None else int(np.sum(lengths > max_length))
    if n_truncated and not quiet:
        logging.getLogger("zigzag").warning("%d of %d texts are longer than %d tokens and were truncated to it",
                                            n_truncated, len(texts), max_length)
    return max_length, lengths, n_truncated


def length_order(lengths, max_length=None):
    """Text indices, longest first (after truncation to ``max_length``), ties in text order.

    The order does not depend on the batch size, so an extraction resumed with
    another batch size continues the same order. Longest first: a batch that
    does not fit in memory fails at once, not at the end of a long run.
    """
    import numpy as np

    lengths = np.asarray(lengths, dtype=np.int64)
    if max_length is not None:
        lengths = np.minimum(lengths, max_length)
    return np.argsort(-lengths, kind="stable")


def length_batches(order, batch_size: int, start: int = 0) -> list:
    """``order[start:]`` cut into consecutive batches of ``batch_size`` text indices."""
    return [order[s:s + batch_size] for s in range(start, len(order), batch_size)]


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
