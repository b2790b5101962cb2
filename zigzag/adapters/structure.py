"""Where a transformers model keeps its blocks, final norm and feed-forward inputs, found by structure.

A hand table of module names cannot keep up with the families transformers
ships, and the same name means different things in different families
(Gemma 2/3 and OLMo 2 apply ``post_attention_layernorm`` to the attention
output; Phi and Pythia feed attention and MLP from one norm). So the layout is
read from what the modules *do* in one short forward pass with hooks on every
module (the probe, 4 tokens, batch 1):

* **blocks**: the ``ModuleList`` whose entries each run exactly once, in list
  order, on a (batch, tokens, hidden) tensor and return one of that shape.
  Several such lists (a vision tower, a second stack): the one with
  ``num_hidden_layers`` entries of the text config, else the longest.
* **feed-forward part** of each block: the first child of the block, in call
  order, that runs after a token mixer and is itself position-wise (changing
  token 0 of its input leaves every other token of its output unchanged) and
  has a weight matrix: a dense MLP or a mixture of experts. A token mixer is
  a child with weight matrices that is *not* position-wise (attention,
  convolution, state-space mixer). Its input is the tensor the paper
  analyses: Llama's ``post_attention_layernorm`` output exactly, Gemma 2/3's
  ``pre_feedforward_layernorm`` output, OLMo 2's raw residual stream, the
  shared input norm of parallel blocks (Phi, GPT-J, Pythia).
* **producer** of that tensor: the module whose output *is* it (the same
  tensor object), recorded as provenance; None when the block computes it
  outside any module (OLMo 2's residual add).
* **final norm**: the first module after the last block that takes the last
  block's output and returns a tensor of the same shape without weight
  matrices; None when there is none (BERT).
* **causal**: whether changing the last token leaves the first token's block
  outputs unchanged (decoder) or not (encoder).

:data:`UNSUPPORTED` lists the model types whose layout the analysis cannot
use (state-space and recurrent models, several residual streams, looped
blocks), each with the reason.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass

__all__ = ["Structure", "feed_forward_error", "find_structure", "suggest_patterns", "UNSUPPORTED"]

log = logging.getLogger("zigzag")

_PROBE_TOKENS = 4

# Model types whose layout the analysis cannot use, with the reason (the error names the module-pattern route).
UNSUPPORTED = {
    "mamba": "a state-space model: its blocks have no attention and no feed-forward part",
    "mamba2": "a state-space model: its blocks have no attention and no feed-forward part",
    "falcon_mamba": "a state-space model: its blocks have no attention and no feed-forward part",
    "rwkv": "a recurrent model: its blocks have no attention and no separate feed-forward input",
    "xlstm": "a recurrent model (xLSTM): its blocks have no attention and no feed-forward part",
    "xlm": "XLM keeps attentions, norms and feed-forward parts in four parallel lists, not in blocks",
    "xlnet": "XLNet's blocks run on (tokens, batch, hidden) tensors with a second query stream",
    "prophetnet": "ProphetNet's decoder blocks carry n-gram prediction streams besides the main one",
    "cpmant": "CPM-Ant prepends prompt tokens inside the model, so its blocks see more tokens than the text has",
    "reformer": "Reformer's reversible blocks carry two residual streams",
    "inkling2_text": "each block reads the states of all earlier blocks, so block outputs are not the residual stream",
    "inkling2_loop_text": "each block reads the states of all earlier blocks and some blocks run in a loop",
    "dory": "its blocks run more than once per forward pass (a loop)",
    "hrm_text": "its blocks run many times per forward pass (hierarchical reasoning loops)",
    "mllama": "every few blocks is a cross-attention block that runs only with an image",
    "qwen4_exp": "its residual stream is four parallel copies of the embedding (hyper-connections)",
    "qwen4_exp_text": "its residual stream is four parallel copies of the embedding (hyper-connections)",
    "zamba2": "its hybrid blocks share one transformer block's weights, so blocks are not separate",
}



@dataclass(frozen=True)
class Structure:
    """The layout of one model, as full dotted module paths in the model that was probed.

    Attributes
    ----------
    model_type : str
        ``config.model_type`` (``""`` when the model has no config).
    blocks : str
        Path of the ``ModuleList`` of blocks.
    n_blocks : int
    feed_forward : tuple of str or None
        Per block, the path of its feed-forward module (dense MLP or experts);
        None for a block that has none.
    producers : tuple of str or None
        Per block, the module whose output is that feed-forward input; None
        when no module produces it (a residual add inside the block).
    final_norm : str or None
        Path of the norm applied after the last block; None when there is none.
    causal : bool
        True for decoders (causal attention), False for encoders.
    stack : str
        Path of the module that holds the blocks (``model``, ``bert.encoder``);
        its output is the final representation (``last_hidden_state``).
    final : str
        Name of the final representation (``last_hidden_state``): the final
        norm, else the last block when the stack returns its output
        unchanged, else ``"<stack>:output"``.
    """

    model_type: str
    blocks: str
    n_blocks: int
    feed_forward: tuple
    producers: tuple
    final_norm: str | None
    causal: bool
    stack: str = ""
    final: str = ""

    @property
    def kind(self) -> str:
        """``"decoder"`` (causal) or ``"encoder"``."""
        return "decoder" if self.causal else "encoder"

    @property
    def name(self) -> str:
        """The model type, for provenance."""
        return self.model_type

    def block_path(self, i: int) -> str:
        return f"{self.blocks}.{i}"

    def to_dict(self) -> dict:
        return {"model_type": self.model_type, "blocks": self.blocks, "n_blocks": self.n_blocks,
                "feed_forward": list(self.feed_forward), "producers": list(self.producers),
                "final_norm": self.final_norm, "stack": self.stack, "final": self.final, "kind": self.kind}


_CACHE = weakref.WeakKeyDictionary()


def find_structure(model) -> Structure:
    """The :class:`Structure` of a transformers model, from one probe forward pass (cached per model).

    Raises
    ------
    ValueError
        When the model has no stack of blocks (state-space and recurrent
        models, looped blocks); the message lists module patterns to pass as
        ``hook`` instead.
    """
    config = getattr(model, "config", None)
    model_type = str(getattr(config, "model_type", "") or "")
    if model_type in UNSUPPORTED:
        raise ValueError(_no_blocks_message(model, f"{model_type!r} is {UNSUPPORTED[model_type]}"))
    cached = _CACHE.get(model)
    if cached is not None and _still_valid(model, cached):
        return cached
    structure = _Probe(model).structure(model_type)
    _CACHE[model] = structure
    log.info("structure of %s: %d blocks at %s, final norm %s, %s", model_type or type(model).__name__,
             structure.n_blocks, structure.blocks, structure.final_norm, structure.kind)
    return structure


def _still_valid(model, structure: Structure) -> bool:
    try:
        return len(model.get_submodule(structure.blocks)) == structure.n_blocks
    except AttributeError:
        return False


def _no_blocks_message(model, why: str) -> str:
    return (f"zigzag cannot find a stack of transformer blocks in {type(model).__name__}: {why}. The named hook "
            "points ('post_attention_norm', 'residual') and prune_model need one. Pass a module-name pattern as "
            f"hook instead; patterns that match this model: {', '.join(suggest_patterns(model)) or 'none found'}.")


def feed_forward_error(model, structure: Structure, missing) -> str:
    """The message for blocks that have no feed-forward part (the paper's hook needs one in every block)."""
    return (f"Blocks {missing[:8]} of {type(model).__name__} ({structure.n_blocks} blocks at {structure.blocks}) have "
            "no feed-forward part (a position-wise module with weight matrices after the token mixer), so the "
            "paper's hook point 'post_attention_norm' is not defined for them. Use hook='residual' (the block "
            f"outputs), or a module-name pattern; patterns that match this model: "
            f"{', '.join(suggest_patterns(model)) or 'none found'}.")


def suggest_patterns(model, limit: int = 8) -> list:
    """Module-name patterns (``"model.layers.*.mlp"``) for the longest ModuleList in ``model``."""
    import torch

    best_name, best = None, None
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) and (best is None or len(module) > len(best)):
            best_name, best = name, module
    if best is None:
        return []
    children = [name for name, _ in best[0].named_modules() if name]
    return [f"{best_name}.*"] + [f"{best_name}.*.{c}" for c in children[: limit - 1]]


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


