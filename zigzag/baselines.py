"""Baseline pruning criteria from the residual stream: angular distance and Block Influence.

Both compare the residual stream entering and leaving blocks, from the same
forward pass the point clouds come from. With L blocks, ``x^l`` (l = 0..L) is
the input of block l (``x^0``: the embeddings) and ``x^L`` is the raw output of
the last block (before the final norm).

* **Angular distance** (Gromov et al. 2024, *The Unreasonable Ineffectiveness
  of the Deeper Layers*): ``d(x^l, x^{l+m}) = arccos(cos(x^l, x^{l+m})) / pi``,
  averaged over texts at the last real token (``tokens="last"``, the paper's
  choice) or over every real token (``tokens="all"``). For m blocks, remove the
  window ``l* .. l*+m-1`` with ``l* = argmin_l d(x^l, x^{l+m})``.
* **Block Influence** (Men et al. 2024, *ShortGPT*):
  ``BI(l) = 1 - mean over real tokens of cos(x^l, x^{l+1})``; remove the m
  blocks with the lowest BI.

Both return :class:`zigzag.pruning.PrunePlan`, the type of the topological
criterion, so plans can be compared side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ._frozen import FrozenRecord
from ._validation import check_int, check_option
from .adapters.tokens import DEFAULT_BATCH_SIZE
from .errors import InputError
from .pruning import PrunePlan

__all__ = [
    "BlockDistances",
    "angular_distance",
    "block_distances",
    "block_distances_from_states",
    "observe_block_distances",
    "angular_distance_plan",
    "block_influence_plan",
    "baseline_plans",
]


def angular_distance(a, b) -> np.ndarray:
    """``arccos(cos(a, b)) / pi`` along the last axis, in [0, 1].

    Parameters
    ----------
    a, b : array-like of shape (..., n_features)

    Returns
    -------
    ndarray of shape (...)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return np.arccos(np.clip(cos, -1.0, 1.0)) / np.pi


@dataclass(frozen=True, eq=False)
class BlockDistances(FrozenRecord):
    """Mean similarities between every pair of residual-stream states x^i, x^j (i, j = 0..L).

    Attributes
    ----------
    angular_last : ndarray of shape (L + 1, L + 1)
        Mean over texts of ``arccos(cos)/pi`` at the last real token.
    angular_tokens : ndarray of shape (L + 1, L + 1)
        The same, averaged over every real token of every text.
    cosine_tokens : ndarray of shape (L + 1, L + 1)
        Mean cosine over every real token.
    n_texts, n_tokens : int
    meta : mapping
    """

    angular_last: np.ndarray
    angular_tokens: np.ndarray
    cosine_tokens: np.ndarray
    n_texts: int
    n_tokens: int
    meta: Mapping = field(default_factory=dict)

    def __post_init__(self):
        for name in ("angular_last", "angular_tokens", "cosine_tokens"):
            array = np.array(getattr(self, name), dtype=float)
            array.setflags(write=False)
            object.__setattr__(self, name, array)
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def n_blocks(self) -> int:
        """Number of blocks L."""
        return self.cosine_tokens.shape[0] - 1

    def block_influence(self) -> np.ndarray:
        """``BI(l) = 1 - mean cos(x^l, x^{l+1})`` over tokens: ndarray of shape (L,)."""
        return 1.0 - np.diagonal(self.cosine_tokens, offset=1)

    def angular_profile(self, m: int, tokens: str = "last") -> np.ndarray:
        """``d(x^l, x^{l+m})`` for l = 0..L-m: ndarray of shape (L - m + 1,)."""
        m = check_int(m, "m", minimum=1, caller="angular_profile")
        if m > self.n_blocks:
            raise ValueError(f"Cannot remove m={m} blocks from a model with {self.n_blocks}.")
        tokens = check_option(tokens, "tokens", ("last", "all"), caller="angular_profile")
        matrix = self.angular_last if tokens == "last" else self.angular_tokens
        return np.diagonal(matrix, offset=m).copy()


