"""Evaluation: how much a pruned model keeps, measured beside the full model on the same texts.

Causal LMs: perplexity on the texts. Encoders: cosine between pooled
embeddings and how many nearest neighbours each text keeps.

The full model's side does not depend on the plan, so it is computed once
(:func:`reference_outputs`) and shared by every plan (``evaluate(...,
reference=ref)``); only the pruned model runs per plan. Texts go through the
model in batches of similar length (fewer padding tokens, the same numbers up
to float rounding), the same batches for the reference and every pruned model,
and the same as :func:`zigzag.extract`'s. Texts longer than the model's
position limit are truncated to it (``max_length`` sets a lower limit), counted
and logged, as in extraction.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .._frozen import FrozenRecord
from .._validation import check_int, check_option
from ..adapters.tokens import DEFAULT_BATCH_SIZE, truncation
from ..errors import InputError, InputTypeError
from ..knn import knn_indices
from ..texts import as_texts, texts_sha256

__all__ = ["Evaluation", "Reference", "evaluate", "knn_overlap", "reference_outputs"]

KINDS = ("causal_lm", "encoder")

log = logging.getLogger("zigzag")


@dataclass(frozen=True, eq=False)
class Evaluation(FrozenRecord):
    """Full vs pruned model on the same texts.

    Attributes
    ----------
    kind : {"causal_lm", "encoder"}
    metrics : mapping of str to float
        ``causal_lm``: ``perplexity_full``, ``perplexity_pruned``,
        ``perplexity_ratio``, ``nll_full``, ``nll_pruned`` (mean per token),
        ``n_tokens``. ``encoder``: ``mean_cosine`` and ``min_cosine`` between
        each text's pooled embeddings (mean over real tokens of the last
        representation), ``knn_overlap`` (mean fraction of each text's k
        nearest neighbours, by cosine, kept by the pruned model).
    n_blocks_full, n_blocks_pruned, n_texts : int
    params : mapping
    """

    kind: str
    metrics: Mapping
    n_blocks_full: int
    n_blocks_pruned: int
    n_texts: int
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "metrics", MappingProxyType({k: float(v) for k, v in self.metrics.items()}))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def to_dict(self) -> dict:
        """Plain, JSON-ready dict."""
        return {"kind": self.kind, "metrics": dict(self.metrics), "n_blocks_full": self.n_blocks_full,
                "n_blocks_pruned": self.n_blocks_pruned, "n_texts": self.n_texts, "params": dict(self.params)}

    def __str__(self) -> str:
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.metrics.items())
        return f"Evaluation({self.kind}, {self.n_blocks_full} -> {self.n_blocks_pruned} blocks, {self.n_texts} texts: {values})"


@dataclass(frozen=True, eq=False)
class Reference:
    """The full model's outputs on the texts: computed once, shared by the evaluation of every plan.

    Attributes
    ----------
    kind : {"causal_lm", "encoder"}
    n_blocks : int
        Blocks of the full model.
    n_texts : int
    embeddings : ndarray of shape (n_texts, n_features) or None
        ``encoder``: each text's mean-pooled last representation (float64).
    nll : float or None
        ``causal_lm``: mean next-token negative log-likelihood (nats).
    n_tokens : int or None
        ``causal_lm``: the number of predicted tokens.
    params : mapping
        What the outputs depend on: ``texts_sha256``, ``batch_size``,
        ``max_length`` (as resolved: the model's limit by default),
        ``add_special_tokens``, ``model``; and ``n_truncated``, the texts cut to
        ``max_length``.
    """

    kind: str
    n_blocks: int
    n_texts: int
    embeddings: np.ndarray | None = None
    nll: float | None = None
    n_tokens: int | None = None
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if self.embeddings is not None:
            embeddings = np.array(self.embeddings, dtype=np.float64)
            embeddings.setflags(write=False)
            object.__setattr__(self, "embeddings", embeddings)
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def check_matches(self, kind: str, texts, settings: Mapping) -> None:
        """Raise when this reference was made for other texts, another kind or other settings."""
        if kind != self.kind:
            raise InputError(f"The reference holds {self.kind} outputs; this evaluation is kind={kind!r}.")
        if texts_sha256(texts) != self.params.get("texts_sha256"):
            raise InputError(
                f"The reference was computed on other texts ({self.n_texts} texts with another hash); "
                "evaluate on the same texts or compute a new reference with reference_outputs()."
            )
        differ = [f"{key}={settings[key]!r} (reference: {self.params.get(key)!r})"
                  for key in settings if self.params.get(key) != settings[key]]
        if differ:
            raise InputError(
                "The reference was computed with other settings: " + ", ".join(differ)
                + ". Pass the same ones, or compute a new reference with reference_outputs()."
            )


def _resolve_kind(model, kind):
    """``kind`` checked, or the default: causal_lm for decoders with a language-model head, else encoder."""
    from ..adapters.families import family_of

    family = family_of(model)
    has_head = getattr(model, "get_output_embeddings", lambda: None)() is not None
    if kind is None:
        kind = "causal_lm" if family.kind == "decoder" and has_head else "encoder"
    check_option(kind, "kind", KINDS, caller="evaluate")
    if kind == "causal_lm" and not has_head:
        raise InputError(f"kind='causal_lm' needs a model with a language-model head; {type(model).__name__} has none.")
    return kind, family


def _n_blocks(model, family) -> int:
    return len(model.base_model.get_submodule(family.blocks))


def reference_outputs(model, tokenizer, texts, *, kind: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                      max_length: int | None = None, add_special_tokens: bool = True, device=None,
                      progress: bool = True, desc: str = "reference") -> Reference:
    """Run the full model once and keep what :func:`evaluate` compares every pruned model with.

    Parameters
    ----------
    model : transformers.PreTrainedModel
    tokenizer : transformers tokenizer
    texts : list of str or path
    kind : {"causal_lm", "encoder"}, optional
        Default as in :func:`evaluate`.
    batch_size, max_length, add_special_tokens, device
        As in :func:`evaluate`; pass the same values there.
    progress : bool, default=True
        A progress bar over batches, labelled ``desc``.
    desc : str, default="reference"

    Returns
    -------
    Reference
    """
    kind, family = _resolve_kind(model, kind)
    texts = as_texts(texts, minimum=1, caller="reference_outputs")
    batch_size = check_int(batch_size, "batch_size", minimum=1, caller="reference_outputs")
    max_length, lengths, n_truncated = truncation(model, tokenizer, texts, max_length,
                                                  add_special_tokens=add_special_tokens, caller="reference_outputs")
    return _reference_pass(model, family, kind, tokenizer, texts, batch_size=batch_size, max_length=max_length,
                           add_special_tokens=add_special_tokens, device=device, progress=progress, desc=desc,
                           lengths=lengths, n_truncated=n_truncated)


def _reference_pass(model, family, kind, tokenizer, texts, *, batch_size, max_length, add_special_tokens, device,
                    progress, desc, lengths, n_truncated) -> Reference:
    """:func:`reference_outputs` on checked arguments, with the texts' token lengths already counted."""
    run = dict(batch_size=batch_size, max_length=max_length, add_special_tokens=add_special_tokens, device=device,
               progress=progress, desc=desc, lengths=lengths)
    common = _reference_fields(model, family, kind, texts, batch_size, max_length, add_special_tokens, n_truncated)
    if kind == "causal_lm":
        nll, n_tokens = _mean_nll(model, tokenizer, texts, **run)
        return Reference(nll=nll, n_tokens=n_tokens, **common)
    return Reference(embeddings=_embeddings(model, tokenizer, texts, **run), **common)


def _reference_fields(model, family, kind, texts, batch_size, max_length, add_special_tokens, n_truncated) -> dict:
    """The fields of a :class:`Reference` besides the outputs themselves."""
    config = getattr(model, "config", None)
    params = {"texts_sha256": texts_sha256(texts), "batch_size": batch_size, "max_length": max_length,
              "add_special_tokens": bool(add_special_tokens),
              "model": getattr(config, "_name_or_path", "") or type(model).__name__, "n_truncated": n_truncated}
    return dict(kind=kind, n_blocks=_n_blocks(model, family), n_texts=len(texts), params=params)


def evaluate(model, pruned, tokenizer, texts, *, kind: str | None = None, k: int = 5, batch_size: int = DEFAULT_BATCH_SIZE,
             max_length: int | None = None, add_special_tokens: bool = True, device=None,
             reference: Reference | None = None, progress: bool = True, desc: str = "evaluate") -> Evaluation:
    """Compare a pruned model with the full one on the same texts.

    Parameters
    ----------
    model, pruned : transformers.PreTrainedModel
        The full model and the output of :func:`prune_model`.
    tokenizer : transformers tokenizer
    texts : list of str or path
    kind : {"causal_lm", "encoder"}, optional
        Default: ``"causal_lm"`` for decoders with a language-model head,
        else ``"encoder"``.
    k : int, default=5
        Neighbours per text for ``knn_overlap`` (encoders); needs k + 1 texts.
    batch_size : int, default=32
    max_length : int, optional
        Truncate longer texts to this many tokens. Default: the model's
        position limit, as in :func:`zigzag.extract`; how many texts were cut
        is logged and recorded as ``params["n_truncated"]``.
    add_special_tokens : bool, default=True
        BOS for perplexity, ``[CLS]``/``[SEP]`` for BERT.
    device : optional
    reference : Reference, optional
        The full model's outputs from :func:`reference_outputs` on the same
        texts and settings; default: computed here. Pass one to evaluate
        several plans with a single pass of the full model.
    progress : bool, default=True
        A progress bar over the pruned model's batches, labelled ``desc``.
    desc : str, default="evaluate"

    Returns
    -------
    Evaluation

    Raises
    ------
    ValueError
        Too few texts, a kind the models do not support, or a reference made
        for other texts or settings.
    """
    kind, family = _resolve_kind(model, kind)
    k = check_int(k, "k", minimum=1, caller="evaluate")
    texts = as_texts(texts, minimum=k + 1 if kind == "encoder" else 1, caller="evaluate")
    batch_size = check_int(batch_size, "batch_size", minimum=1, caller="evaluate")
    max_length, lengths, n_truncated = truncation(model, tokenizer, texts, max_length,
                                                  add_special_tokens=add_special_tokens, caller="evaluate")
    settings = {"batch_size": batch_size, "max_length": max_length, "add_special_tokens": bool(add_special_tokens)}
    if reference is None:  # the texts are counted once, for both passes
        reference = _reference_pass(model, family, kind, tokenizer, texts, device=device, progress=progress,
                                    desc="reference", lengths=lengths, n_truncated=n_truncated, **settings)
    elif not isinstance(reference, Reference):
        raise InputTypeError(f"reference must be a zigzag.models.Reference from reference_outputs(); "
                             f"got {type(reference).__name__}.")
    reference.check_matches(kind, texts, settings)
    n_pruned = _n_blocks(pruned, family)
    params = {"k": k, **settings, "n_truncated": n_truncated,
              "kept_blocks": list(getattr(pruned.config, "zigzag_kept_blocks", []) or [])}
    run = dict(device=device, progress=progress, desc=desc, lengths=lengths, **settings)
    if kind == "causal_lm":
        nll_full, n_tokens = reference.nll, reference.n_tokens
        nll_pruned, _ = _mean_nll(pruned, tokenizer, texts, **run)
        metrics = {"perplexity_full": math.exp(nll_full), "perplexity_pruned": math.exp(nll_pruned),
                   "perplexity_ratio": math.exp(nll_pruned - nll_full), "nll_full": nll_full,
                   "nll_pruned": nll_pruned, "n_tokens": n_tokens}
    else:
        a = reference.embeddings
        b = _embeddings(pruned, tokenizer, texts, **run)
        cos = (_unit(a) * _unit(b)).sum(1)
        metrics = {"mean_cosine": cos.mean(), "min_cosine": cos.min(), "knn_overlap": knn_overlap(a, b, k)}
    return Evaluation(kind, metrics, reference.n_blocks, n_pruned, len(texts), params)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300)


