"""Model surgery: remove blocks from a transformers model.

:func:`prune_model` works on any model whose blocks are one list (found by
:func:`zigzag.adapters.find_structure`). It deletes blocks and keeps every
per-layer config entry with its block (:mod:`zigzag.models.per_layer`).
The pruned model is the model transformers builds from the pruned config,
loaded with the kept blocks' weights, so it survives ``save_pretrained`` ->
``from_pretrained`` unchanged: a skeleton of that model is built on the meta
device (no memory) and

* its weight names and shapes must be the kept ones (else a ValueError,
  before the model is touched);
* the constants a block derives from its position (``layer_idx`` and the
  other cache indices, Gemma 4's first shared-cache layer, MiniCPM's or
  Beam's depth-scaled residuals, DiffLlama's ``lambda_init``) are taken from
  it, so the kept blocks are renumbered exactly as a fresh model numbers
  them. Constants other than indices that change are logged as a warning.

Genuine exceptions: weights packed with one slice per block outside the
blocks (Gemma 3n/4 per-layer input embeddings, parameters named
``*per_layer*`` sized ``num_hidden_layers * hidden_size_per_layer_input``;
the parameters in :data:`SECTION_PACKED`) keep the kept blocks' slices.
"""

from __future__ import annotations

import copy as copy_module
import logging
import numbers
from collections.abc import Iterable

from .._validation import check_int
from .per_layer import prune_config
from ..errors import InputTypeError

__all__ = ["prune_model"]

log = logging.getLogger("zigzag")

# attributes through which a block's modules know their position (the cache slot they read and write); renumbered
# even when no skeleton can be built
INDEX_ATTRIBUTES = ("layer_idx", "layer_id", "layer_index", "layer_number", "layer_num", "block_id", "block_idx")
_SIMPLE = (int, float, bool, str, type(None))
# parameters outside the blocks that hold one row (dim 0) per block of a section [config start, config end): name
# suffix -> the config bounds. Inkling 2 Loop keeps one message query per looped block in message_input.query.
SECTION_PACKED = {"message_input.query": ("loop_layer_index_start", "loop_layer_index_end")}