def block_distances_from_states(hidden_states, attention_mask=None) -> BlockDistances:
    """:class:`BlockDistances` of one batch of per-token states.

    Parameters
    ----------
    hidden_states : sequence of L + 1 arrays or tensors of shape (batch, n_tokens, n_features)
        ``x^0 .. x^L``.
    attention_mask : array of shape (batch, n_tokens), optional
        1 for real tokens; default all.

    Returns
    -------
    BlockDistances
    """
    import torch

    states = [torch.as_tensor(np.asarray(h) if not isinstance(h, torch.Tensor) else h) for h in hidden_states]
    mask = None if attention_mask is None else torch.as_tensor(np.asarray(attention_mask) if not isinstance(attention_mask, torch.Tensor) else attention_mask)
    sums = _Sums()
    sums.add(states, mask)
    return sums.result({})


_CHUNK_BYTES = 64 << 20


def _unit(x):
    """Rows of ``x`` (a torch tensor) in float64, scaled to unit length."""
    import torch

    return torch.nn.functional.normalize(x.to(torch.float64), dim=-1)


class _Sums:
    """Running sums over batches of the pairwise statistics."""

    def __init__(self):
        self.angular_last = self.angular_tokens = self.cosine_tokens = 0.0
        self.n_texts = self.n_tokens = 0

    def add(self, states, mask):
        import torch

        n_layers = len(states)
        batch, n_tok = states[0].shape[:2]
        device = states[0].device
        mask = torch.ones(batch, n_tok, dtype=torch.bool, device=device) if mask is None else mask.to(device).bool()
        last = (torch.cumsum(mask.long(), 1) == mask.sum(1, keepdim=True)) & mask
        rows, cols = torch.nonzero(mask, as_tuple=True)
        at_last = torch.stack([_unit(s[torch.arange(batch, device=device), last.long().argmax(1)]) for s in states])
        cos_last = torch.einsum("ibd,jbd->bij", at_last, at_last).clamp(-1, 1)  # (B, L+1, L+1)
        self.angular_last = self.angular_last + (torch.arccos(cos_last) / torch.pi).sum(0).cpu().numpy()
        # every real token, in chunks that keep the float64 copy near _CHUNK_BYTES whatever the model's size
        chunk = max(1, _CHUNK_BYTES // (8 * n_layers * states[0].shape[-1]))
        for start in range(0, rows.numel(), chunk):
            r, c = rows[start:start + chunk], cols[start:start + chunk]
            real = torch.stack([_unit(s[r, c]) for s in states])  # (L+1, n_chunk, D)
            cos_tok = torch.einsum("itd,jtd->tij", real, real).clamp(-1, 1)
            self.cosine_tokens = self.cosine_tokens + cos_tok.sum(0).cpu().numpy()
            self.angular_tokens = self.angular_tokens + (torch.arccos(cos_tok) / torch.pi).sum(0).cpu().numpy()
        self.n_texts += batch
        self.n_tokens += int(rows.numel())

    def result(self, meta) -> BlockDistances:
        return BlockDistances(self.angular_last / self.n_texts, self.angular_tokens / self.n_tokens,
                              self.cosine_tokens / self.n_tokens, self.n_texts, self.n_tokens, meta)


def block_distances(model, tokenizer, texts, *, batch_size: int = DEFAULT_BATCH_SIZE, max_length: int | None = None, device=None,
                    add_special_tokens: bool | None = None, padding_side: str | None = None,
                    progress: bool = True) -> BlockDistances:
    """Run texts through a transformers model and measure how much each span of blocks turns the residual stream.

    Parameters are those of :func:`zigzag.extract` (the states are the
    ``hook="residual"`` ones with ``final_norm=False``: embeddings, then the raw
    output of every block).

    Returns
    -------
    BlockDistances
        Feed it to :func:`angular_distance_plan`, :func:`block_influence_plan`
        or :func:`baseline_plans`.
    """
    from .adapters.hf import BatchRunner, resolve_hook
    from .texts import as_texts, texts_sha256

    texts = as_texts(texts, minimum=1, caller="block_distances")
    batch_size = check_int(batch_size, "batch_size", minimum=1, caller="block_distances")
    names, sources, family = resolve_hook(model, "residual", final_norm=False)
    from .adapters.tokens import resolve_max_length

    max_length = resolve_max_length(model, tokenizer, max_length, caller="block_distances")  # as for extract
    if add_special_tokens is None:
        add_special_tokens = family.kind == "encoder"
    padding_side = padding_side or "right"
    runner = BatchRunner(model, tokenizer, texts, sources, batch_size=batch_size, max_length=max_length,
                         add_special_tokens=add_special_tokens, padding_side=padding_side, device=device,
                         structure=family)
    sums = _Sums()
    holder = {}

    def keep(hidden, mask):
        holder["mask"] = mask
        return hidden

    for _, states in runner.run(keep, progress=progress):
        sums.add(states, holder["mask"])
    config = getattr(model, "config", None)
    meta = {"model": getattr(config, "_name_or_path", "") or type(model).__name__, "family": family.name,
            "names": names, "texts_sha256": texts_sha256(texts), "add_special_tokens": bool(add_special_tokens)}
    return sums.result(meta)


class DistanceRecorder:
    """Block distances measured from the forward passes a model runs anyway; see :func:`observe_block_distances`."""

    def __init__(self, model):
        from .adapters.families import family_of
        from .adapters.hf import resolve_hook
        from .adapters.structure import find_structure

        family = family_of(model)
        structure = find_structure(model)
        base = model.base_model
        self.model, self.family, self.n_blocks = model, family, structure.n_blocks
        self._n_calls = sum(structure.n_runs(i) for i in range(self.n_blocks))  # a looped block: every run
        self._slot = {block: k + 1 for k, block in enumerate(structure.running)}  # blocks that do not run: none
        self.names = resolve_hook(model, "residual", final_norm=False)[0]
        self.layout = (structure.time_major, structure.text_start)  # of the blocks' tensors (XLNet, CPM-Ant)
        self.sums = _Sums()
        self._mask, self._shape = None, None
        self._reset()
        self._handles = [base.register_forward_pre_hook(self._start, with_kwargs=True),
                         model.get_submodule(structure.block_path(0)).register_forward_pre_hook(
                             self._block_input, with_kwargs=True)]
        self._handles += [model.get_submodule(structure.block_output_path(i)).register_forward_hook(
            self._block_output(i)) for i in self._slot]

    def _reset(self):
        self._states, self._calls = [None] * (len(self._slot) + 1), 0

    def _start(self, module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        self._mask = kwargs.get("attention_mask")
        self._shape = tuple(ids.shape) if ids is not None else None
        self._reset()

    def _state(self, hidden):
        from .adapters.hf import check_output

        if self._shape is None:
            return hidden
        return check_output(hidden, self._shape, "block", *self.layout)

    def _block_input(self, module, args, kwargs):
        if self._calls == 0:  # the first run of block 0 reads the embeddings
            self._states[0] = self._state(args[0] if args else kwargs["hidden_states"])

    def _block_output(self, i):
        def hook(module, args, output):  # a looped block: the last run wins
            self._states[self._slot[i]] = self._state(output[0] if isinstance(output, (tuple, list)) else output)
            self._calls += 1
            if self._calls == self._n_calls:
                self.sums.add(self._states, self._mask)
                self._reset()

        return hook

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def result(self, texts=None, *, add_special_tokens: bool | None = None) -> BlockDistances:
        """The distances over every pass seen so far (``texts``, when given, go into the provenance)."""
        from .texts import texts_sha256

        if self.sums.n_texts == 0:
            raise InputError("No forward pass of the model ran while its block distances were observed.")
        config = getattr(self.model, "config", None)
        meta = {"model": getattr(config, "_name_or_path", "") or type(self.model).__name__,
                "family": self.family.name, "names": self.names}
        if texts is not None:
            meta["texts_sha256"] = texts_sha256(texts)
        if add_special_tokens is not None:
            meta["add_special_tokens"] = bool(add_special_tokens)
        return self.sums.result(meta)


@contextmanager
def observe_block_distances(model):
    """Measure :class:`BlockDistances` from the forward passes that run inside the ``with`` block.

    Hooks read the residual stream where :func:`block_distances` reads it
    (the input of block 0, then the raw output of every block) and the
    attention mask of each pass, so the baselines need no pass of their own:
    wrap :func:`zigzag.extract` (any hook, any pooling) and the distances
    come from its pass, equal to :func:`block_distances` on the same texts,
    batches and tokenisation.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model of a known family (:data:`zigzag.adapters.FAMILIES`).

    Yields
    ------
    DistanceRecorder
        Call ``recorder.result(texts)`` after the passes.

    Examples
    --------
    >>> import zigzag
    >>> model, tokenizer = zigzag.load_embedded_model()
    >>> texts = zigzag.builtin_corpus(24)
    >>> with observe_block_distances(model) as recorder:
    ...     clouds = zigzag.extract(model, tokenizer, texts, progress=False)
    >>> sorted(baseline_plans(recorder.result(texts), m=2))
    ['angular-all', 'angular-last', 'block-influence']
    """
    recorder = DistanceRecorder(model)
    try:
        yield recorder
    finally:
        recorder.close()


def angular_distance_plan(distances: BlockDistances, m: int, *, tokens: str = "last") -> PrunePlan:
    """Gromov et al.: remove the window of m blocks whose input and output are closest in angle.

    Parameters
    ----------
    distances : BlockDistances
    m : int
        Number of blocks to remove, 1..L.
    tokens : {"last", "all"}, default="last"

    Returns
    -------
    PrunePlan
        ``criterion`` ``"angular-last"`` or ``"angular-all"``; ``scores`` the
        window distances ``d(x^l, x^{l+m})`` for l = 0..L-m (lowest removed);
        ``params["window_start"]`` the chosen l.
    """
    scores = distances.angular_profile(m, tokens)
    start = int(np.argmin(scores))
    return PrunePlan(f"angular-{tokens}", blocks=range(start, start + m), n_blocks=distances.n_blocks, scores=scores,
                     blocks_requested=m, params={"window_start": start, "tokens": tokens,
                                                 "scores": "arccos(cos(x^l, x^(l+m)))/pi per window start l",
                                                 **_provenance(distances)})


def block_influence_plan(distances: BlockDistances, m: int) -> PrunePlan:
    """ShortGPT: remove the m blocks with the lowest Block Influence (ties: the earlier block).

    Returns
    -------
    PrunePlan
        ``criterion`` ``"block-influence"``; ``scores`` BI per block, shape (L,).
    """
    m = check_int(m, "m", minimum=1, caller="block_influence_plan")
    if m > distances.n_blocks:
        raise ValueError(f"Cannot remove m={m} blocks from a model with {distances.n_blocks}.")
    scores = distances.block_influence()
    blocks = np.argsort(scores, kind="stable")[:m]
    return PrunePlan("block-influence", blocks=blocks, n_blocks=distances.n_blocks, scores=scores, blocks_requested=m,
                     params={"scores": "1 - mean cos(x^l, x^(l+1)) over real tokens, per block",
                             **_provenance(distances)})


def baseline_plans(distances: BlockDistances, m: int) -> dict:
    """The three baseline plans for m blocks: ``{"angular-last", "angular-all", "block-influence"}``."""
    plans = [angular_distance_plan(distances, m, tokens="last"), angular_distance_plan(distances, m, tokens="all"),
             block_influence_plan(distances, m)]
    return {plan.criterion: plan for plan in plans}


def _provenance(distances: BlockDistances) -> dict:
    return {"n_texts": distances.n_texts, "n_tokens": distances.n_tokens,
            **{k: distances.meta[k] for k in ("model", "texts_sha256") if k in distances.meta}}