def knn_overlap(a, b, k: int) -> float:
    """Mean over points of ``|kNN_a(i) ∩ kNN_b(i)| / k``, neighbours by cosine similarity, self excluded.

    Parameters
    ----------
    a, b : ndarray of shape (n_points, n_features_a), (n_points, n_features_b)
    k : int

    Returns
    -------
    float in [0, 1]
    """
    na, nb = knn_indices(a, k, metric="cosine"), knn_indices(b, k, metric="cosine")
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(na, nb)]))


def _runner(model, tokenizer, texts, *, batch_size, max_length, add_special_tokens, device, padding_side,
            lengths=None):
    """The :class:`~zigzag.adapters.hf.BatchRunner` of an evaluation pass, and the keywords ``model`` takes."""
    from ..adapters.hf import BatchRunner

    runner = BatchRunner(model, tokenizer, texts, [], batch_size=batch_size, max_length=max_length,
                         add_special_tokens=add_special_tokens, padding_side=padding_side, device=device,
                         lengths=lengths)
    return runner, set(inspect.signature(model.forward).parameters)


def _encoder_padding(tokenizer) -> str:
    return getattr(tokenizer, "padding_side", "right") or "right"


def _batches(model, tokenizer, texts, *, batch_size, max_length, add_special_tokens, device, padding_side,
             progress, desc, lengths=None):
    """Yield ``(indices, kwargs)`` per batch, the model in eval mode under inference mode, with a progress bar.

    The batches are :func:`zigzag.extract`'s: texts of similar length, longest first.
    """
    import torch
    from .._progress import progress_bar

    runner, takes = _runner(model, tokenizer, texts, batch_size=batch_size, max_length=max_length,
                            add_special_tokens=add_special_tokens, device=device, padding_side=padding_side,
                            lengths=lengths)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for index in progress_bar(runner.batches(), disable=not progress, desc=desc, unit="batch"):
                yield index, runner.kwargs(index, takes)
    finally:
        model.train(was_training)


