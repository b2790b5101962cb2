"""The structure probe: one short forward pass with hooks on every module, and what it shows.

See :mod:`zigzag.adapters.structure` for the rules; this module holds the
mechanics (recording calls, re-running a module with one token changed).
"""

from __future__ import annotations

__all__ = ["NoBlocks", "Probe"]

_PROBE_TOKENS = 4


class NoBlocks(Exception):
    """The model has no stack of blocks the probe can use (the message says why)."""


def _first_tensor(args, kwargs):
    import torch

    if args and isinstance(args[0], torch.Tensor):
        return args[0]
    hidden = kwargs.get("hidden_states")
    if isinstance(hidden, torch.Tensor):
        return hidden
    return None


def _out_tensor(output):
    import torch

    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    if hasattr(output, "to_tuple"):
        return _out_tensor(output.to_tuple())
    return None


def _has_matrix(module) -> bool:
    return any(p.ndim >= 2 for p in module.parameters())


class _Call:
    """One module call of the probe: the tensors themselves (for identity) and copies (modules may work in place)."""

    __slots__ = ("name", "start", "end", "args", "kwargs", "input", "input_value", "output", "output_value")

    def __init__(self, name, start, args, kwargs):
        self.name, self.start, self.end = name, start, None
        self.args, self.kwargs = args, kwargs
        self.input = _first_tensor(args, kwargs)
        self.input_value = None if self.input is None else self.input.detach().clone()
        self.output = self.output_value = None

    def set_output(self, output):
        self.output = _out_tensor(output)
        self.output_value = None if self.output is None else self.output.detach().clone()


