"""Model surgery: remove blocks from a transformers model.

:func:`prune_model` deletes blocks, renumbers the ``layer_idx`` the attention
caches use, and updates the config, so the result runs ``generate`` / a
forward pass and survives ``save_pretrained`` -> ``from_pretrained``.
"""

from __future__ import annotations

import copy as copy_module
import logging

from .._validation import check_int

__all__ = ["prune_model"]

log = logging.getLogger("zigzag")


def prune_model(model, blocks, *, copy: bool = True):
    """Remove blocks from a transformers model.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Any family of :data:`zigzag.adapters.FAMILIES` (decoder or encoder).
    blocks : iterable of int or PrunePlan
        0-based indices of the blocks to remove (``plan.blocks`` for a plan).
    copy : bool, default=True
        Prune a deep copy (the input model is left as it was); ``False``
        prunes in place and saves the memory of a second model.

    Returns
    -------
    transformers.PreTrainedModel
        With ``L - len(blocks)`` blocks, ``layer_idx`` renumbered 0..L'-1,
        ``config.num_hidden_layers`` and per-layer config lists (such as
        ``layer_types``) updated, and ``config.zigzag_kept_blocks`` holding the
        original indices of the blocks that remain.

    Raises
    ------
    ValueError
        Block indices out of range, repeated, or all blocks.

    Examples
    --------
    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> config = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=6,
    ...                      num_attention_heads=2, num_key_value_heads=1)
    >>> small = prune_model(LlamaForCausalLM(config), [2, 3, 4])
    >>> small.config.num_hidden_layers, small.config.zigzag_kept_blocks
    (3, [0, 1, 5])
    """
    from ..adapters.families import family_of

    family = family_of(model)
    container_path = family.blocks
    blocks_list = model.base_model.get_submodule(container_path)
    n_blocks = len(blocks_list)
    if hasattr(blocks, "blocks") and hasattr(blocks, "n_blocks"):  # a PrunePlan
        if blocks.n_blocks != n_blocks:
            raise ValueError(f"The plan is for a model with {blocks.n_blocks} blocks, this model has {n_blocks}.")
        blocks = blocks.blocks
    removed = [check_int(b, "blocks", caller="prune_model") for b in blocks]
    if len(set(removed)) != len(removed):
        raise ValueError(f"The 'blocks' of prune_model must be distinct; got {removed}.")
    bad = [b for b in removed if not 0 <= b < n_blocks]
    if bad:
        raise ValueError(f"The 'blocks' of prune_model must be 0-based indices in 0..{n_blocks - 1}; got {bad}.")
    kept = [i for i in range(n_blocks) if i not in set(removed)]
    if not kept:
        raise ValueError(f"prune_model would remove all {n_blocks} blocks; keep at least one.")
    if copy:
        model = copy_module.deepcopy(model)
    import torch

    base = model.base_model
    old = base.get_submodule(container_path)
    parent_path, _, attr = container_path.rpartition(".")
    parent = base.get_submodule(parent_path) if parent_path else base
    setattr(parent, attr, torch.nn.ModuleList([old[i] for i in kept]))
    for new_index, block in enumerate(base.get_submodule(container_path)):
        for module in block.modules():
            if isinstance(getattr(module, "layer_idx", None), int):
                module.layer_idx = new_index
    _prune_config(model.config, kept, n_blocks)
    log.info("pruned blocks %s of %d (%s)", removed, n_blocks, family.name)
    return model


def _prune_config(config, kept, n_blocks: int) -> None:
    """Update the depth and every per-layer list of the config (lists of length L whose name mentions layers)."""
    for name, value in list(vars(config).items()):
        if isinstance(value, (list, tuple)) and len(value) == n_blocks and "layer" in name and name != "zigzag_kept_blocks":
            setattr(config, name, type(value)(value[i] for i in kept))
    original = list(getattr(config, "zigzag_kept_blocks", None) or range(n_blocks))
    config.zigzag_kept_blocks = [original[i] for i in kept]
    config.num_hidden_layers = len(kept)
