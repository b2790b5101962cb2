"""The evaluation's reference outputs read from a forward pass the model runs anyway (the extraction's).

An encoder's reference (each text's mean-pooled last representation, see
:func:`zigzag.models.reference_outputs`) is what the base model returns on
the evaluation's batches. :func:`observe_reference` hooks the base model
while :func:`zigzag.extract` runs, keeping every batch's inputs and pooled
output; :meth:`ReferenceRecorder.reference` gives a :class:`Reference` only
when those inputs are exactly the ones the evaluation would feed (same texts,
batches, tokens, padding and keywords), so its numbers are the ones a pass of
its own would give, and None otherwise (then compute one with
:func:`reference_outputs`). Causal LMs need the language-model head's logits,
which the extraction does not compute: their reference is always a pass of
its own.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

import numpy as np

from ..adapters.tokens import DEFAULT_BATCH_SIZE, truncation
from ..texts import as_texts
from .evaluation import (Reference, _encoder_padding, _pooled_embeddings, _reference_fields, _resolve_kind,
                         _runner)

__all__ = ["ReferenceRecorder", "observe_reference"]

log = logging.getLogger("zigzag")


class ReferenceRecorder:
    """Keep each base-model pass's keywords and mean-pooled last representation; see :func:`observe_reference`."""

    def __init__(self, model):
        self.model = model
        self.kind, self.family = _resolve_kind(model, None)
        self.passes = []
        self._handle = None
        if self.kind == "encoder":
            self._handle = model.base_model.register_forward_hook(self._keep, with_kwargs=True)

    def _keep(self, module, args, kwargs, output):
        if args:  # called positionally: the evaluation never does, so this pass cannot stand in for it
            self.passes.append(None)
            return
        self.passes.append(({k: v.detach().cpu() if hasattr(v, "detach") else v for k, v in kwargs.items()},
                            _pooled_embeddings(output, kwargs.get("attention_mask"))))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def reference(self, tokenizer, texts, *, batch_size: int = DEFAULT_BATCH_SIZE, max_length: int | None = None,
                  add_special_tokens: bool = True, device=None) -> Reference | None:
        """The :class:`Reference` that ``reference_outputs`` would compute with these settings, or None.

        None when the model is not an encoder, or when the observed passes are
        not exactly the evaluation's batches (other texts, batch size,
        truncation, special tokens, padding side or forward keywords).
        """
        if self.kind != "encoder" or not self.passes:
            return None
        texts = as_texts(texts, minimum=1, caller="reference")
        max_length, lengths, n_truncated = truncation(self.model, tokenizer, texts, max_length,
                                                      add_special_tokens=add_special_tokens, caller="reference",
                                                      quiet=True)
        base = self.model.base_model
        runner, takes = _runner(base, tokenizer, texts, batch_size=batch_size, max_length=max_length,
                                add_special_tokens=add_special_tokens, device=device,
                                padding_side=_encoder_padding(tokenizer), lengths=lengths)
        batches = runner.batches()
        if len(batches) != len(self.passes):
            log.info("the observed passes are not the evaluation's batches (%d passes, %d batches)",
                     len(self.passes), len(batches))
            return None
        out = None
        for index, seen in zip(batches, self.passes):
            if seen is None or not _same_keywords(seen[0], runner.kwargs(index, takes)):
                log.info("the observed passes are not the evaluation's batches; the reference needs its own pass")
                return None
            if out is None:
                out = np.empty((len(texts), seen[1].shape[1]), dtype=np.float64)
            out[index] = seen[1]
        fields = _reference_fields(self.model, self.family, self.kind, texts, batch_size, max_length,
                                   add_special_tokens, n_truncated)
        return Reference(embeddings=out, **fields)


def _same_keywords(seen: dict, wanted: dict) -> bool:
    """Whether a pass was called with exactly the keywords (and tensor values) the evaluation passes."""
    import torch

    if set(seen) != set(wanted):
        return False
    for key, value in wanted.items():
        other = seen[key]
        if isinstance(value, torch.Tensor):
            if not isinstance(other, torch.Tensor) or other.shape != value.shape or \
                    not torch.equal(other, value.cpu()):
                return False
        elif other != value:
            return False
    return True


@contextmanager
def observe_reference(model):
    """Record the evaluation's reference outputs from the forward passes that run inside the ``with`` block.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The full model.

    Yields
    ------
    ReferenceRecorder
        After the passes, ``recorder.reference(tokenizer, texts, batch_size=..., max_length=...)`` gives the
        :class:`Reference` for :func:`evaluate` when the passes were exactly the evaluation's, else None.

    Examples
    --------
    >>> import zigzag
    >>> from zigzag.models import evaluate, prune_model
    >>> model, tokenizer = zigzag.load_embedded_model()
    >>> texts = zigzag.builtin_corpus(24)
    >>> with observe_reference(model) as recorder:
    ...     clouds = zigzag.extract(model, tokenizer, texts, batch_size=8, progress=False)
    >>> reference = recorder.reference(tokenizer, texts, batch_size=8)
    >>> evaluate(model, prune_model(model, [2]), tokenizer, texts, batch_size=8, reference=reference,
    ...          progress=False).kind
    'encoder'
    """
    recorder = ReferenceRecorder(model)
    try:
        yield recorder
    finally:
        recorder.close()
