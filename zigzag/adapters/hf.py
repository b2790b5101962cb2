"""Point clouds from a Hugging Face transformers model: one pooled vector per text and hook point.

Hook points (``hook=``), found by structure for any model with a stack of
blocks (see :mod:`zigzag.adapters.structure`):

* ``"post_attention_norm"`` (the paper's, and the default): the input of each
  block's feed-forward part (dense MLP or experts), then the final norm;
  n = L + 1. In Llama this is exactly the output of
  ``post_attention_layernorm``; in Gemma 2/3 of ``pre_feedforward_layernorm``;
  in OLMo 2 the residual stream itself; in parallel blocks (Phi, GPT-J,
  Pythia) the norm shared by attention and MLP.
* ``"residual"``: the residual stream, as ``output_hidden_states`` returns it:
  the input of block 0 (the embeddings), the output of blocks 0..L-2, and
  the output of block L-1 *after the final norm* (n = L + 1; a model with no
  final norm, such as BERT, ends with the last block's output).
  ``embeddings=False`` drops the embeddings; ``final_norm=False`` takes the
  raw output of the last block instead of the normed one.
* any module-name pattern, e.g. ``"model.layers.*.mlp"`` (or a list of them):
  the output of each matching module, in model order, through forward hooks.

Texts go through the model in batches of similar token length (longest
first), whatever the entry point, and the vectors come back in text order.
Batches are padded by zigzag (on the right by default), with position ids
taken from the attention mask, so a text gives the same vectors alone or in a
batch (to float rounding). Texts longer than the model's position limit are
truncated to it (``max_length`` sets a lower limit) and counted.
"""

from __future__ import annotations

import inspect
import logging

import numpy as np

from .._validation import check_int, check_option
from ..clouds import LayerClouds, as_layer_clouds
from ..texts import as_texts, text_position, texts_sha256
from ._capture import Capture, match_modules, move_to_device
from .families import model_kind, resolve_defaults
from .pooling import check_pooling, pool
from .tokens import (DEFAULT_BATCH_SIZE, encode, fixed_padding, length_batches, length_order, position_offset,
                     resolve_max_length, token_lengths, truncation)

__all__ = ["extract", "NAMED_HOOKS"]

log = logging.getLogger("zigzag")

NAMED_HOOKS = ("post_attention_norm", "residual")
DTYPES = ("float32", "float16", "float64")