class _Probe:
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

    def structure(self, model_type: str) -> Structure:
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
            blocks_name, block_calls = self._blocks(calls)
            n = len(block_calls)
            feed_forward, producers = [], []
            for i, call in enumerate(block_calls):
                ff, producer = self._feed_forward(calls, call, f"{blocks_name}.{i}")
                feed_forward.append(ff)
                producers.append(producer)
            final_norm = self._final_norm(calls, block_calls[-1])
            stack = blocks_name.rpartition(".")[0]
            owner = [c for c in calls if c.name == stack]
            if len(owner) != 1 or owner[0].output is None or owner[0].output.shape[1:2] != ids.shape[1:2]:
                raise ValueError(_no_blocks_message(self.model, f"the module holding the blocks ({stack or 'the model'}) "
                                                                "does not return the hidden states"))
            last = block_calls[-1]
            same = owner[0].output is last.output or (owner[0].output_value.shape == last.output_value.shape and bool(
                (owner[0].output_value == last.output_value).all()))
            final = final_norm or (last.name if same else f"{stack}:output")
            if final_norm and len([c for c in calls if c.name == final_norm]) != 1:
                final_norm = None  # a norm also used elsewhere (nanochat normalises the embeddings with it)
            changed = ids.clone()
            changed[0, -1] = 3 + (int(changed[0, -1]) - 2) % max(vocab - 4, 1)
            other = self._run(changed)
            first = block_calls[0].output
            again = [c for c in other if c.name == f"{blocks_name}.{n - 1}"][0].output
            last_first = [c for c in calls if c.name == f"{blocks_name}.{n - 1}"][0].output
            causal = bool(torch.allclose(last_first[:, 0].float(), again[:, 0].float(), rtol=1e-4, atol=1e-5))
            del first
        finally:
            self.model.train(was_training)
        return Structure(model_type, blocks_name, n, tuple(feed_forward), tuple(producers), final_norm, causal,
                         stack, final)

    def _blocks(self, calls):
        """The ModuleList whose entries each run once, in order, on (batch, tokens, hidden)."""
        import torch

        by_name = {}
        for call in calls:
            by_name.setdefault(call.name, []).append(call)
        candidates = []
        for name, module in self.modules.items():
            if not isinstance(module, torch.nn.ModuleList) or not len(module):
                continue
            runs = [by_name.get(f"{name}.{i}" if name else str(i), []) for i in range(len(module))]
            if any(len(r) != 1 for r in runs):
                continue
            runs = [r[0] for r in runs]
            if any(a.start > b.start for a, b in zip(runs, runs[1:])):
                continue
            if not all(_is_sequence(r.input) and r.output is not None and r.input.shape == r.output.shape
                       for r in runs):
                continue
            if runs[0].input.shape[1] != _PROBE_TOKENS:
                continue
            candidates.append((name, runs))
        if not candidates:
            raise ValueError(_no_blocks_message(self.model, "no list of modules runs once per block on the tokens"))
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
        widths = {block_call.input.shape[-1]}  # and the mixer's width, where parallel streams widen the block's input
        for call in children:
            module = self.modules[call.name]
            if not _has_matrix(module) or not any(_is_tokens(call.input, w) for w in widths):
                continue
            if not _position_wise(module, call):
                seen_mixer = True
                if call.output is not None:
                    widths.add(call.output.shape[-1])
                continue
            if not seen_mixer or type(module).__name__.endswith("Norm"):  # a gated norm has a matrix too
                continue
            made = [c for c in inside if c.output is call.input and c.end < call.start]
            producer = min(made, key=lambda c: c.end).name if made else None  # the innermost one
            return call.name, producer
        return None, None

    def _final_norm(self, calls, last_block):
        out = last_block.output_value
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