def _pooled_embeddings(output, mask):
    """The mean over real tokens of a base model's last representation, as float32 numpy (one row per text)."""
    from ..adapters.pooling import pool

    hidden = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]
    return pool(hidden, mask, "mean").float().cpu().numpy()


def _embeddings(model, tokenizer, texts, *, batch_size, max_length, add_special_tokens, device, progress, desc,
                lengths=None):
    """Each text's mean over real tokens of the model's last representation, float64, in text order."""
    base = model.base_model
    out = None
    for index, kwargs in _batches(base, tokenizer, texts, batch_size=batch_size, max_length=max_length,
                                  add_special_tokens=add_special_tokens, device=device,
                                  padding_side=_encoder_padding(tokenizer), progress=progress, desc=desc,
                                  lengths=lengths):
        vectors = _pooled_embeddings(base(**kwargs), kwargs["attention_mask"])
        if out is None:
            out = np.empty((len(texts), vectors.shape[1]), dtype=np.float64)
        out[index] = vectors
    return out


def _mean_nll(model, tokenizer, texts, *, batch_size, max_length, add_special_tokens, device, progress, desc,
              lengths=None):
    """Mean next-token negative log-likelihood (nats) over all predicted tokens, and their count."""
    import torch

    total, count = 0.0, 0
    for _, kwargs in _batches(model, tokenizer, texts, batch_size=batch_size, max_length=max_length,
                              add_special_tokens=add_special_tokens, device=device, padding_side="right",
                              progress=progress, desc=desc, lengths=lengths):
        logits = model(**kwargs).logits.float()
        input_ids, mask = kwargs["input_ids"], kwargs["attention_mask"]
        nll = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), input_ids[:, 1:], reduction="none")
        real = (mask[:, :-1] * mask[:, 1:]).bool()
        total += float(nll[real].sum())
        count += int(real.sum())
    if count == 0:
        raise InputError("No token to predict: every text is a single token. Use longer texts for perplexity.")
    return total / count, count