class Probe:
    """One forward pass with hooks on every module, and the questions asked of it."""

    def __init__(self, model):
        self.model = model
        self.modules = dict(model.named_modules())

    def _run(self, input_ids):
        import torch

        calls, stack, clock = [], [], [0]
        handles = []

        def pre(name):
            def hook(module, args, kwargs):
                clock[0] += 1
                call = _Call(name, clock[0], args, kwargs)
                calls.append(call)
                stack.append(call)

            return hook

        def post(name):
            def hook(module, args, kwargs, output):
                clock[0] += 1
                call = next(c for c in reversed(stack) if c.name == name)
                stack.remove(call)
                call.end = clock[0]
                call.set_output(output)

            return hook

        for name, module in self.modules.items():
            handles.append(module.register_forward_pre_hook(pre(name), with_kwargs=True))
            handles.append(module.register_forward_hook(post(name), with_kwargs=True))
        kwargs = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
        try:
            with torch.inference_mode():
                _forward(self.model, kwargs)
        finally:
            for handle in handles:
                handle.remove()
        return calls

    def layout(self) -> dict:
        """The fields of a :class:`~zigzag.adapters.structure.Structure` (all but the model type)."""
        import torch

        vocab = int(getattr(self.model.get_input_embeddings(), "num_embeddings", 0) or 0) if hasattr(
            self.model, "get_input_embeddings") else 0
        vocab = vocab or int(getattr(getattr(self.model, "config", None), "vocab_size", 0) or 100)
        ids = torch.tensor([[(7 + 13 * k) % max(vocab - 4, 1) + 3 for k in range(_PROBE_TOKENS)]])
        device = next((p.device for p in self.model.parameters()), torch.device("cpu"))
        ids = ids.to(device)
        was_training = self.model.training
        self.model.eval()
        try:
            calls = self._run(ids)
            blocks_name, block_runs = self._blocks(calls)
            n = len(block_runs)
            feed_forward, producers = [], []
            for i, runs in enumerate(block_runs):  # a looped block: its first run (later ones may add inputs)
                ff, producer = self._feed_forward(calls, runs[0], f"{blocks_name}.{i}") if runs else (None, None)
                feed_forward.append(ff)
                producers.append(producer)
            block_calls = [r[-1] for r in block_runs if r]
            stack = blocks_name.rpartition(".")[0]
            owner = [c for c in calls if c.name == stack]
            if len(owner) != 1 or owner[0].output is None or owner[0].output.shape[1:2] != ids.shape[1:2]:
                raise NoBlocks(f"the module holding the blocks ({stack or 'the model'}) does not return the hidden "
                               "states")
            final_norm = self._final_norm(calls, block_calls[-1], owner[0].output_value.shape)
            last = block_calls[-1]
            same = owner[0].output is last.output or (owner[0].output_value.shape == last.output_value.shape and bool(
                (owner[0].output_value == last.output_value).all()))
            final = final_norm or (last.name if same else f"{stack}:output")
            if final_norm and len([c for c in calls if c.name == final_norm]) != 1:
                final_norm = None  # a norm also used elsewhere (nanochat normalises the embeddings with it)
            changed = ids.clone()  # causal attention: the first token does not see a change of the last one
            changed[0, -1] = 3 + (int(changed[0, -1]) - 2) % max(vocab - 4, 1)
            again = [c for c in self._run(changed) if c.name == last.name][-1].output_value
            causal = bool(torch.allclose(last.output_value[:, 0].float(), again[:, 0].float(), rtol=1e-4, atol=1e-5))
        finally:
            self.model.train(was_training)
        runs = tuple(len(r) for r in block_runs)
        return dict(blocks=blocks_name, n_blocks=n, feed_forward=tuple(feed_forward), producers=tuple(producers),
                    final_norm=final_norm, causal=causal, stack=stack, final=final,
                    runs=runs if any(r != 1 for r in runs) else ())

    def _blocks(self, calls):
        """The ModuleList whose entries each run, first in list order, on (batch, tokens, hidden); its runs.

        An entry may run more than once (Dory's recurrent section loops over some blocks), or not at all when
        it is not block 0 (Mllama's cross-attention blocks without an image).
        """
        import torch

        by_name = {}
        for call in calls:
            by_name.setdefault(call.name, []).append(call)
        candidates = []
        for name, module in self.modules.items():
            if not isinstance(module, torch.nn.ModuleList) or not len(module):
                continue
            runs = [by_name.get(f"{name}.{i}" if name else str(i), []) for i in range(len(module))]
            ran = [r for r in runs if r]
            if not runs[0] or len(ran) < 2 or any(a[0].start > b[0].start for a, b in zip(ran, ran[1:])):
                continue
            if not all(_is_sequence(c.input) and c.output is not None and c.input.shape == c.output.shape
                       for r in ran for c in r):
                continue
            if runs[0][0].input.shape[1] != _PROBE_TOKENS:
                continue
            candidates.append((name, runs))
        if not candidates:
            raise NoBlocks("no list of modules runs per block on the tokens, each first in list order")
        config = getattr(self.model, "config", None)
        text = config.get_text_config() if hasattr(config, "get_text_config") else config
        depth = getattr(text, "num_hidden_layers", None)
        exact = [c for c in candidates if len(c[1]) == depth]
        return max(exact or candidates, key=lambda c: len(c[1]))

    def _children_calls(self, calls, block_call, block_name):
        prefix = block_name + "."
        inside = [c for c in calls if block_call.start < c.start and c.end is not None and c.end < block_call.end
                  and c.name.startswith(prefix)]
        return inside

    def _feed_forward(self, calls, block_call, block_name):
        """The block's feed-forward module (first position-wise child with matrices after a mixer) and the producer."""
        import torch

        inside = self._children_calls(calls, block_call, block_name)

        def is_child(name):  # a child of the block, or an entry of a list or dict of modules held by the block
            parent = name.rpartition(".")[0]
            return parent == block_name or (parent.rpartition(".")[0] == block_name and isinstance(
                self.modules[parent], (torch.nn.ModuleList, torch.nn.ModuleDict)))

        children = [c for c in inside if is_child(c.name)]
        seen_mixer = False
        stream = block_call.input.shape[-1]
        widths = {stream}  # and the mixer's width, where parallel streams widen the block's input
        for call in children:
            module = self.modules[call.name]
            if not _has_matrix(module) or not any(_is_tokens(call.input, w) for w in widths):
                continue
            if not _position_wise(module, call):
                seen_mixer = True
                if call.output is not None:
                    widths.add(call.output.shape[-1])
                continue
            width = call.output.shape[-1] if call.output is not None else None
            if width and call.input.shape[-1] == stream and width < stream and stream % width == 0:
                widths.add(width)  # mixes parallel residual streams into one input, as a norm would (hyper-connections)
                continue
            if not seen_mixer or type(module).__name__.endswith("Norm"):  # a gated norm has a matrix too
                continue
            made = [c for c in inside if c.output is call.input and c.end < call.start]
            producer = min(made, key=lambda c: c.end).name if made else None  # the innermost one
            return call.name, producer
        return None, None

    def _final_norm(self, calls, last_block, final_shape):
        """The norm after the last block; its output must have the stack's output shape (else it only feeds a
        module that makes the final representation, such as Qwen4-exp's norm of the parallel streams)."""
        out = last_block.output_value
        if out.shape != final_shape:
            return None
        for call in calls:
            if call.start <= last_block.end or call.input is None:
                continue
            if call.input is not last_block.output and not (
                    call.input.shape == out.shape and bool((call.input_value == out).all())):
                continue
            module = self.modules[call.name]
            if _has_matrix(module) or call.output is None or call.output.shape != out.shape:
                continue
            if call.name.startswith(self._blocks_prefix(last_block.name)):
                continue
            return call.name
        return None

    @staticmethod
    def _blocks_prefix(block_name: str) -> str:
        return block_name.rpartition(".")[0] + "."


