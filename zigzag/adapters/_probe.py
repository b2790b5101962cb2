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
            block_calls = [r[-1] for r in block_runs if r]  # a looped block: its last run; one that did not run: none
            changed = ids.clone()  # the last token changed: which block tokens are the text's, and causality
            changed[0, -1] = 3 + (int(changed[0, -1]) - 2) % max(vocab - 4, 1)
            last_name = (self.parallel[-1][1] if self.parallel else block_calls)[-1].name
            first = block_runs[0][0]
            again = {}
            for c in self._run(changed):
                if c.name in (first.name, last_name):
                    again.setdefault(c.name, []).append(c)
            self.text_start = self._text_start(first, again[first.name][0])
            n = len(block_runs)
            feed_forward, producers = [], []
            for i, runs in enumerate(block_runs):  # a looped block: its first run (later ones may add inputs)
                ff, producer = self._feed_forward(calls, runs[0], f"{blocks_name}.{i}", i) if runs else (None, None)
                feed_forward.append(ff)
                producers.append(producer)
            outputs = self.parallel[-1][1] if self.parallel else block_calls  # what each block returns
            stack = blocks_name.rpartition(".")[0]
            owner = [c for c in calls if c.name == stack]
            if len(owner) != 1 or owner[0].output is None or owner[0].output.ndim < 3 or \
                    owner[0].output.shape[1] not in (_PROBE_TOKENS, self.n_tokens):
                raise NoBlocks(f"the module holding the blocks ({stack or 'the model'}) does not return the hidden "
                               "states")
            final_norm = self._final_norm(calls, outputs[-1], owner[0].output_value.shape[-1])
            last = outputs[-1]
            same = owner[0].output is last.output or (owner[0].output_value.shape == last.output_value.shape and bool(
                (owner[0].output_value == last.output_value).all()))
            final = final_norm or (last.name if same else f"{stack}:output")
            if final_norm and len([c for c in calls if c.name == final_norm]) != 1:
                final_norm = None  # a norm also used elsewhere (nanochat normalises the embeddings with it)
            # causal attention: the first token does not see a change of the last one
            token, token_again = self._text(last.output_value)[0], self._text(again[last.name][-1].output_value)[0]
            causal = bool(torch.allclose(token.float(), token_again.float(), rtol=1e-4, atol=1e-5))
        finally:
            self.model.train(was_training)
        runs = tuple(len(r) for r in block_runs)
        return dict(blocks=blocks_name, n_blocks=n, feed_forward=tuple(feed_forward), producers=tuple(producers),
                    final_norm=final_norm, causal=causal, stack=stack, final=final, time_major=self.time_major,
                    text_start=self.text_start, parallel=tuple(name for name, _ in self.parallel[1:]),
                    runs=runs if any(r != 1 for r in runs) else ())

    def _tokens(self, tensor):
        """(tokens, features) of the probe's batch of one, in the blocks' layout."""
        if self.time_major:
            return tensor.reshape(tensor.shape[0], -1)
        return tensor.reshape(tensor.shape[1], -1)

    def _text(self, tensor):
        """The text's (tokens, features) of a block tensor."""
        start = self.text_start or 0
        return self._tokens(tensor)[start:start + _PROBE_TOKENS]

    def _text_start(self, block, block_again):
        """None when the blocks see the text's tokens only; else where the text's tokens start among theirs.

        Found from the first block's input when the text's last token changes: that token, and only it, moves.
        """
        import torch

        if self.n_tokens == _PROBE_TOKENS:
            return None
        moved = (self._tokens(block.input_value) != self._tokens(block_again.input_value)).any(dim=-1)
        where = torch.nonzero(moved).ravel().tolist()
        if len(where) != 1 or where[0] < _PROBE_TOKENS - 1:
            raise NoBlocks(f"the blocks see {self.n_tokens} tokens for a text of {_PROBE_TOKENS}, and which of them "
                           "are the text's is not clear")
        return where[0] - (_PROBE_TOKENS - 1)

    def _blocks(self, calls):
        """The ModuleList whose entries each run, first in list order, on (batch, tokens, hidden); their runs.

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
            layout = _layout(runs[0][0].input)
            if layout is not None:
                candidates.append((name, runs, layout))
        if not candidates:
            raise NoBlocks("no list of modules runs per block on the tokens, each first in list order")
        # the plain layout, (batch, tokens, hidden) with the text's tokens only, first
        plain = [c for c in candidates if c[2] == (False, _PROBE_TOKENS)]
        candidates = plain or candidates
        config = getattr(self.model, "config", None)
        text = config.get_text_config() if hasattr(config, "get_text_config") else config
        depth = getattr(text, "num_hidden_layers", None)
        exact = [c for c in candidates if len(c[1]) == depth]
        name, runs, (self.time_major, self.n_tokens) = max(exact or candidates, key=lambda c: len(c[1]))
        once = [(n, [r[0] for r in rs], lay) for n, rs, lay in candidates if all(len(r) == 1 for r in rs)]
        single = all(len(r) == 1 for r in runs)  # parallel lists are looked for among lists that run once
        self.parallel = _parallel_lists(name, [r[0] for r in runs], once) if single else []
        if self.parallel:
            name, runs = self.parallel[0][0], [[c] for c in self.parallel[0][1]]
        return name, runs

    def _children_calls(self, calls, block_call, block_name):
        prefix = block_name + "."
        inside = [c for c in calls if block_call.start < c.start and c.end is not None and c.end < block_call.end
                  and c.name.startswith(prefix)]
        return inside

    def _feed_forward(self, calls, block_call, block_name, index):
        """The block's feed-forward module (first position-wise child with matrices after a mixer) and the producer."""
        import torch

        if self.parallel:  # the block's parts are entry `index` of each parallel list
            children = [runs[index] for _, runs in self.parallel]
            inside = [c for c in calls if children[0].start <= c.start and c.end is not None
                      and c.end <= children[-1].end]
            return self._pick_feed_forward(children, inside, block_call)
        inside = self._children_calls(calls, block_call, block_name)

        def is_child(name):  # a child of the block, or an entry of a list or dict of modules held by the block
            parent = name.rpartition(".")[0]
            return parent == block_name or (parent.rpartition(".")[0] == block_name and isinstance(
                self.modules[parent], (torch.nn.ModuleList, torch.nn.ModuleDict)))

        return self._pick_feed_forward([c for c in inside if is_child(c.name)], inside, block_call)

    def _pick_feed_forward(self, children, inside, block_call):
        seen_mixer = False
        stream = block_call.input.shape[-1]
        widths = {stream}  # and the mixer's width, where parallel streams widen the block's input
        for call in children:
            module = self.modules[call.name]
            if not _has_matrix(module) or not any(_is_tokens(call.input, w, self.n_tokens) for w in widths):
                continue
            if not _position_wise(module, call, self.n_tokens, self.time_major):
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
            inner = self._normed_part(inside, call)
            if inner is not None:
                return inner
            made = [c for c in inside if c.output is call.input and c.end < call.start]
            producer = min(made, key=lambda c: c.end).name if made else None  # the innermost one
            return call.name, producer
        return None, None

    def _normed_part(self, inside, call):
        """(module, norm) when the feed-forward module is a pre-norm wrapper: its first child normalises its input
        and a later child with weight matrices reads that norm's output (CPM-Ant's ``ffn.layernorm_before_ffn`` and
        ``ffn.ffn``); the paper's tensor is then that norm's output, as in Llama. None otherwise."""
        prefix = call.name + "."
        children = [c for c in inside if c.name.startswith(prefix) and "." not in c.name[len(prefix):]
                    and call.start < c.start and c.end < call.end]
        if not children or children[0].input is not call.input:
            return None
        norm = children[0]
        is_norm = "norm" in type(self.modules[norm.name]).__name__.lower() or "norm" in norm.name.rpartition(".")[2]
        if not is_norm or _has_matrix(self.modules[norm.name]) or norm.output is None or \
                norm.output.shape != call.input.shape:
            return None
        for child in children[1:]:
            if child.input is norm.output and _has_matrix(self.modules[child.name]):
                if _position_wise(self.modules[child.name], child, self.n_tokens, self.time_major):
                    return child.name, norm.name
                return None
        return None

    def _final_norm(self, calls, last_block, final_width):
        """The norm after the last block; it must give the stack's output width (else it only feeds a module that
        makes the final representation, such as Qwen4-exp's norm of the parallel streams)."""
        import torch

        out = last_block.output_value
        if out.shape[-1] != final_width:
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
            if isinstance(module, torch.nn.Dropout):  # the identity at inference, not a norm (XLNet)
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


