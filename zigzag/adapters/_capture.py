"""Forward hooks that collect one output per module per forward pass, and device/memory checks."""

from __future__ import annotations

import fnmatch

from ..errors import InputTypeError

__all__ = ["Capture", "input_tensor", "match_modules", "move_to_device", "output_tensor"]


def output_tensor(output, name: str):
    """The tensor a module returned (the first element when it returns a tuple or a ModelOutput)."""
    import torch

    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    if hasattr(output, "to_tuple"):
        return output_tensor(output.to_tuple(), name)
    raise InputTypeError(
        f"Module {name!r} returned {type(output).__name__}, not a tensor: hook a module that outputs "
        "activations of shape (batch, n_tokens, n_features) or (batch, n_features)."
    )


def match_modules(model, patterns) -> list:
    """``(name, module)`` pairs whose dotted name matches any pattern, in model order per pattern.

    A pattern is a dotted module name in which ``*`` (or any fnmatch wildcard)
    stands for one component, e.g. ``"model.layers.*.mlp"``. A plain name must
    match exactly.

    Raises
    ------
    ValueError
        When a pattern matches no module; the message lists similar names.
    """
    if isinstance(patterns, str):
        patterns = [patterns]
    named = [(name, module) for name, module in model.named_modules() if name]
    found = []
    for pattern in patterns:
        parts = pattern.split(".")
        hits = [
            (name, module) for name, module in named
            if len(name.split(".")) == len(parts)
            and all(fnmatch.fnmatchcase(a, b) for a, b in zip(name.split("."), parts))
        ]
        if not hits:
            from .structure import suggest_patterns

            raise ValueError(
                f"The hook pattern {pattern!r} matches no module of {type(model).__name__}. "
                f"Patterns that match: {', '.join(suggest_patterns(model)) or 'none'}; "
                "or a named hook point: 'post_attention_norm', 'residual'."
            )
        found.extend(hits)
    return found


def input_tensor(args, kwargs, name: str):
    """The hidden-state tensor a module was called with (first positional tensor, else ``hidden_states=``)."""
    import torch

    if args and isinstance(args[0], torch.Tensor):
        return args[0]
    if isinstance(kwargs.get("hidden_states"), torch.Tensor):
        return kwargs["hidden_states"]
    raise TypeError(f"Module {name!r} was called without a hidden-state tensor; hook its output instead.")


class Capture:
    """Register forward hooks; each call stores ``reduce(tensor)`` for its module.

    ``named_modules`` holds ``(name, module)`` pairs, or ``(name, module, "input")``
    to store what the module receives instead of what it returns, or
    ``(name, module, what, (index, count))`` for a module that runs ``count``
    times per pass, of which the run ``index`` is kept (a looped block). Use as a
    context manager around one forward pass at a time; read :meth:`take` after
    the pass. Hooks are removed on exit.
    """

    def __init__(self, named_modules, reduce):
        self.names = [entry[0] for entry in named_modules]
        self.runs = [(entry[3] if len(entry) > 3 else None) or (0, 1) for entry in named_modules]
        self.reduce = reduce
        self._store = [[] for _ in self.names]
        self._handles = []
        for i, entry in enumerate(named_modules):
            module, what = entry[1], entry[2] if len(entry) > 2 else "output"
            if what == "input":
                self._handles.append(module.register_forward_pre_hook(self._pre_hook(i), with_kwargs=True))
            else:
                self._handles.append(module.register_forward_hook(self._hook(i)))

    def _hook(self, i):
        def hook(module, args, output):
            self._store[i].append(self.reduce(output_tensor(output, self.names[i]), self.names[i]))

        return hook

    def _pre_hook(self, i):
        def hook(module, args, kwargs):
            self._store[i].append(self.reduce(input_tensor(args, kwargs, self.names[i]), self.names[i]))

        return hook

    def take(self) -> list:
        """The stored value of every module for the last pass; check each module ran as often as expected."""
        store, self._store = self._store, [[] for _ in self.names]
        bad = [(n, len(s), r[1]) for n, s, r in zip(self.names, store, self.runs) if len(s) != r[1]]
        if bad:
            raise ValueError(
                "Inconsistent batch outputs: each hooked module must run exactly once per forward pass (a looped "
                "block as often as the model loops), but "
                + ", ".join(f"{n!r} ran {c} times, not {k}" for n, c, k in bad[:5])
                + ". Hook a module that runs once per pass (not a shared or skipped one)."
            )
        return [s[r[0]] for s, r in zip(store, self.runs)]

    def clear(self):
        self._store = [[] for _ in self.names]

    def close(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB"


def check_memory(needed_bytes: int, free_bytes: int, device) -> None:
    """Raise a ValueError saying how much memory was needed when ``free_bytes`` is not enough."""
    if needed_bytes > free_bytes:
        raise ValueError(
            f"Not enough memory on {device}: the model's weights need {_gib(needed_bytes)} but only "
            f"{_gib(free_bytes)} is free. Load it in a smaller dtype (torch_dtype=torch.float16), "
            "use another device (device='cpu'), or free memory first."
        )


def model_bytes(model) -> int:
    """Bytes of the model's parameters and buffers."""
    return sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers()))


def model_device(model):
    """Device of the model's first parameter (CPU for a model without parameters)."""
    import torch

    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")


def move_to_device(model, device):
    """Move ``model`` to ``device`` (in place) after checking the device has room; return the device."""
    import torch

    if device is None:
        return model_device(model)
    device = torch.device(device)
    if model_device(model) == device:
        return device
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        check_memory(model_bytes(model), free, device)
    try:
        model.to(device)
    except torch.OutOfMemoryError:
        raise ValueError(
            f"Out of memory while moving the model to {device}: its weights need {_gib(model_bytes(model))}. "
            "Use a smaller dtype or another device."
        ) from None
    return device