def extract(model, tokenizer, texts, *, hook=None, pooling=None, batch_size: int = DEFAULT_BATCH_SIZE,
            max_length: int | None = None, device=None, dtype: str = "float32", add_special_tokens: bool | None = None,
            padding_side: str | None = None, embeddings: bool | None = None, final_norm: bool | None = None,
            out=None, overwrite: bool = False, progress: bool = True) -> LayerClouds:
    """Run texts through a transformers model and pool each hook point to one vector per text.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Any model with a stack of blocks (decoder or encoder) for the named
        hook points; any model for module-name patterns. Set to eval mode
        (restored afterwards) and run under ``torch.inference_mode()``.
    tokenizer : transformers tokenizer
        Used without padding; zigzag pads each batch itself.
    texts : list of str or path
        At least 2 texts, or a ``.txt``/``.jsonl``/``.csv`` file (see
        :func:`zigzag.texts.load_texts`). Text ``i`` becomes point ``i``.
    hook : str or list of str, optional
        ``"post_attention_norm"`` (default), ``"residual"`` or module-name pattern(s).
    pooling : {"last", "mean", "first"} or int, optional
        See :mod:`zigzag.adapters.pooling`. Default: ``"last"`` (the last real
        token, the paper's) for decoders, ``"mean"`` for encoders
        (:func:`zigzag.adapters.resolve_defaults`).
    batch_size : int, default=32
        Texts per forward pass. Batches group texts of similar length (the
        longest first), so they carry little padding; the vectors are
        returned in text order.
    max_length : int, optional
        Truncate longer texts to this many tokens. Default: the model's
        position limit (``max_position_embeddings``, or the tokenizer's
        ``model_max_length`` when smaller); how many texts were cut is logged
        and recorded as ``meta["n_truncated"]``.
    device : str or torch.device, optional
        Move the model there first (after checking it fits); default: where it is.
    dtype : {"float32", "float16", "float64"}, default="float32"
        Dtype of the returned vectors (the model computes in its own dtype,
        recorded as ``meta["model_dtype"]``).
    add_special_tokens : bool, optional
        Default: False for decoders (the paper adds no BOS), True for encoders
        (BERT needs ``[CLS]``/``[SEP]``).
    padding_side : {"left", "right"}, default="right"
        Where each batch is padded. Right padding is exact for every model
        (the real tokens sit at positions 0..n-1, as when a text runs alone);
        left padding needs position ids (a model that takes none is padded on
        the right) and attention that does not group tokens by absolute
        position (DeepSeek-V4's compressed attention does).
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
        with ``meta`` recording the model and its kind, the resolved hook and
        pooling, which module produced each representation (``sources``),
        the texts hash, the truncation and the dtypes.

    Raises
    ------
    ValueError
        A model with no stack of blocks for a named hook, a pattern matching
        nothing, fewer than 2 texts, not enough device memory, inconsistent
        batch outputs.

    Examples
    --------
    >>> import zigzag
    >>> model, tokenizer = zigzag.load_embedded_model()  # 6 BERT blocks, shipped with the demo extra
    >>> clouds = extract(model, tokenizer, zigzag.builtin_corpus(8), progress=False)
    >>> clouds.n_layers, clouds.meta["pooling"]  # each block's feed-forward input, then the final one; mean: an encoder
    (7, 'mean')
    """
    texts = as_texts(texts, minimum=2, caller="extract")
    batch_size = check_int(batch_size, "batch_size", minimum=1, caller="extract")
    max_length = resolve_max_length(model, tokenizer, max_length)
    check_option(dtype, "dtype", DTYPES, caller="extract")
    device = move_to_device(model, device)
    hook, pooling = resolve_defaults(model, hook, pooling)
    pooling = check_pooling(pooling)
    names, sources, structure = resolve_hook(model, hook, embeddings=embeddings, final_norm=final_norm)
    if add_special_tokens is None:
        add_special_tokens = structure is not None and not structure.causal
    padding_side = check_option(padding_side or "right", "padding_side", ("left", "right"), caller="extract")
    max_length, lengths, n_truncated = truncation(model, tokenizer, texts, max_length,
                                                  add_special_tokens=add_special_tokens)
    runner = BatchRunner(model, tokenizer, texts, sources, batch_size=batch_size, max_length=max_length,
                         add_special_tokens=add_special_tokens, padding_side=padding_side, device=device,
                         structure=structure, lengths=lengths)
    config = getattr(model, "config", None)
    meta = {
        "model": getattr(config, "_name_or_path", "") or type(model).__name__,
        "revision": getattr(config, "_commit_hash", None),
        "model_kind": model_kind(model),
        "model_dtype": str(next((p.dtype for p in model.parameters()), "none")).replace("torch.", ""),
        "family": structure.name if structure else None,
        "decoder": structure.causal if structure else None,
        "hook": hook if isinstance(hook, str) else list(hook),
        "embeddings": embeddings,
        "final_norm": final_norm,
        "pooling": pooling,
        "sources": [_describe(source) for source in sources],
        "texts_sha256": texts_sha256(texts),
        "n_texts": len(texts),
        "max_length": max_length,
        "n_truncated": n_truncated,
        "add_special_tokens": bool(add_special_tokens),
        "padding_side": runner.padding_side,
        "dtype": dtype,
        "batch_size": batch_size,
        "batch_order": BatchRunner.ORDER,
    }

    def pooled(start: int):
        def reduce(hidden, mask):
            return pool(hidden, mask, pooling).float().cpu().numpy().astype(dtype, copy=False)

        yield from runner.run(reduce, start=start, progress=progress)

    if out is not None:
        from ..streaming import stream_to_folder

        return stream_to_folder(out, names, meta, pooled, overwrite=overwrite)
    parts, rows = [[] for _ in names], []
    for index, vectors in pooled(0):
        rows.append(index)
        for part, v in zip(parts, vectors):
            part.append(v)
    inverse = np.argsort(np.concatenate(rows))  # batch order -> text order
    layers = [concatenate_batches(p, name)[inverse] for p, name in zip(parts, names)]
    return as_layer_clouds(layers, names=names, meta=meta)


