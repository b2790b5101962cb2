"""Where a transformers model keeps its blocks, final norm and feed-forward inputs, found by structure.

A hand table of module names cannot keep up with the families transformers
ships, and the same name means different things in different families
(Gemma 2/3 and OLMo 2 apply ``post_attention_layernorm`` to the attention
output; Phi and Pythia feed attention and MLP from one norm). So the layout is
read from what the modules *do* in one short forward pass with hooks on every
module (the probe, 4 tokens, batch 1):

* **blocks**: the ``ModuleList`` whose entries each run, first in list order,
  on a (batch, tokens, hidden) tensor and return one of that shape. An entry
  may run several times (a loop, as in Dory's recurrent section): its
  representations are those of its last run. An entry other than block 0 may
  not run at all (Mllama's cross-attention blocks in a text-only pass): it
  has no representation, as it has no entry in ``output_hidden_states``.
  Several such lists (a vision tower, a second stack): the one with
  ``num_hidden_layers`` entries of the text config, else the longest.
  Sibling lists of equal length whose entries run one after another, entry
  ``i`` of each before entry ``i + 1`` of any, the last one's output feeding
  the next entry of the first, are one list of blocks kept in parallel
  lists (XLM). Blocks may run on (tokens, batch, hidden) tensors (XLNet) and
  see more tokens than the text has (CPM-Ant's prompt tokens, ProphetNet's
  n-gram streams): the text's tokens are the ones that move, alone, when
  the text's last token changes.
* **feed-forward part** of each block: the first child of the block, in call
  order, that runs after a token mixer and is itself position-wise (changing
  token 0 of its input leaves every other token of its output unchanged) and
  has a weight matrix: a dense MLP or a mixture of experts. A token mixer is
  a child with weight matrices that is *not* position-wise (attention,
  convolution, state-space mixer). A child that mixes parallel residual
  streams into one narrower input (Qwen4-exp's hyper-connections) counts as
  a norm, never as the feed-forward part. A looped block's is found on its
  first run (later runs may add inputs: Inkling 2 Loop's message gates) and
  read on its last. Its input is the tensor the paper
  analyses: Llama's ``post_attention_layernorm`` output exactly, Gemma 2/3's
  ``pre_feedforward_layernorm`` output, OLMo 2's raw residual stream, the
  shared input norm of parallel blocks (Phi, GPT-J, Pythia).
* **producer** of that tensor: the module whose output *is* it (the same
  tensor object), recorded as provenance; None when the block computes it
  outside any module (OLMo 2's residual add).
* **final norm**: the first module after the last block that takes the last
  block's output and returns a tensor of the same shape, which is the shape
  of the stack's output, without weight matrices; None when there is none
  (BERT, Qwen4-exp).
* **causal**: whether changing the last token leaves the first token's block
  outputs unchanged (decoder) or not (encoder).

:data:`UNSUPPORTED` lists the model types whose layout the analysis cannot
use (state-space and recurrent models, several interleaved stacks), each
with the reason.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass

__all__ = ["Structure", "feed_forward_error", "find_structure", "suggest_patterns", "UNSUPPORTED"]

log = logging.getLogger("zigzag")

# Model types whose layout the analysis cannot use, with the reason (the error names the module-pattern route).
UNSUPPORTED = {
    "mamba": "a state-space model: its blocks have no attention and no feed-forward part",
    "mamba2": "a state-space model: its blocks have no attention and no feed-forward part",
    "falcon_mamba": "a state-space model: its blocks have no attention and no feed-forward part",
    "rwkv": "a recurrent model: its blocks have no attention and no separate feed-forward input",
    "xlstm": "a recurrent model (xLSTM): its blocks have no attention and no feed-forward part",
    "reformer": ("Reformer's LSH attention hashes with rotations drawn at random in every forward pass (unless "
                 "config.hash_seed is set) and attends within chunks of the hash-sorted, chunk-padded sequence, so a "
                 "text's vectors change from run to run and with its batch; and its reversible blocks carry two "
                 "residual streams"),
    "hrm_text": ("HRM has two stacks of blocks (low and high level) that alternate in nested loops on two separate "
                 "states, so no one list of blocks carries the residual stream"),
    "zamba2": ("its Mamba blocks have no feed-forward part (attention and MLP run in shared transformer blocks that "
               "the hybrid blocks call)"),
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
    runs : tuple of int
        Per block, how many times it runs in one forward pass, where some block
        runs more than once (Dory's recurrent section) or not at all (Mllama's
        cross-attention blocks without an image); empty when each runs once.
        A block's representations come from its last run; a block that does
        not run has none.
    time_major : bool
        True when the blocks run on (tokens, batch, hidden) tensors (XLNet);
        the stack's own output is (batch, tokens, hidden) either way.
    text_start : int or None
        None when the blocks see exactly the text's tokens; else the blocks
        see extra tokens too (CPM-Ant's prepended prompt, ProphetNet's
        appended n-gram streams) and the text's tokens are the ones from
        this index on, as many as the text has.
    parallel : tuple of str
        Paths of further ``ModuleList`` s whose entry ``i`` is also part of
        block ``i``, in the order a block runs them, when a model keeps its
        blocks' parts in parallel lists (XLM: ``attentions``, ``layer_norm1``,
        ``ffns``, ``layer_norm2``; ``blocks`` is the first). Empty otherwise.
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
    runs: tuple = ()
    time_major: bool = False
    text_start: int | None = None
    parallel: tuple = ()

    @property
    def kind(self) -> str:
        """``"decoder"`` (causal) or ``"encoder"``."""
        return "decoder" if self.causal else "encoder"

    @property
    def name(self) -> str:
        """The model type, for provenance."""
        return self.model_type

    def block_path(self, i: int) -> str:
        """Path of block ``i`` (its first part, for blocks kept in parallel lists)."""
        return f"{self.blocks}.{i}"

    def n_runs(self, i: int) -> int:
        """How many times block ``i`` runs in one forward pass."""
        return self.runs[i] if self.runs else 1

    @property
    def running(self) -> tuple:
        """The indices of the blocks that run, the ones with representations."""
        return tuple(i for i in range(self.n_blocks) if self.n_runs(i))

    @property
    def lists(self) -> tuple:
        """Paths of every ``ModuleList`` that holds the blocks (one, or the parallel ones)."""
        return (self.blocks,) + tuple(self.parallel)

    def block_output_path(self, i: int) -> str:
        """Path of the module whose output is block ``i``'s output (its last part, for parallel lists)."""
        return f"{self.lists[-1]}.{i}"

    def to_dict(self) -> dict:
        return {"model_type": self.model_type, "blocks": self.blocks, "n_blocks": self.n_blocks,
                "feed_forward": list(self.feed_forward), "producers": list(self.producers),
                "final_norm": self.final_norm, "stack": self.stack, "final": self.final, "kind": self.kind,
                "runs": list(self.runs) or None,
                "time_major": self.time_major, "text_start": self.text_start, "parallel": list(self.parallel)}


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
        raise ValueError(_no_blocks_message(model, f"model type {model_type!r}: {UNSUPPORTED[model_type]}"))
    cached = _CACHE.get(model)
    if cached is not None and _still_valid(model, cached):
        return cached
    from ._probe import NoBlocks, Probe

    try:
        found = Probe(model).layout()
    except NoBlocks as err:
        raise ValueError(_no_blocks_message(model, str(err))) from None
    structure = Structure(model_type, **found)
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
