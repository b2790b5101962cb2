"""Point clouds from a Hugging Face transformers model: one pooled vector per text and hook point.

Hook points (``hook=``):

* ``"post_attention_norm"`` (the paper's default): the output of each block's
  post-attention norm, then the final norm; n = L + 1. Per-family modules and
  their closest analogues are tabled in :mod:`zigzag.adapters.families`.
* ``"residual"``: the residual stream, as ``output_hidden_states`` returns it.
  By default (``embeddings=True, final_norm=True``) that is exactly
  ``hidden_states``: the embeddings, the output of blocks 0..L-2, and the
  output of block L-1 *after the final norm* (n = L + 1; BERT has no final
  norm, so its last entry is the last block's output). ``embeddings=False``
  drops the embeddings; ``final_norm=False`` takes the raw output of the last
  block instead of the normed one.
* any module-name pattern, e.g. ``"model.layers.*.mlp"`` (or a list of them):
  the output of each matching module, in model order, through forward hooks.

Batches are padded by zigzag (on ``padding_side``), with position ids taken
from the attention mask, so a text gives the same vectors alone or in a batch
padded on either side.
"""

from __future__ import annotations

import inspect
import logging

import numpy as np

from .._validation import check_int, check_option
from ..clouds import LayerClouds, as_layer_clouds
from ..texts import as_texts, text_position, texts_sha256
from ._capture import Capture, match_modules, move_to_device
from .families import base_prefix, family_of
from .pooling import check_pooling, pool

__all__ = ["extract", "NAMED_HOOKS"]

log = logging.getLogger("zigzag")

NAMED_HOOKS = ("post_attention_norm", "residual")
DTYPES = ("float32", "float16", "float64")


def extract(model, tokenizer, texts, *, hook="post_attention_norm", pooling="last", batch_size: int = 16,
            max_length: int | None = None, device=None, dtype: str = "float32", add_special_tokens: bool | None = None,
            padding_side: str | None = None, embeddings: bool | None = None, final_norm: bool | None = None,
            out=None, overwrite: bool = False, progress: bool = True) -> LayerClouds:
    """Run texts through a transformers model and pool each hook point to one vector per text.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Llama, Mistral, Qwen2, Gemma, Phi, GPT-2, GPT-NeoX or BERT for the named
        hook points; any model for module-name patterns. Set to eval mode
        (restored afterwards) and run under ``torch.inference_mode()``.
    tokenizer : transformers tokenizer
        Used without padding; zigzag pads each batch itself.
    texts : list of str or path
        At least 2 texts, or a ``.txt``/``.jsonl``/``.csv`` file (see
        :func:`zigzag.texts.load_texts`). Text ``i`` becomes point ``i``.
    hook : str or list of str, default="post_attention_norm"
        ``"post_attention_norm"``, ``"residual"`` or module-name pattern(s).
    pooling : {"last", "mean", "first"} or int, default="last"
        See :mod:`zigzag.adapters.pooling`; ``"last"`` is the last real token.
    batch_size : int, default=16
    max_length : int, optional
        Truncate longer texts to this many tokens.
    device : str or torch.device, optional
        Move the model there first (after checking it fits); default: where it is.
    dtype : {"float32", "float16", "float64"}, default="float32"
        Dtype of the returned vectors (the model computes in its own dtype).
    add_special_tokens : bool, optional
        Default: False for decoders (the paper adds no BOS), True for encoders
        (BERT needs ``[CLS]``/``[SEP]``).
    padding_side : {"left", "right"}, optional
        Default: the tokenizer's ``padding_side``.
    embeddings, final_norm : bool, optional
        Only for ``hook="residual"`` (both default True: exactly ``hidden_states``).
    out : str or Path, optional
        Stream each layer to ``out/layer_XXX.npy`` with a ``manifest.json``
        and return memory-mapped clouds; an interrupted run resumes (see
        :mod:`zigzag.streaming`).
    overwrite : bool, default=False
        With ``out``: start over when the folder holds a different extraction.
    progress : bool, default=True
        A tqdm bar over batches.

    Returns
    -------
    LayerClouds
        ``n`` layers of shape (n_texts, hidden_size), named by module path,
        with ``meta`` recording model, hook, pooling, texts hash and dtype.

    Raises
    ------
    ValueError
        Unknown family for a named hook, a pattern matching nothing, fewer
        than 2 texts, not enough device memory, inconsistent batch outputs.

    Examples
    --------
    >>> import zigzag
    >>> model, tokenizer = zigzag.load_embedded_model()  # 6 BERT blocks, shipped with the demo extra
    >>> clouds = extract(model, tokenizer, zigzag.builtin_corpus(8), progress=False)
    >>> clouds.n_layers  # the embeddings and the output of each block
    7
    """
    texts = as_texts(texts, minimum=2, caller="extract")
    pooling = check_pooling(pooling)
    batch_size = check_int(batch_size, "batch_size", minimum=1, caller="extract")
    if max_length is not None:
        max_length = check_int(max_length, "max_length", minimum=1, caller="extract")
    check_option(dtype, "dtype", DTYPES, caller="extract")
    names, sources, family = resolve_hook(model, hook, embeddings=embeddings, final_norm=final_norm)
    if add_special_tokens is None:
        add_special_tokens = family is not None and family.kind == "encoder"
    padding_side = check_option(padding_side or getattr(tokenizer, "padding_side", "right") or "right",
                                "padding_side", ("left", "right"), caller="extract")
    config = getattr(model, "config", None)
    meta = {
        "model": getattr(config, "_name_or_path", "") or type(model).__name__,
        "revision": getattr(config, "_commit_hash", None),
        "family": family.name if family else None,
        "hook": hook if isinstance(hook, str) else list(hook),
        "embeddings": embeddings,
        "final_norm": final_norm,
        "pooling": pooling,
        "texts_sha256": texts_sha256(texts),
        "n_texts": len(texts),
        "max_length": max_length,
        "add_special_tokens": bool(add_special_tokens),
        "padding_side": padding_side,
        "dtype": dtype,
        "batch_size": batch_size,
    }
    runner = BatchRunner(model, tokenizer, texts, sources, batch_size=batch_size, max_length=max_length,
                         add_special_tokens=add_special_tokens, padding_side=padding_side, device=device)

    def pooled(start: int):
        def reduce(hidden, mask):
            return pool(hidden, mask, pooling).float().cpu().numpy().astype(dtype, copy=False)

        yield from runner.run(reduce, start=start, progress=progress)

    if out is not None:
        from ..streaming import stream_to_folder

        return stream_to_folder(out, names, meta, pooled, overwrite=overwrite)
    parts = [[] for _ in names]
    for _, vectors in pooled(0):
        for part, v in zip(parts, vectors):
            part.append(v)
    layers = [concatenate_batches(p, name) for p, name in zip(parts, names)]
    return as_layer_clouds(layers, names=names, meta=meta)


