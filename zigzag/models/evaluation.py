"""Evaluation: how much a pruned model keeps, measured beside the full model on the same texts.

Causal LMs: perplexity on the texts. Encoders: cosine between pooled
embeddings and how many nearest neighbours each text keeps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from .._frozen import FrozenRecord
from .._validation import check_int, check_option
from ..knn import knn_indices
from ..texts import as_texts

__all__ = ["Evaluation", "evaluate", "knn_overlap"]


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


def evaluate(model, pruned, tokenizer, texts, *, kind: str | None = None, k: int = 5, batch_size: int = 32,
             max_length: int | None = None, add_special_tokens: bool = True, device=None,
             progress: bool = True) -> Evaluation:
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
    add_special_tokens : bool, default=True
        BOS for perplexity, ``[CLS]``/``[SEP]`` for BERT.
    device : optional
    progress : bool, default=True

    Returns
    -------
    Evaluation

    Raises
    ------
    ValueError
        Too few texts, or a kind the models do not support.
    """
    from ..adapters.families import family_of

    family = family_of(model)
    has_head = getattr(model, "get_output_embeddings", lambda: None)() is not None
    if kind is None:
        kind = "causal_lm" if family.kind == "decoder" and has_head else "encoder"
    check_option(kind, "kind", ("causal_lm", "encoder"), caller="evaluate")
    k = check_int(k, "k", minimum=1, caller="evaluate")
    texts = as_texts(texts, minimum=k + 1 if kind == "encoder" else 1, caller="evaluate")
    n_full = len(model.base_model.get_submodule(family.blocks))
    n_pruned = len(pruned.base_model.get_submodule(family.blocks))
    params = {"k": k, "batch_size": batch_size, "max_length": max_length, "add_special_tokens": add_special_tokens,
              "kept_blocks": list(getattr(pruned.config, "zigzag_kept_blocks", []) or [])}
    if kind == "causal_lm":
        if not has_head:
            raise ValueError(f"kind='causal_lm' needs a model with a language-model head; {type(model).__name__} has none.")
        run = dict(batch_size=batch_size, max_length=max_length, add_special_tokens=add_special_tokens,
                   device=device, progress=progress)
        nll_full, n_tokens = _mean_nll(model, tokenizer, texts, **run)
        nll_pruned, _ = _mean_nll(pruned, tokenizer, texts, **run)
        metrics = {"perplexity_full": math.exp(nll_full), "perplexity_pruned": math.exp(nll_pruned),
                   "perplexity_ratio": math.exp(nll_pruned - nll_full), "nll_full": nll_full,
                   "nll_pruned": nll_pruned, "n_tokens": n_tokens}
    else:
        from ..adapters.hf import extract

        run = dict(hook="residual", pooling="mean", batch_size=batch_size, max_length=max_length,
                   add_special_tokens=add_special_tokens, device=device, progress=progress)
        a = np.asarray(extract(model, tokenizer, texts, **run).layers[-1], dtype=np.float64)
        b = np.asarray(extract(pruned, tokenizer, texts, **run).layers[-1], dtype=np.float64)
        cos = _unit(a) * _unit(b)
        cos = cos.sum(1)
        metrics = {"mean_cosine": cos.mean(), "min_cosine": cos.min(), "knn_overlap": knn_overlap(a, b, k)}
    return Evaluation(kind, metrics, n_full, n_pruned, len(texts), params)


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


def _mean_nll(model, tokenizer, texts, *, batch_size, max_length, add_special_tokens, device, progress):
    """Mean next-token negative log-likelihood (nats) over all predicted tokens, and their count."""
    import torch
    from tqdm.auto import tqdm

    from ..adapters.hf import BatchRunner

    runner = BatchRunner(model, tokenizer, texts, [], batch_size=batch_size, max_length=max_length,
                         add_special_tokens=add_special_tokens, padding_side="right", device=device)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.inference_mode():
            for s in tqdm(range(0, len(texts), batch_size), disable=not progress, desc="perplexity", unit="batch"):
                input_ids, mask, position_ids = runner.encode(texts[s:s + batch_size])
                input_ids, mask = input_ids.to(runner.device), mask.to(runner.device)
                logits = model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids.to(runner.device),
                               use_cache=False).logits.float()
                nll = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), input_ids[:, 1:], reduction="none")
                real = (mask[:, :-1] * mask[:, 1:]).bool()
                total += float(nll[real].sum())
                count += int(real.sum())
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("No token to predict: every text is a single token. Use longer texts for perplexity.")
    return total / count, count