def _parallel_lists(name, runs, candidates) -> list:
    """``[(name, runs)]`` of the sibling lists that hold the blocks' parts together with ``name``, in call order.

    Entry ``i`` of each runs after entry ``i`` of the one before and before entry ``i + 1`` of any, and the last
    list's entry ``i`` returns what the first list's entry ``i + 1`` receives (XLM). Empty when there are none.
    """
    parent = name.rpartition(".")[0]
    group = sorted([(n, r) for n, r, _ in candidates if n.rpartition(".")[0] == parent and len(r) == len(runs)],
                   key=lambda c: c[1][0].start)
    if len(group) < 2:
        return []
    order = [r[i] for i in range(len(runs)) for _, r in group]
    if any(a.end is None or a.end > b.start for a, b in zip(order, order[1:])):
        return []
    for i in range(len(runs) - 1):
        out, nxt = group[-1][1][i], group[0][1][i + 1]
        if not (nxt.input is out.output or (nxt.input_value.shape == out.output_value.shape
                                            and bool((nxt.input_value == out.output_value).all()))):
            return []
    return group


def _layout(tensor):
    """(time-major, number of tokens) of a block's input in the probe's batch of one; None when it is neither.

    (1, tokens, ...) is batch-major, (tokens, 1, hidden) time-major (XLNet); blocks may see more tokens than
    the text has (prompt tokens, n-gram streams), never fewer.
    """
    if tensor.ndim < 3:
        return None
    if tensor.shape[0] == 1 and tensor.shape[1] >= _PROBE_TOKENS:  # or (1, tokens, streams, hidden)
        return False, int(tensor.shape[1])
    if tensor.ndim == 3 and tensor.shape[1] == 1 and tensor.shape[0] >= _PROBE_TOKENS:
        return True, int(tensor.shape[0])
    return None