def concatenate_batches(parts, name: str) -> np.ndarray:
    """Stack per-batch (batch, dim) vectors; every batch must have the same width."""
    widths = sorted({p.shape[1:] for p in parts})
    if len(widths) != 1:
        raise ValueError(
            f"Inconsistent batch outputs at {name!r}: batches gave vectors of widths {widths}. "
            "Hook a module whose output width does not depend on the input."
        )
    return np.concatenate(parts, axis=0)


def resolve_hook(model, hook, *, embeddings=None, final_norm=None):
    """Turn ``hook`` into layer names and sources.

    Returns
    -------
    names : list of str
    sources : list of ("module", name, module) or ("hidden", index)
    family : Family or None
        None for module-name patterns.
    """
    if not isinstance(hook, str) and not (isinstance(hook, (list, tuple)) and all(isinstance(h, str) for h in hook)):
        raise TypeError(f"hook must be a string or a list of strings; got {type(hook).__name__}.")
    if hook != "residual" and (embeddings is not None or final_norm is not None):
        raise ValueError(f"embeddings= and final_norm= apply to hook='residual' only; got hook={hook!r}.")
    if isinstance(hook, str) and hook in NAMED_HOOKS:
        family = family_of(model)
        prefix = base_prefix(model)
        base = model.base_model
        blocks = base.get_submodule(family.blocks)
        block_path = f"{prefix}{family.blocks}"
        n_blocks = len(blocks)
        if hook == "post_attention_norm":
            sources = [("module", f"{block_path}.{i}.{family.post_attention_norm}",
                        blocks[i].get_submodule(family.post_attention_norm)) for i in range(n_blocks)]
            if family.final_norm:
                sources.append(("module", f"{prefix}{family.final_norm}", base.get_submodule(family.final_norm)))
            else:  # BERT: the last block's output is the final representation
                sources.append(("module", f"{block_path}.{n_blocks - 1}", blocks[n_blocks - 1]))
            return [s[1] for s in sources], sources, family
        names = ["embeddings"] + [f"{block_path}.{i}" for i in range(n_blocks - 1)]
        sources = [("hidden", i) for i in range(n_blocks)]
        if final_norm is False or family.final_norm is None:
            names.append(f"{block_path}.{n_blocks - 1}")
            sources.append(("module", names[-1], blocks[n_blocks - 1]) if family.final_norm else ("hidden", n_blocks))
        else:
            names.append(f"{prefix}{family.final_norm}")
            sources.append(("hidden", n_blocks))
        if embeddings is False:
            names, sources = names[1:], sources[1:]
        return names, sources, family
    found = match_modules(model, [hook] if isinstance(hook, str) else hook)
    return [name for name, _ in found], [("module", name, module) for name, module in found], None


