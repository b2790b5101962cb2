"""Point clouds from any torch module, through forward hooks on named submodules."""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from ..clouds import LayerClouds, as_layer_clouds
from ._capture import Capture, match_modules, model_device
from .pooling import check_pooling, pool

__all__ = ["extract_from_module"]


def extract_from_module(module, inputs, modules, *, pooling="last", attention_mask=None, batch_size: int = 64,
                        progress: bool = False) -> LayerClouds:
    """Hook submodules of any torch module and collect one vector per input per hooked module.

    Parameters
    ----------
    module : torch.nn.Module
        Called as ``module(batch)`` for a tensor input, ``module(**batch)`` for a dict.
    inputs : tensor or ndarray of shape (n_inputs, ...), or dict of them
        Split into batches along the first axis. A dict is passed as keyword
        arguments; its ``"attention_mask"`` (if any) is used for pooling.
    modules : str, list of str, or list of torch.nn.Module
        Names or patterns (``"layers.*"``, ``"blocks.*.norm"``) of submodules,
        or the submodules themselves; the order given is the layer order.
    pooling : {"last", "mean", "first"} or int, default="last"
        Applied to outputs of shape (batch, n_tokens, dim). Outputs of shape
        (batch, dim) are used as they are; any other shape is flattened to
        (batch, -1) (e.g. convolution feature maps).
    attention_mask : tensor of shape (n_inputs, n_tokens), optional
        Real tokens for pooling (default: every token, or ``inputs["attention_mask"]``).
    batch_size : int, default=64
    progress : bool, default=False

    Returns
    -------
    LayerClouds
        One (n_inputs, dim) float32 cloud per hooked module.

    Raises
    ------
    ValueError
        A name or pattern matching nothing, fewer than 2 inputs, or a module
        that does not run exactly once per forward pass.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> extract_from_module(net, torch.randn(20, 4), ["0", "2"], progress=False).n_features
    (8, 3)
    """
    import torch
    from .._progress import progress_bar

    pooling = check_pooling(pooling, caller="extract_from_module")
    batch_size = check_int(batch_size, "batch_size", minimum=1, caller="extract_from_module")
    named = _resolve(module, modules)
    as_dict = isinstance(inputs, dict)
    items = {k: torch.as_tensor(v) for k, v in inputs.items()} if as_dict else {"": torch.as_tensor(inputs)}
    sizes = {len(v) for v in items.values()}
    if len(sizes) != 1:
        raise ValueError(f"All inputs must have the same first dimension (n_inputs); got sizes {sorted(sizes)}.")
    n = sizes.pop()
    if n < 2:
        raise ValueError(f"extract_from_module needs at least 2 inputs (one point each); got {n}.")
    if attention_mask is None and as_dict:
        attention_mask = items.get("attention_mask")
    device = model_device(module)
    parts = [[] for _ in named]
    was_training = module.training
    module.eval()
    try:
        with Capture(named, lambda out, name: out) as capture, torch.inference_mode():
            starts = range(0, n, batch_size)
            for s in progress_bar(starts, total=len(starts), disable=not progress, desc="extract", unit="batch"):
                batch = {k: v[s:s + batch_size].to(device) for k, v in items.items()}
                module(**batch) if as_dict else module(batch[""])
                mask = None if attention_mask is None else torch.as_tensor(attention_mask)[s:s + batch_size]
                for part, out, (name, _) in zip(parts, capture.take(), named):
                    part.append(_reduce(out, mask, pooling, len(batch[next(iter(batch))]), name))
    finally:
        module.train(was_training)
    from .hf import concatenate_batches

    layers = [concatenate_batches(p, name) for p, (name, _) in zip(parts, named)]
    meta = {"model": type(module).__name__, "hook": [name for name, _ in named], "pooling": pooling, "n_texts": n}
    return as_layer_clouds(layers, names=[name for name, _ in named], meta=meta)


def _resolve(module, modules) -> list:
    import torch

    if isinstance(modules, (str, torch.nn.Module)):
        modules = [modules]
    modules = list(modules)
    if not modules:
        raise ValueError("modules must name at least one submodule to hook.")
    if all(isinstance(m, torch.nn.Module) for m in modules):
        names = {id(m): name for name, m in module.named_modules()}
        missing = [i for i, m in enumerate(modules) if id(m) not in names]
        if missing:
            raise ValueError(f"modules {missing} are not submodules of the given {type(module).__name__}.")
        return [(names[id(m)] or type(m).__name__, m) for m in modules]
    if all(isinstance(m, str) for m in modules):
        return match_modules(module, modules)
    raise TypeError("modules must be names/patterns (str) or submodules (torch.nn.Module), not a mix.")


def _reduce(out, mask, pooling, batch: int, name: str) -> np.ndarray:
    if out.shape[0] != batch:
        raise ValueError(
            f"Inconsistent batch outputs: {name!r} returned shape {tuple(out.shape)} for a batch of {batch} inputs; "
            "its first axis must be the batch."
        )
    if out.ndim == 3:
        out = pool(out, mask, pooling)
    elif out.ndim != 2:
        out = out.reshape(batch, -1)
    return out.float().cpu().numpy()