def _is_tokens(tensor, width: int, n_tokens: int = _PROBE_TOKENS) -> bool:
    """A float tensor of hidden states: (batch, tokens, width), or (tokens, width) flattened (OPT, Llama 4 experts)."""
    return (tensor is not None and tensor.is_floating_point() and tensor.shape[-1] == width
            and (tensor.ndim == 3 or (tensor.ndim == 2 and tensor.shape[0] == n_tokens)))


def _per_token(tensor, time_major: bool = False):
    """(tokens, features) of the probe's batch of one."""
    if tensor.ndim >= 3 and tensor.shape[0] == 1 and not time_major:
        return tensor.reshape(tensor.shape[1], -1)
    return tensor.reshape(tensor.shape[0], -1)


def _position_wise(module, call, n_tokens: int = _PROBE_TOKENS, time_major: bool = False) -> bool:
    """Whether changing token 0 of the module's input leaves every other token of its output unchanged.

    Measured against how far token 0's own output moves (random weights can make a mixer's reach small).
    """
    import torch

    x = call.input_value
    changed = x.clone()
    if x.ndim == 3 and not time_major:
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
    if before is None or again is None or before.shape != again.shape or before.numel() % n_tokens:
        return False
    before, again = _per_token(before, time_major), _per_token(again, time_major)
    if before.shape[0] != n_tokens:
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