class BatchRunner:
    """Tokenise, pad and run batches; hand each hook point's (batch, n_tokens, dim) output to a reducer."""

    def __init__(self, model, tokenizer, texts, sources, *, batch_size, max_length, add_special_tokens,
                 padding_side, device=None):
        self.model, self.tokenizer, self.texts, self.sources = model, tokenizer, texts, sources
        self.batch_size, self.max_length = batch_size, max_length
        self.add_special_tokens, self.padding_side = add_special_tokens, padding_side
        self.device = move_to_device(model, device)
        # named hooks and hidden states need only the base model (no logits over the vocabulary)
        base = getattr(model, "base_model", model)
        inside = {id(m) for m in base.modules()}
        self.forward = base if all(s[0] == "hidden" or id(s[2]) in inside for s in sources) else model
        params = inspect.signature(self.forward.forward).parameters
        self.takes = set(params)
        self.pad_id = next((t for t in (getattr(tokenizer, "pad_token_id", None),
                                         getattr(tokenizer, "eos_token_id", None)) if t is not None), 0)

    def encode(self, texts, start: int = 0):
        """Pad a list of texts (``self.texts[start:]`` onwards) into input_ids, attention_mask and position_ids."""
        import torch

        ids = self.tokenizer(list(texts), add_special_tokens=self.add_special_tokens,
                             truncation=self.max_length is not None, max_length=self.max_length)["input_ids"]
        empty = [i for i, x in enumerate(ids) if len(x) == 0]
        if empty:
            where = ", ".join(text_position(self.texts, start + i) for i in empty[:5])
            raise ValueError(f"{where}: tokenises to no token at all; remove it.")
        width = max(len(x) for x in ids)
        input_ids = torch.full((len(ids), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for row, x in enumerate(ids):
            sl = slice(width - len(x), width) if self.padding_side == "left" else slice(0, len(x))
            input_ids[row, sl] = torch.as_tensor(x, dtype=torch.long)
            mask[row, sl] = 1
        position_ids = (mask.cumsum(1) - 1).clamp(min=0)
        return input_ids, mask, position_ids

    def run(self, reduce, *, start: int = 0, progress: bool = True):
        """Yield ``(start_index, [reduce(hidden, mask) per source])`` for each batch from ``start``."""
        import torch
        from tqdm.auto import tqdm

        model = self.model
        was_training = model.training
        model.eval()
        hooked = [(s[1], s[2]) for s in self.sources if s[0] == "module"]
        need_hidden = any(s[0] == "hidden" for s in self.sources)
        n = len(self.texts)
        starts = range(start, n, self.batch_size)
        capture = Capture(hooked, lambda out, name: out)
        try:
            with torch.inference_mode():
                for s in tqdm(starts, total=len(starts), disable=not progress, desc="extract", unit="batch"):
                    input_ids, mask, position_ids = self.encode(self.texts[s:s + self.batch_size], s)
                    kwargs = {"input_ids": input_ids.to(self.device), "attention_mask": mask.to(self.device)}
                    if "position_ids" in self.takes:
                        kwargs["position_ids"] = position_ids.to(self.device)
                    if "use_cache" in self.takes:
                        kwargs["use_cache"] = False
                    if need_hidden:
                        kwargs["output_hidden_states"] = True
                    try:
                        output = self.forward(**kwargs)
                    except torch.OutOfMemoryError:
                        capture.clear()
                        raise ValueError(
                            f"Out of memory on {self.device} running a batch of {input_ids.shape[0]} texts x "
                            f"{input_ids.shape[1]} tokens. Use a smaller batch_size or max_length."
                        ) from None
                    hooked_out = iter(capture.take())
                    mask_dev = kwargs["attention_mask"]
                    results = []
                    for source in self.sources:
                        hidden = next(hooked_out) if source[0] == "module" else output.hidden_states[source[1]]
                        results.append(reduce(check_output(hidden, input_ids.shape, source), mask_dev))
                    yield s, results
        finally:
            capture.close()
            model.train(was_training)


def check_output(hidden, shape, source):
    """A hooked output must be (batch, n_tokens, dim) for this batch."""
    if hidden.ndim != 3 or tuple(hidden.shape[:2]) != tuple(shape):
        name = source[1] if source[0] == "module" else f"hidden_states[{source[1]}]"
        raise ValueError(
            f"Inconsistent batch outputs: {name!r} returned shape {tuple(hidden.shape)} for a batch of shape "
            f"{tuple(shape)}; expected (batch, n_tokens, n_features). Hook a module that outputs per-token "
            "activations (for other modules use zigzag.extract_from_module)."
        )
    return hidden
