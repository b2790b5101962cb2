"""One vector per input from per-token activations, using the attention mask.

Pooling rules (``mask`` marks the real tokens, so padding on either side is
handled the same way):

* ``"last"``: the last real token (the paper's default);
* ``"first"``: the first real token;
* ``"mean"``: the mean over real tokens;
* an ``int`` ``p``: the real token at position ``p`` (0-based; negative counts
  from the end, ``-1`` is ``"last"``).
"""

from __future__ import annotations

import numbers

__all__ = ["POOLINGS", "check_pooling", "pool"]

POOLINGS = ("last", "first", "mean")


def check_pooling(pooling, caller: str = "extract"):
    """Return ``pooling`` if valid (a name in :data:`POOLINGS` or an int), else raise."""
    if isinstance(pooling, numbers.Integral) and not isinstance(pooling, bool):
        return int(pooling)
    if isinstance(pooling, str) and pooling in POOLINGS:
        return pooling
    raise ValueError(
        f"The 'pooling' parameter of {caller} must be one of 'last', 'first', 'mean' or an int token "
        f"position (0-based, negative from the end). Got {pooling!r} instead."
    )


def pool(hidden, mask, pooling):
    """Pool per-token activations to one vector per input.

    Parameters
    ----------
    hidden : torch.Tensor of shape (batch, n_tokens, n_features)
    mask : torch.Tensor of shape (batch, n_tokens) or None
        1 for real tokens, 0 for padding; None means every token is real.
    pooling : {"last", "first", "mean"} or int

    Returns
    -------
    torch.Tensor of shape (batch, n_features)

    Raises
    ------
    ValueError
        If an input has no real token, or fewer tokens than an int position needs.
    """
    import torch

    batch, n_tokens = hidden.shape[:2]
    if mask is None:
        mask = torch.ones(batch, n_tokens, dtype=torch.long, device=hidden.device)
    mask = mask.to(hidden.device).bool()
    lengths = mask.sum(dim=1)
    if bool((lengths == 0).any()):
        bad = torch.nonzero(lengths == 0).ravel().tolist()
        raise ValueError(f"Inputs {bad} of the batch have no real token (empty text?); drop them before extracting.")
    if pooling == "mean":
        summed = torch.where(mask[..., None], hidden, torch.zeros((), dtype=hidden.dtype, device=hidden.device)).sum(1)
        return summed / lengths[:, None].to(hidden.dtype)
    # rank of each real token among the real tokens of its row: 0, 1, ..., length-1
    rank = torch.cumsum(mask.long(), dim=1) - 1
    if pooling == "last":
        want = lengths - 1
    elif pooling == "first":
        want = torch.zeros_like(lengths)
    else:
        want = torch.full_like(lengths, pooling) if pooling >= 0 else lengths + pooling
        if bool(((want < 0) | (want >= lengths)).any()):
            short = torch.nonzero((want < 0) | (want >= lengths)).ravel().tolist()
            raise ValueError(
                f"pooling={pooling} needs at least {pooling + 1 if pooling >= 0 else -pooling} real tokens, but inputs "
                f"{short} of the batch have only {lengths[short].tolist()}. Use pooling='last' or a smaller position."
            )
    hit = mask & (rank == want[:, None])
    index = hit.long().argmax(dim=1)
    return hidden[torch.arange(batch, device=hidden.device), index]
