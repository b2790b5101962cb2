"""Which decoder blocks to remove: the zigzag criterion and the plan type every criterion shares.

Index convention (docs/conventions.md). A model with L blocks gives n = L + 1
representations: representation ``l`` (0-based) is the output of block ``l``
for ``l = 0 .. L-1``, and representation ``L = n - 1`` is the last one (the
final norm on models that have one, the last block's output on BERT). A
profile ``r`` therefore has n entries, blocks are indexed ``0 .. n-2``, and the
last representation counts for the maximum of ``r`` but is never removed.

A plan that removes every block, or all but one, leaves no useful model: it
is kept (so a report can show it) but marked :attr:`PrunePlan.degenerate`.
A profile that is zero everywhere (no bars of the dimension asked for) names
no block at all, and :func:`prune_plans` refuses it with the fix.

The zigzag criterion (Gardinazzi et al.) uses the average persistence
similarity ``r(l) = S̄_1(l)`` (see :func:`zigzag.descriptors.average_similarity`):
a block whose representation shares most of its 1-cycles with every other
layer adds little and can go.

* tolerance ``q``: remove the blocks ``l < n-1`` with ``r(l) >= q * max r``;
* exact count ``m``: remove the contiguous window of m blocks with the
  highest mean ``r``.

:class:`PrunePlan` is the result of any criterion (zigzag, angular distance,
Block Influence, ...), so plans can be compared and applied the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ._frozen import FrozenRecord
from ._files import jsonable
from ._validation import barcode_max_dim, check_float, check_int, check_option, python_scalar
from .barcode import check_barcode
from .errors import InputError

__all__ = [
    "PrunePlan",
    "pruning_profile",
    "prune_plan",
    "prune_plans",
    "threshold_blocks",
    "best_window",
    "format_blocks",
]

NORMALIZATIONS = ("column", "row", "none")


@dataclass(frozen=True, eq=False)
class PrunePlan(FrozenRecord):
    """Blocks to remove from a model, and where that choice came from.

    Parameters
    ----------
    criterion : str
        Name of the rule, e.g. ``"zigzag-S1"``, ``"angular-last"``,
        ``"block-influence"``.
    blocks : iterable of int
        0-based decoder-block indices to remove; stored sorted and unique as a
        tuple.
    n_blocks : int
        Number of blocks L of the model (blocks are ``0 .. L-1``).
    scores : array-like of shape (n_scores,)
        The per-layer profile the plan came from (for the zigzag criterion
        ``n_scores = L + 1``: one per representation, the last representation last).
    q : float or None, default=None
        The tolerance, when the plan came from a threshold.
    blocks_requested : int or None, default=None
        The number of blocks asked for, when the plan came from a count.
    params : mapping, default={}
        Everything else that made the plan (homology dimension,
        normalisation, window rule, the barcode's parameters, ...).

    Raises
    ------
    ValueError
        If a block index lies outside ``0 .. n_blocks-1``.

    Examples
    --------
    >>> plan = PrunePlan("manual", blocks=[3, 2], n_blocks=8, scores=np.zeros(9))
    >>> plan.blocks, plan.n_removed
    ((2, 3), 2)
    """

    criterion: str
    blocks: tuple
    n_blocks: int
    scores: np.ndarray
    q: float | None = None
    blocks_requested: int | None = None
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        n_blocks = check_int(self.n_blocks, "n_blocks", minimum=0, caller="PrunePlan")
        blocks = tuple(sorted({int(b) for b in np.asarray(list(self.blocks), dtype=np.int64).ravel()}))
        if blocks and (blocks[0] < 0 or blocks[-1] >= n_blocks):
            raise ValueError(
                f"The 'blocks' of PrunePlan must be 0-based indices in 0..{n_blocks - 1} "
                f"(n_blocks={n_blocks}); got {list(blocks)}."
            )
        scores = np.array(self.scores, dtype=float).ravel()
        scores.setflags(write=False)
        object.__setattr__(self, "n_blocks", n_blocks)
        object.__setattr__(self, "blocks", blocks)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "q", None if self.q is None else float(self.q))
        object.__setattr__(
            self, "blocks_requested", None if self.blocks_requested is None else int(self.blocks_requested)
        )
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def n_removed(self) -> int:
        """Number of blocks the plan removes."""
        return len(self.blocks)

    @property
    def kept(self) -> tuple:
        """0-based indices of the blocks that stay, ascending."""
        removed = set(self.blocks)
        return tuple(b for b in range(self.n_blocks) if b not in removed)

    @property
    def label(self) -> str:
        """Short text naming the rule: ``"q=0.9"``, ``"m=8"`` or the criterion."""
        if self.q is not None:
            return f"q={self.q:g}"
        if self.blocks_requested is not None:
            return f"m={self.blocks_requested}"
        return self.criterion

    def ranges(self) -> list:
        """The removed blocks as inclusive ``(first, last)`` runs, e.g. ``[(20, 27)]``."""
        runs = []
        for b in self.blocks:
            if runs and b == runs[-1][1] + 1:
                runs[-1][1] = b
            else:
                runs.append([b, b])
        return [tuple(r) for r in runs]

    @property
    def degenerate(self) -> str | None:
        """Why the plan leaves no useful model, or None: it removes every block, or all but one.

        Such a plan is still a valid answer of its rule (a flat profile puts
        every block above ``q * max r``), so it is kept and shown, but it is
        not applied: :func:`zigzag.models.prune_model` refuses to remove
        every block, and a single block left is no model to evaluate.
        """
        if self.n_blocks and self.n_removed == self.n_blocks:
            return f"removes all {self.n_blocks} blocks"
        if self.n_blocks > 1 and self.n_removed == self.n_blocks - 1:
            return f"keeps only 1 of {self.n_blocks} blocks"
        return None

    def describe(self) -> str:
        """One line for people: rule, removed blocks as ranges, count out of total (and why it is degenerate)."""
        text = (f"{self.criterion} {self.label}: remove blocks {format_blocks(self)} "
                f"({self.n_removed} of {self.n_blocks})")
        return text + (f"; degenerate: {self.degenerate}" if self.degenerate else "")

    def __repr__(self) -> str:
        rule = f"q={self.q:g}, " if self.q is not None else ""
        rule += f"blocks_requested={self.blocks_requested}, " if self.blocks_requested is not None else ""
        return (
            f"PrunePlan(criterion={self.criterion!r}, {rule}blocks={list(self.blocks)}, "
            f"n_removed={self.n_removed}, n_blocks={self.n_blocks})"
        )

    def to_dict(self) -> dict:
        """Plain, JSON-ready dict of every field (``scores`` as a list)."""
        return {
            "criterion": self.criterion,
            "blocks": list(self.blocks),
            "n_blocks": self.n_blocks,
            "n_removed": self.n_removed,
            "q": self.q,
            "blocks_requested": self.blocks_requested,
            "scores": [float(v) for v in self.scores],
            "params": jsonable(dict(self.params)),
            "degenerate": self.degenerate,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "PrunePlan":
        """Inverse of :meth:`to_dict` (``n_removed`` and ``degenerate`` are recomputed)."""
        return cls(
            criterion=data["criterion"], blocks=data["blocks"], n_blocks=data["n_blocks"],
            scores=data.get("scores", []), q=data.get("q"), blocks_requested=data.get("blocks_requested"),
            params=data.get("params", {}),
        )


def format_blocks(blocks) -> str:
    """Block indices as ranges for people: ``"20-27"``, ``"1, 3-5"``, ``"none"``.

    Parameters
    ----------
    blocks : PrunePlan or iterable of int

    Examples
    --------
    >>> format_blocks([3, 4, 5, 9])
    '3-5, 9'
    >>> format_blocks([])
    'none'
    """
    if isinstance(blocks, PrunePlan):
        blocks = blocks.blocks
    runs = []
    for b in sorted({int(b) for b in blocks}):
        if runs and b == runs[-1][1] + 1:
            runs[-1][1] = b
        else:
            runs.append([b, b])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs) or "none"


# ---------------------------------------------------------------- generic rules on a score profile
def threshold_blocks(scores, q: float) -> tuple:
    """Blocks ``l < n-1`` with ``scores[l] >= q * max(scores)`` (the maximum over all n entries).

    Parameters
    ----------
    scores : array-like of shape (n,)
        One score per representation, the last representation (never removed) last.
    q : float in [0, 1]

    Returns
    -------
    tuple of int
    """
    scores = np.asarray(scores, dtype=float)
    top = np.nanmax(scores) if scores.size else 0.0
    hits = np.flatnonzero(scores[:-1] >= q * top)
    return tuple(int(b) for b in hits)


def best_window(scores, m: int, *, highest: bool = True) -> tuple:
    """The ``m`` contiguous indices whose scores have the highest (or lowest) mean.

    Ties go to the earliest window.

    Parameters
    ----------
    scores : array-like of shape (n_candidates,)
        One score per candidate block (pass ``scores[:-1]`` to leave out the
        last representation).
    m : int
        Window length, ``1 <= m <= n_candidates``.
    highest : bool, default=True
        Take the window with the highest mean; False for the lowest.

    Returns
    -------
    tuple of int
        ``(start, ..., start + m - 1)``.
    """
    scores = np.asarray(scores, dtype=float)
    m = check_int(m, "m", minimum=1, caller="best_window")
    if m > scores.size:
        raise ValueError(f"Cannot take a window of {m} blocks out of {scores.size}; pass m <= {scores.size}.")
    csum = np.concatenate([[0.0], np.cumsum(scores)])
    sums = csum[m:] - csum[:-m]
    start = int(np.argmax(sums) if highest else np.argmin(sums))
    return tuple(range(start, start + m))


# ---------------------------------------------------------------- the zigzag criterion
def pruning_profile(barcode, *, dim: int = 1, normalization: str = "column") -> np.ndarray:
    """The profile ``r(l)`` that drives the zigzag criterion, one value per representation.

    ``r = S̄_p`` (:func:`zigzag.descriptors.average_similarity`), by default
    ``p = 1`` with column normalisation, as in the paper.

    Parameters
    ----------
    barcode : Barcode
    dim : int, default=1
        Homology dimension p.
    normalization : {"column", "row", "none"}, default="column"
        ``"column"``: ``S(l, j) / beta(j)`` (paper); ``"row"``:
        ``S(l, j) / beta(l)``; ``"none"``: raw ``S(l, j)``.

    Returns
    -------
    ndarray of shape (n_layers,)
    """
    from .descriptors import average_similarity

    return average_similarity(barcode, dim=dim, normalization=normalization)


def prune_plans(barcode, q=(), blocks=(), *, dim: int = 1, normalization: str = "column") -> list:
    """Zigzag pruning plans for several tolerances and/or block counts at once.

    Parameters
    ----------
    barcode : Barcode
        Over n = L + 1 representations (the last one is never removed).
    q : float or iterable of float, default=()
        Tolerances in [0, 1]: remove the blocks ``l < n-1`` with
        ``r(l) >= q * max r``. 0.9 and 0.8 are the paper's "10%" and "20%".
    blocks : int or iterable of int, default=()
        Exact numbers m of blocks: remove the contiguous window of m blocks
        with the highest mean ``r``.
    dim : int, default=1
        Homology dimension p of ``r = S̄_p``.
    normalization : {"column", "row", "none"}, default="column"
        See :func:`pruning_profile`.

    Returns
    -------
    list of PrunePlan
        The q plans first (in the order given), then the m plans.

    Examples
    --------
    >>> from zigzag import Barcode
    >>> bars = Barcode.from_arrays([1, 1, 1, 1], [0, 1, 2, 4], [7, 5, 3, 7], n_layers=4)
    >>> pruning_profile(bars).round(3).tolist()
    [0.542, 0.792, 0.917, 0.75]
    >>> plans = prune_plans(bars, q=[0.9, 0.8])
    >>> [p.ranges() for p in plans]
    [[(2, 2)], [(1, 2)]]
    """
    check_barcode(barcode, "prune_plans", min_layers=2)
    dim = check_int(dim, "dim", minimum=0, caller="prune_plans")
    normalization = check_option(normalization, "normalization", NORMALIZATIONS, caller="prune_plans")
    qs = [q] if np.isscalar(q) else list(q)
    qs = [check_float(python_scalar(v), "q", low=0.0, high=1.0, caller="prune_plans") for v in qs]
    ms = [blocks] if np.isscalar(blocks) else list(blocks)
    ms = [python_scalar(m) for m in ms]
    n_blocks = barcode.n_layers - 1
    ms = [check_int(m, "blocks", minimum=1, caller="prune_plans") for m in ms]
    for m in ms:
        if m > n_blocks:
            raise ValueError(
                f"The 'blocks' parameter of prune_plans must be at most the number of blocks {n_blocks} "
                f"(n_layers - 1); got {m}."
            )
    r = pruning_profile(barcode, dim=dim, normalization=normalization)
    if not np.any(r > 0):
        raise InputError(_zero_profile_message(barcode, dim))
    criterion = f"zigzag-S{dim}"
    params = {"dim": dim, "normalization": normalization, "barcode": dict(barcode.params)}
    plans = [
        PrunePlan(criterion, threshold_blocks(r, qv), n_blocks, r, q=qv, params={**params, "rule": "threshold"})
        for qv in qs
    ]
    plans += [
        PrunePlan(criterion, best_window(r[:-1], m), n_blocks, r, blocks_requested=m,
                  params={**params, "rule": "best-window"})
        for m in ms
    ]
    return plans


def prune_plan(barcode, q: float | None = 0.9, *, blocks: int | None = None, dim: int = 1,
               normalization: str = "column") -> PrunePlan:
    """The zigzag pruning plan for one tolerance ``q`` or one exact block count.

    Parameters
    ----------
    barcode : Barcode
        Over n = L + 1 representations (the last one is never removed).
    q : float in [0, 1] or None, default=0.9
        Remove the blocks ``l < n-1`` with ``r(l) >= q * max r``. Ignored
        (may be left at its default) when ``blocks`` is given.
    blocks : int, optional
        Remove exactly this many blocks: the contiguous window with the
        highest mean ``r``.
    dim : int, default=1
        Homology dimension p of ``r = S̄_p``.
    normalization : {"column", "row", "none"}, default="column"
        See :func:`pruning_profile`.

    Returns
    -------
    PrunePlan
        ``criterion="zigzag-S1"`` (for dim 1), 0-based block indices,
        ``scores`` = the profile ``r`` of shape (n_layers,).

    Examples
    --------
    >>> from zigzag import Barcode
    >>> bars = Barcode.from_arrays([1, 1, 1, 1], [0, 1, 2, 4], [7, 5, 3, 7], n_layers=4)
    >>> prune_plan(bars, q=0.8).blocks
    (1, 2)
    >>> prune_plan(bars, blocks=1).blocks
    (2,)
    """
    if blocks is not None:
        return prune_plans(barcode, blocks=[blocks], dim=dim, normalization=normalization)[0]
    if q is None:
        raise ValueError("prune_plan needs either q (a tolerance in [0, 1], e.g. 0.9) or blocks (a count, e.g. 8).")
    return prune_plans(barcode, q=[q], dim=dim, normalization=normalization)[0]


def _zero_profile_message(barcode, dim: int) -> str:
    """Why the H_dim profile is zero at every layer, and what to do instead."""
    counts = {int(p): int(np.sum(barcode.dimension == p)) for p in barcode.dims}
    others = [p for p in sorted(counts) if counts[p] and p >= 1 and p != dim]
    fixes = [f"use dim={others[0]} (--dim {others[0]})"] if others else []
    max_dim = barcode_max_dim(barcode)
    if max_dim is not None and dim > max_dim:
        why = f"the barcode was computed up to H{int(max_dim)} only, so it has no H{dim} bars"
        fixes.append(f"recompute the barcode with max_dim >= {dim} (--max-dim {dim})")
    elif not counts.get(dim):
        held = ", ".join(f"H{p}: {n}" for p, n in sorted(counts.items()) if n) or "none"
        why = f"it has no H{dim} bars (bars per dimension: {held})"
        fixes.append("give more, and more varied, texts: identical or nearly identical points (one text repeated, "
                     "a model that maps every input to the same vector) have no cycles")
    else:
        n = counts[dim]
        bars = f"its {n} H{dim} bars all live" if n > 1 else f"its one H{dim} bar lives"
        why = f"{bars} only inside one link between two consecutive layers, so no layer has a cycle"
        fixes.append("give more, and more varied, texts")
    return (f"The H{dim} pruning profile of this barcode is zero at every layer, so it names no block to remove: "
            f"{why}. To fix it, " + ", or ".join(fixes) + ".")