def prune_model(model, blocks, *, copy: bool | str = True):
    """Remove blocks from a transformers model.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Any model with one list of blocks, decoder or encoder (Llama, Qwen3,
        Gemma 3, Phi-4, gpt-oss, Mixtral, DeepSeek-V3, GPT-2, BERT, ...).
    blocks : iterable of int or PrunePlan
        0-based indices of the blocks to remove (``plan.blocks`` for a plan).
        A plan counts the blocks that have representations: in a model whose
        text-only pass skips some blocks (Mllama's cross-attention blocks), its
        indices are mapped to the blocks that run.
    copy : bool or "shared", default=True
        Prune a deep copy (the input model is left as it was); ``False``
        prunes in place and saves the memory of a second model; ``"shared"``
        prunes a copy whose parameters are the input model's own tensors (no
        second copy of the weights, and fast): both models stay usable for
        inference, but training either one changes the other.

    Returns
    -------
    transformers.PreTrainedModel
        With ``L - len(blocks)`` blocks numbered 0..L'-1, the config's depth
        and per-layer entries updated, and ``config.zigzag_kept_blocks``
        holding the original indices of the blocks that remain.

    Raises
    ------
    TypeError
        ``blocks`` is not an iterable of ints or a PrunePlan (``prune_model(model, 2)``).
    ValueError
        Block indices out of range or repeated, all blocks, a model with no
        list of blocks, or a config that cannot describe the kept blocks (the
        message names the weights that would differ).

    Examples
    --------
    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> config = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=6,
    ...                      num_attention_heads=2, num_key_value_heads=1)
    >>> small = prune_model(LlamaForCausalLM(config), [2, 3, 4])
    >>> small.config.num_hidden_layers, small.config.zigzag_kept_blocks
    (3, [0, 1, 5])
    """
    from ..adapters.structure import find_structure

    structure = find_structure(model)
    n_blocks = structure.n_blocks
    if hasattr(blocks, "blocks") and hasattr(blocks, "n_blocks"):  # a PrunePlan
        running = structure.running  # a plan counts the blocks with representations (Mllama: no cross-attention)
        if blocks.n_blocks == len(running) != n_blocks:
            blocks = [running[b] for b in blocks.blocks]
        elif blocks.n_blocks != n_blocks:
            raise ValueError(f"The plan is for a model with {blocks.n_blocks} blocks, this model has {n_blocks}.")
        else:
            blocks = blocks.blocks
    if copy not in (True, False, "shared"):
        raise ValueError(f"The 'copy' parameter of prune_model must be True, False or 'shared'; got {copy!r}.")
    if isinstance(blocks, (str, bytes)) or not isinstance(blocks, Iterable):
        one = f" To remove one block, pass [{blocks!r}]." if isinstance(blocks, numbers.Integral) else ""
        raise InputTypeError(
            "The 'blocks' parameter of prune_model must be an iterable of ints (e.g. [2] or range(20, 28)) "
            f"or a PrunePlan; got {type(blocks).__name__} {blocks!r}.{one}"
        )
    removed = [check_int(b, "blocks", caller="prune_model") for b in blocks]
    if len(set(removed)) != len(removed):
        raise ValueError(f"The 'blocks' of prune_model must be distinct; got {removed}.")
    bad = [b for b in removed if not 0 <= b < n_blocks]
    if bad:
        raise ValueError(f"The 'blocks' of prune_model must be 0-based indices in 0..{n_blocks - 1}; got {bad}.")
    kept = [i for i in range(n_blocks) if i not in set(removed)]
    if not kept:
        raise ValueError(f"prune_model would remove all {n_blocks} blocks; keep at least one.")
    trial = copy_module.deepcopy(model.config)  # everything is checked before the model is touched
    prune_config(trial, kept, n_blocks, structure.blocks)
    packed = _packed_per_layer(model, structure.blocks, n_blocks)
    rows = _section_rows(model, kept)
    skeleton = _skeleton(model, trial)
    lists = structure.lists  # one list of blocks, or parallel lists of their parts (XLM)
    if skeleton is not None:
        expect = _expected_shapes(model, lists, kept, packed, n_blocks)
        expect.update({name: (len(r),) + expect[name][1:] for name, r in rows.items()})
        _check_weights(expect, skeleton, structure.blocks)
    _check_config(model.config, trial)
    if copy:  # "shared": the copy reuses the parameters (pruning replaces parameters, never writes into them)
        model = copy_module.deepcopy(model, {id(p): p for p in model.parameters()} if copy == "shared" else None)
    import torch

    for path in lists:
        parent_path, _, attr = path.rpartition(".")
        parent = model.get_submodule(parent_path) if parent_path else model
        old = getattr(parent, attr)
        setattr(parent, attr, torch.nn.ModuleList([old[i] for i in kept]))
        for new_index, (old_index, block) in enumerate(zip(kept, getattr(parent, attr))):
            for module in block.modules():
                for name in INDEX_ATTRIBUTES:
                    if type(getattr(module, name, None)) is int and getattr(module, name) == old_index:
                        setattr(module, name, new_index)
    for name in packed:
        _keep_slices(model.get_submodule(name), kept, n_blocks)
    for name, keep in rows.items():
        owner_path, _, param_name = name.rpartition(".")
        owner = model.get_submodule(owner_path)
        full = getattr(owner, param_name)
        setattr(owner, param_name, torch.nn.Parameter(full.data[keep].clone(), requires_grad=full.requires_grad))
    original = list(getattr(model.config, "zigzag_kept_blocks", None) or range(n_blocks))
    changed = prune_config(model.config, kept, n_blocks, structure.blocks)
    model.config.zigzag_kept_blocks = [original[i] for i in kept]
    if skeleton is not None:
        rebuilt = _take_constants(model, skeleton, lists, kept)
        if rebuilt:
            log.warning("prune_model: constants that %s derives from block positions were recomputed for the new "
                        "depth, as from_pretrained will: %s", type(model).__name__, "; ".join(rebuilt[:6]))
    log.info("pruned blocks %s of %d (%s); config entries updated: %s", removed, n_blocks,
             structure.model_type or type(model).__name__, ", ".join(changed))
    return model


def _check_config(config, trial) -> None:
    """The pruned config must pass the checks transformers runs on it (where the original one does)."""
    validate = getattr(trial, "validate", None)
    if validate is None:
        return
    try:
        config.validate()
    except Exception:  # noqa: BLE001 - the original config already fails: nothing to compare against
        return
    try:
        validate()
    except Exception as err:  # noqa: BLE001 - transformers' own checks, whatever their type
        why = " ".join(str(err).split())
        raise ValueError(f"After removing these blocks the pruned config is invalid ({why}), so the pruned model "
                         "would not reload. Remove other blocks.") from None