def _describe(source) -> str:
    what, path, _, producer, run = source
    text = f"{what} of {path}"
    if run is not None:
        text += f" ({'first' if run[0] == 0 else 'last'} of its {run[1]} runs)"
    return text + f" = output of {producer}" if producer else text


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
        One per representation: the module that produced it (``"embeddings"``
        for the input of block 0; ``"<module>:input"`` for a feed-forward
        input no module produced).
    sources : list of (what, module path, module, producer, run)
        ``what`` is ``"input"`` or ``"output"`` of the module at that path;
        ``producer`` the path of the module whose output it is, or None;
        ``run`` None for a module that runs once per pass, else ``(index,
        count)``: which of its ``count`` runs to keep (a looped block's last
        run; the first run's input of a looped block 0).
    structure : Structure or None
        None for module-name patterns.
    """
    from .structure import feed_forward_error, find_structure

    if not isinstance(hook, str) and not (isinstance(hook, (list, tuple)) and all(isinstance(h, str) for h in hook)):
        raise TypeError(f"hook must be a string or a list of strings; got {type(hook).__name__}.")
    if hook != "residual" and (embeddings is not None or final_norm is not None):
        raise ValueError(f"embeddings= and final_norm= apply to hook='residual' only; got hook={hook!r}.")
    if not (isinstance(hook, str) and hook in NAMED_HOOKS):
        found = match_modules(model, [hook] if isinstance(hook, str) else hook)
        return [name for name, _ in found], [("output", name, module, None, None) for name, module in found], None
    s = find_structure(model)
    get = model.get_submodule
    running = s.running  # blocks that do not run in this pass (Mllama's cross-attention ones) have no representation
    blocks = [s.block_path(i) for i in running]
    outputs = [s.block_output_path(i) for i in running]  # the blocks themselves, or their last parts (XLM)
    last = outputs[-1]
    if hook == "post_attention_norm":
        missing = [i for i in running if s.feed_forward[i] is None]
        if missing:
            raise ValueError(feed_forward_error(model, s, missing))
        sources = [("input", s.feed_forward[i], get(s.feed_forward[i]), s.producers[i], _last(s, i)) for i in running]
        names = [s.producers[i] or f"{s.feed_forward[i]}:input" for i in running]
        return names + [s.final], sources + [_final_source(model, s)], s
    names = ["embeddings"] + outputs[:-1]
    first = None if s.n_runs(0) == 1 else (0, s.n_runs(0))  # the embeddings enter block 0's first run
    sources = [("input", blocks[0], get(blocks[0]), None, first)] + [
        ("output", o, get(o), None, _last(s, i)) for i, o in zip(running, outputs[:-1])]
    if final_norm is False:
        names.append(last)
        sources.append(("output", last, get(last), None, _last(s, running[-1])))
    else:
        names.append(s.final)
        sources.append(_final_source(model, s))
    if embeddings is False:
        names, sources = names[1:], sources[1:]
    return names, sources, s


def _final_source(model, s):
    """The final representation: the final norm's output, else what the module holding the blocks returns."""
    if s.final_norm:
        return ("output", s.final_norm, model.get_submodule(s.final_norm), None, None)
    producer = s.final if s.final != f"{s.stack}:output" else None
    return ("output", s.stack, model.get_submodule(s.stack) if s.stack else model, producer, None)


def _last(s, i):
    """Which run of block ``i`` to read: None when it runs once, else its last."""
    return None if s.n_runs(i) == 1 else (-1, s.n_runs(i))


class BatchRunner:
    """Tokenise, pad and run batches; reduce each hooked (batch, n_tokens, dim) tensor as the forward pass makes it.

    The batches group texts of similar token length, longest first
    (:func:`zigzag.adapters.tokens.length_order`): ``self.order`` lists the
    text indices in the order they run, ``self.batches(start)`` cuts
    ``order[start:]`` into batches. Every pass over the same texts and
    settings (extraction, block distances, evaluation) gets the same batches.
    """

    #: how texts are grouped into batches, recorded in an extraction's provenance
    ORDER = "length"

    def __init__(self, model, tokenizer, texts, sources, *, batch_size, max_length, add_special_tokens,
                 padding_side, device=None, structure=None, lengths=None):
        self.model, self.tokenizer, self.texts, self.sources = model, tokenizer, texts, sources
        self.layouts = {s[1]: _layout(structure, s) for s in sources}
        self.batch_size, self.max_length = batch_size, max_length
        self.add_special_tokens, self.padding_side = add_special_tokens, padding_side
        self.device = move_to_device(model, device)
        # hooks inside the base model need only the base model (no logits over the vocabulary)
        base = getattr(model, "base_model", model)
        inside = {id(m) for m in base.modules()}
        self.forward = base if sources and all(id(s[2]) in inside for s in sources) else model
        params = inspect.signature(self.forward.forward).parameters
        self.takes = set(params)
        self.pad_id = next((t for t in (getattr(tokenizer, "pad_token_id", None),
                                         getattr(tokenizer, "eos_token_id", None)) if t is not None), 0)
        self.offset = position_offset(model)
        fixed = fixed_padding(model)
        if fixed is not None:  # the model reads its padding from the token ids and their place (CPM-Ant)
            if fixed[0] != padding_side:
                log.info("%s is padded on the %s whatever was asked (padding_side=%r)", type(model).__name__,
                         fixed[0], padding_side)
            self.padding_side, self.pad_id = fixed
        elif padding_side == "left" and "position_ids" not in self.takes:
            # without position ids a left-padded text would start at a later position; right padding keeps the
            # real tokens at 0..n-1, and the mask keeps padding out of them either way
            self.padding_side = "right"
        if lengths is None:
            lengths = token_lengths(tokenizer, texts, add_special_tokens=add_special_tokens,
                                    where=lambda i: text_position(texts, i))
        self.order = length_order(lengths, max_length)

    def batches(self, start: int = 0) -> list:
        """Arrays of text indices, one per batch, for the texts from position ``start`` of ``self.order`` on."""
        return length_batches(self.order, self.batch_size, start)

    def encode(self, index):
        """Pad the texts at ``index`` into input_ids, attention_mask and position_ids tensors."""
        index = [int(i) for i in index]
        return encode(self.tokenizer, [self.texts[i] for i in index], max_length=self.max_length,
                      add_special_tokens=self.add_special_tokens, padding_side=self.padding_side, pad_id=self.pad_id,
                      offset=self.offset, where=lambda i: text_position(self.texts, index[i]))

    def kwargs(self, index, takes=None):
        """The forward keywords of a batch on the model's device (those ``takes`` names, default the runner's)."""
        takes = self.takes if takes is None else takes
        input_ids, mask, position_ids = self.encode(index)
        kwargs = {"input_ids": input_ids.to(self.device), "attention_mask": mask.to(self.device)}
        if "position_ids" in takes:
            kwargs["position_ids"] = position_ids.to(self.device)
        if "use_cache" in takes:
            kwargs["use_cache"] = False
        return kwargs

    def run(self, reduce, *, start: int = 0, progress: bool = True):
        """Yield ``(text_indices, [reduce(hidden, mask) per source])`` per batch, from position ``start`` of the order."""
        import torch
        from .._progress import progress_bar

        model = self.model
        was_training = model.training
        model.eval()
        batches = self.batches(start)
        batch = {}

        def reduce_now(hidden, name):  # in the hook, before later modules can change the tensor in place
            return reduce(check_output(hidden, batch["shape"], name, *self.layouts[name]), batch["mask"])

        capture = Capture([(s[1], s[2], s[0], s[4]) for s in self.sources], reduce_now)
        try:
            with torch.inference_mode():
                for index in progress_bar(batches, disable=not progress, desc="extract", unit="batch"):
                    kwargs = self.kwargs(index)
                    input_ids = kwargs["input_ids"]
                    batch.update(shape=tuple(input_ids.shape), mask=kwargs["attention_mask"])
                    try:
                        self.forward(**kwargs)
                    except torch.OutOfMemoryError:
                        capture.clear()
                        raise ValueError(
                            f"Out of memory on {self.device} running a batch of {input_ids.shape[0]} texts x "
                            f"{input_ids.shape[1]} tokens. Use a smaller batch_size or max_length."
                        ) from None
                    yield index, capture.take()
        finally:
            capture.close()
            model.train(was_training)


def _layout(structure, source) -> tuple:
    """(time-major, text start) of a source's tensors: the blocks' layout, except for the stack's own output."""
    if structure is None:
        return False, None
    what, path = source[0], source[1]
    return structure.time_major and not (what == "output" and path == structure.stack), structure.text_start


def check_output(hidden, shape, name, time_major: bool = False, text_start: int | None = None):
    """A hooked tensor must be (batch, n_tokens, dim) for this batch; (batch * n_tokens, dim) is reshaped.

    ``time_major``: the tensor is (n_tokens, batch, dim) (XLNet's blocks). ``text_start``: the blocks see more
    tokens than the batch has (CPM-Ant's prompt, ProphetNet's n-gram streams); the batch's are those from there on.
    """
    if time_major and hidden.ndim >= 3:
        hidden = hidden.transpose(0, 1)
    if text_start is not None:
        if hidden.ndim == 2 and hidden.shape[0] % shape[0] == 0:  # flattened tokens
            hidden = hidden.reshape(shape[0], hidden.shape[0] // shape[0], hidden.shape[1])
        if hidden.ndim >= 3 and hidden.shape[0] == shape[0] and hidden.shape[1] >= text_start + shape[1]:
            hidden = hidden[:, text_start:text_start + shape[1]]
    if hidden.ndim == 2 and hidden.shape[0] == shape[0] * shape[1]:  # flattened tokens (OPT's feed-forward)
        hidden = hidden.reshape(shape[0], shape[1], hidden.shape[1])
    elif hidden.ndim > 3 and tuple(hidden.shape[:2]) == tuple(shape):  # parallel residual streams: one vector
        hidden = hidden.reshape(shape[0], shape[1], -1)
    if hidden.ndim != 3 or tuple(hidden.shape[:2]) != tuple(shape):
        raise ValueError(
            f"Inconsistent batch outputs: {name!r} returned shape {tuple(hidden.shape)} for a batch of shape "
            f"{tuple(shape)}; expected (batch, n_tokens, n_features). Hook a module that outputs per-token "
            "activations (for other modules use zigzag.extract_from_module)."
        )
    return hidden