def _is_sequence(tensor) -> bool:
    """Float hidden states (batch, tokens, ...): (batch, tokens, hidden), or several streams of them."""
    return tensor is not None and tensor.ndim >= 3 and tensor.is_floating_point()


def _is_tokens(tensor, width: int) -> bool:
    """A float tensor of hidden states: (batch, tokens, width), or (tokens, width) flattened (OPT, Llama 4 experts)."""
    return (tensor is not None and tensor.is_floating_point() and tensor.shape[-1] == width
            and (tensor.ndim == 3 or (tensor.ndim == 2 and tensor.shape[0] == _PROBE_TOKENS)))


def _per_token(tensor):
    """(tokens, features) of the probe's batch of one."""
    if tensor.ndim >= 3 and tensor.shape[0] == 1:
        return tensor.reshape(tensor.shape[1], -1)
    return tensor.reshape(tensor.shape[0], -1)


def _position_wise(module, call) -> bool:
    """Whether changing token 0 of the module's input leaves every other token of its output unchanged.

    Measured against how far token 0's own output moves (random weights can make a mixer's reach small).
    """
    import torch

    x = call.input_value
    changed = x.clone()
    if x.ndim == 3:
        changed[:, 0] = changed[:, 0] * -1.5 + 0.5
    else:
        changed[0] = changed[0] * -1.5 + 0.5

    def rerun(value):
        args, kwargs = list(call.args), dict(call.kwargs)
        if args and args[0] is call.input:
            args[0] = value
        else:
            kwargs["hidden_states"] = value
        with torch.inference_mode():
            return _out_tensor(module(*args, **kwargs))

    try:
        before, again = rerun(x.clone()), rerun(changed)
    except Exception:  # noqa: BLE001 - a module that cannot be called alone is not a plain feed-forward module
        return False
    if before is None or again is None or before.shape != again.shape or before.numel() % _PROBE_TOKENS:
        return False
    before, again = _per_token(before), _per_token(again)
    if before.shape[0] != _PROBE_TOKENS:
        return False
    moved = (again - before).abs().amax(dim=-1).float()  # how far each token's output moved
    return bool(moved[0] > 0 and moved[1:].max() <= 1e-3 * moved[0])


def _forward(model, kwargs):
    """Call the model with the keyword arguments it takes (no cache)."""
    import inspect

    params = inspect.signature(model.forward).parameters
    takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
    call = {k: v for k, v in kwargs.items() if k in params or takes_kwargs}
    if "use_cache" in params or takes_kwargs:
        call["use_cache"] = False
    return model(**call)