def _section_rows(model, kept) -> dict:
    """Parameters in :data:`SECTION_PACKED`: their name -> the rows of the kept blocks of their section."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    found = {}
    for name, _ in model.named_parameters():
        for suffix, (start, end) in SECTION_PACKED.items():
            first, stop = getattr(config, start, None), getattr(config, end, None)
            if (name == suffix or name.endswith("." + suffix)) and isinstance(first, int) and isinstance(stop, int):
                found[name] = [i - first for i in kept if first <= i < stop]
    return found


def _packed_per_layer(model, blocks_path: str, n_blocks: int) -> list:
    """Modules outside the blocks whose weight holds one slice per block (Gemma 3n/4 per-layer inputs)."""
    import torch

    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    size = getattr(config, "hidden_size_per_layer_input", None)
    if not isinstance(size, int) or size <= 0:
        return []
    found = []
    for name, module in model.named_modules():
        if "per_layer" not in name.rsplit(".", 1)[-1] or name.startswith(blocks_path + "."):
            continue
        if isinstance(module, torch.nn.Linear) and module.out_features == n_blocks * size:
            found.append(name)
        elif isinstance(module, torch.nn.Embedding) and module.embedding_dim == n_blocks * size:
            found.append(name)
    return found


def _keep_slices(module, kept, n_blocks: int) -> None:
    import torch

    index = torch.as_tensor(kept)
    if isinstance(module, torch.nn.Embedding):
        weight = module.weight.data
        per = weight.shape[1] // n_blocks
        module.weight = torch.nn.Parameter(weight.reshape(weight.shape[0], n_blocks, per)[:, index].reshape(
            weight.shape[0], -1).contiguous(), requires_grad=module.weight.requires_grad)
        module.embedding_dim = module.weight.shape[1]
    else:
        weight = module.weight.data
        per = weight.shape[0] // n_blocks
        module.weight = torch.nn.Parameter(weight.reshape(n_blocks, per, -1)[index].reshape(-1, weight.shape[1])
                                           .contiguous(), requires_grad=module.weight.requires_grad)
        if module.bias is not None:
            module.bias = torch.nn.Parameter(module.bias.data.reshape(n_blocks, per)[index].reshape(-1).contiguous(),
                                             requires_grad=module.bias.requires_grad)
        module.out_features = module.weight.shape[0]


def _skeleton(model, config):
    """The model the pruned config builds, on the meta device (no memory); None when it cannot be built there."""
    import torch

    try:
        with torch.device("meta"):
            return type(model)._from_config(copy_module.deepcopy(config))
    except Exception as err:  # noqa: BLE001 - some models cannot be built on the meta device
        log.warning("prune_model: could not build %s on the meta device to check the pruned config (%s); the "
                    "pruned model is not checked against a reloaded one", type(model).__name__, err)
        return None


def _in_lists(name: str, lists):
    """The prefix (``"<list>."``) of the list of blocks that holds ``name``, or None."""
    return next((path + "." for path in lists if name.startswith(path + ".")), None)


def _expected_shapes(model, lists, kept, packed, n_blocks: int) -> dict:
    """Weight names and shapes the pruned model will have."""
    renumber = {old: new for new, old in enumerate(kept)}
    expect = {}
    for name, tensor in model.state_dict().items():
        shape = tuple(tensor.shape)
        prefix = _in_lists(name, lists)
        if prefix:
            index, _, rest = name[len(prefix):].partition(".")
            if int(index) not in renumber:
                continue
            name = f"{prefix}{renumber[int(index)]}.{rest}"
        elif name.rpartition(".")[0] in packed:  # embeddings: one slice per block along dim 1; linear: dim 0
            import torch

            dim = 1 if isinstance(model.get_submodule(name.rpartition(".")[0]), torch.nn.Embedding) else 0
            shape = shape[:dim] + (shape[dim] // n_blocks * len(kept),) + shape[dim + 1:]
        expect[name] = shape
    return expect


def _check_weights(expect: dict, skeleton, blocks_path: str) -> None:
    got = {name: tuple(t.shape) for name, t in skeleton.state_dict().items()}
    missing = sorted(set(expect) - set(got))
    extra = sorted(set(got) - set(expect))
    shapes = sorted(k for k in set(expect) & set(got) if expect[k] != got[k])
    if not (missing or extra or shapes):
        return
    parts = [f"{what}: {', '.join(names[:3])}" for what, names in (
        ("weights it would not have", missing), ("weights it would add", extra), ("other shapes", shapes)) if names]
    first = blocks_path + ".0."
    hint = (" In this family the first block is built differently from the others; keep block 0."
            if all(n.startswith(first) for n in missing + extra + shapes) else "")
    raise ValueError(f"After removing these blocks, the pruned config would build a different model ({'; '.join(parts)}), "
                     f"so the pruned model would not reload.{hint}")


def _take_constants(model, skeleton, lists, kept) -> list:
    """Copy the plain attributes a fresh model computes from its config onto the pruned model.

    Returns the numbers and flags that changed inside the kept blocks other than their positions (``layer_idx``,
    BigBird's ``seed``): what makes the pruned model differ from the full model with the removed blocks skipped
    (Inkling 2's ``is_block_boundary``). Names and copies of config lists follow the config and are not reported.
    """
    fresh = dict(skeleton.named_modules())
    changed = []
    for name, module in model.named_modules():
        twin = fresh.get(name)
        if twin is None or type(twin) is not type(module):
            continue
        prefix = _in_lists(name, lists)
        new_index = int(name[len(prefix):].split(".")[0]) if prefix else None
        for key, value in vars(twin).items():
            if key.startswith("_") or key in ("training", "config") or not _plain(value):
                continue
            mine = getattr(module, key, None)
            if not _plain(mine) or mine == value:
                continue
            setattr(module, key, copy_module.copy(value))
            position = key in INDEX_ATTRIBUTES or (type(value) is not bool and (mine, value) == (
                kept[new_index] if new_index is not None else None, new_index))
            if new_index is not None and not position and type(value) in (int, float, bool):  # bool: Inkling 2's
                changed.append(f"{name}.{key}: {mine!r} -> {value!r}")  # is_block_boundary follows the position
    return changed


def _plain(value) -> bool:
    if isinstance(value, (tuple, list, set, frozenset)):
        return all(isinstance(v, _SIMPLE) for v in value)
    return isinstance(value, _SIMPLE)
