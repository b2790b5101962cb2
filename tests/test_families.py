"""Every model family: the structure zigzag finds, checked on every causal-LM type transformers ships.

Each causal-LM model type of the installed transformers (and the encoder families sentence-embedding
users load) is built as a tiny random model (``tests/tiny_models.py``: hidden size 32, 4 blocks) and
is one test case, which must end one of three ways:

* **supported**: three checks pass.
  1. ``hook="residual"`` equals ``output_hidden_states`` at the last real token, padded on the left
     and on the right, against each text run alone.
  2. ``hook="post_attention_norm"`` equals what the block's feed-forward module receives, captured by
     this test's own forward pre-hook on each text run alone; for the families the issue names, the
     module and the norm that produces its input are also the ones read from the transformers source
     (``NAMED``), and for every type the module found is a feed-forward one by name (an oracle the
     library does not use).
  3. ``prune_model`` gives the logits of the original model with the removed blocks skipped (an
     identity hook, so no config is involved), the logits of a reference built from the pruned config
     with the kept blocks' weights renamed and loaded strictly, and the same after ``save_pretrained``
     -> ``from_pretrained`` (no missing or unexpected weight); greedy ``generate`` with a cache gives
     the tokens it gives without one.
* **unsupported** (``UNSUPPORTED``): zigzag refuses it with a one-line error that names the
  module-pattern route.
* **not buildable** (``NOT_BUILDABLE``): transformers cannot build or run the tiny model.

The counts are checked against docs/adapters.md by ``test_share_of_supported_types``.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytestmark = pytest.mark.usefixtures("torch_single_thread")

from tiny_models import ENCODERS, causal_lm_types, tiny_model, word_tokenizer  # noqa: E402

import zigzag  # noqa: E402
from zigzag.adapters import find_structure  # noqa: E402
from zigzag.models import prune_model  # noqa: E402

TEXTS = ["the cat sat on the mat", "a dog ran", "birds fly south in winter and then it was very quiet"]
REMOVE = (0, 2)  # of 4 blocks: the kept blocks 1 and 3 are renumbered 0 and 1

NOT_BUILDABLE = {
    "blt": "byte-latent model: its patcher, encoder and global configs do not shrink together",
    "dots3_note": "the multimodal config's per-layer table is written for its full depth",
    "gemma3n": "the audio and vision towers need the timm package",
    "gemma3n_text": "its key/value-sharing layer pattern is fixed for 35 layers",
    "gemma4_assistant": "a draft model: it needs the target model's hidden states",
    "gemma4_unified_assistant": "a draft model: it needs the target model's shared key/value states",
    "musicgen": "its decoder reads audio codebooks, not token ids",
    "musicgen_melody": "its decoder reads audio codebooks, not token ids",
    "xlstm": "its recurrent kernels reject the tiny head sizes",
    "zamba": "its tied shared-transformer weights fail to build at 4 layers",
}

UNSUPPORTED = {
    "mamba": "a state-space model: no attention and no feed-forward part in its blocks",
    "mamba2": "a state-space model: no attention and no feed-forward part in its blocks",
    "falcon_mamba": "a state-space model: no attention and no feed-forward part in its blocks",
    "rwkv": "a recurrent model: no attention and no separate feed-forward input",
    "reformer": "LSH attention with random rotations per pass, chunked over the padded batch; two residual streams",
    "hrm_text": "two stacks of blocks alternating in nested loops on two separate states",
    "zamba2": "Mamba blocks without a feed-forward part; attention and MLP in shared transformer blocks",
    "nemotron_h": "each block is a single mixer: attention, state-space, MLP or experts, never two",
}
# where blocks 0 and 2 cannot be removed: the blocks removed instead, whether removing 0 and 2 must be refused
REMOVE_INSTEAD = {
    "modernbert-decoder": ((1, 2), True),  # block 0 has no attention norm: no other block can become block 0
    "modernbert-encoder": ((1, 2), True),
    "zaya": ((1, 2), True),  # block 0's router has no state scale: no other block can become block 0
    "inkling2_text": ((1, 2), True),  # block 0 has no attention over earlier blocks' states (attention_input)
    "inkling2_loop_text": ((1, 3), True),  # and keep one of the looped blocks 1 and 2
    "recurrent_gemma": ((0, 1), False),  # blocks 1 and 3 are recurrent; a model with no attention cannot generate
}
# families whose pruned model is not the full model with the removed blocks skipped, and why (the other two
# oracles still hold: the pruned model is the reduced-depth model its config builds, and reloads unchanged)
SKIP_DIFFERS = {
    "beam": "depth-scaled residuals computed from the block index",
    "diffllama": "lambda_init computed from the block index",
    "minicpm3": "residuals scaled by scale_depth / sqrt(num_hidden_layers)",
    "gemma4": "which block stores the key/value states shared layers reuse follows the position",
    "gemma4_text": "which block stores the key/value states shared layers reuse follows the position",
    "gemma4_unified": "which block stores the key/value states shared layers reuse follows the position",
    "gemma4_unified_text": "which block stores the key/value states shared layers reuse follows the position",
    "zaya": "each block's router reads the previous block's router state",
    "minimax": "its linear attention's decay rate is computed from the block index and the depth",
    # the model, outside the blocks, adds the input of every n_layers_per_attn_res_block-th block to the states that
    # later blocks and the final norm attend over: a skipped block 2 still adds one, the pruned model has none there
    "inkling2_text": "which blocks start a group of attention residuals follows the position",
    "inkling2_loop_text": "which blocks start a group of attention residuals follows the position",
}
# families whose blocks run more than once per forward pass (read from the transformers source), and how: their
# hidden_states hold one entry per block run, and a block's representation is its last run
LOOPED = {
    "dory": "DoryModel.forward runs its recurrent section n_recurrent_loops times, after the input section",
    "inkling2_loop_text": "Inkling2LoopTextModel.forward runs blocks loop_layer_index_start..end-1 loop_num_passes times",
}
# families some of whose blocks do not run in a text-only forward pass (read from the transformers source): they have
# no hidden state in output_hidden_states and no representation
SKIPPED = {
    "mllama": "MllamaTextModel.forward skips the blocks in cross_attention_layers when there are no image states",
}
# families whose results depend on left padding (so zigzag pads on the right by default), and why
LEFT_PADDING_DIFFERS = {
    "deepseek_v4": "its compressed attention groups tokens by absolute position, padding included",
}
# families whose blocks see the text's tokens first and then other tokens, and where that is written (the test
# takes the text's last token there; elsewhere the text's tokens are the last ones the blocks see)
TEXT_FIRST = {
    # modeling_prophetnet.py, ProphetNetDecoder.forward: hidden_states = torch.cat([hidden_states] +
    # ngram_hidden_states, 1), the main stream (the text's tokens) first, then the n-gram prediction streams
    "prophetnet": "n-gram prediction streams appended after the text's tokens",
}
# families that keep their blocks' parts in parallel lists, read from the transformers source: each list, and what
# its entry returns when the block is skipped ("zero": nothing is added to the residual; "input": it passes through)
PARALLEL = {
    # modeling_xlm.py, XLMModel.forward: tensor = layer_norm1[i](tensor + attentions[i](tensor)[0]);
    # tensor = layer_norm2[i](tensor + ffns[i](tensor)); tensor *= mask (1 on unpadded text)
    "xlm": {"transformer.attentions": "zero", "transformer.layer_norm1": "input", "transformer.ffns": "zero",
            "transformer.layer_norm2": "input"},
}
# The feed-forward module, the module producing its input ({i}: the block) and the final norm, read from the
# transformers source for the families the issue names and the ones zigzag supported before.
_LLAMA = ("model.layers.{i}.mlp", "model.layers.{i}.post_attention_layernorm", "model.norm")
NAMED = {
    "llama": _LLAMA, "mistral": _LLAMA, "qwen2": _LLAMA, "gemma": _LLAMA, "qwen3": _LLAMA, "qwen3_moe": _LLAMA,
    "phi3": _LLAMA, "gpt_oss": _LLAMA, "mixtral": _LLAMA, "deepseek_v3": _LLAMA, "granite": _LLAMA,
    "ministral": _LLAMA, "smollm3": _LLAMA,
    "gemma2": ("model.layers.{i}.mlp", "model.layers.{i}.pre_feedforward_layernorm", "model.norm"),
    "gemma3_text": ("model.layers.{i}.mlp", "model.layers.{i}.pre_feedforward_layernorm", "model.norm"),
    "gemma3": ("model.language_model.layers.{i}.mlp", "model.language_model.layers.{i}.pre_feedforward_layernorm",
               "model.language_model.norm"),
    "olmo2": ("model.layers.{i}.mlp", None, "model.norm"),  # post-norm: the MLP reads the residual stream
    "olmo3": ("model.layers.{i}.mlp", None, "model.norm"),
    "cohere2": ("model.layers.{i}.mlp", "model.layers.{i}.input_layernorm", "model.norm"),  # parallel block
    "phi": ("model.layers.{i}.mlp", "model.layers.{i}.input_layernorm", "model.final_layernorm"),  # parallel
    "llama4_text": ("model.layers.{i}.feed_forward", "model.layers.{i}.post_attention_layernorm", "model.norm"),
    "gpt2": ("transformer.h.{i}.mlp", "transformer.h.{i}.ln_2", "transformer.ln_f"),
    "gpt_neox": ("gpt_neox.layers.{i}.mlp", "gpt_neox.layers.{i}.post_attention_layernorm",
                 "gpt_neox.final_layer_norm"),  # parallel residual: a norm of the block input
    # hyper-connections: four parallel residual streams (hc_count), concatenated; mlp_hyper_connection mixes them
    # into the one hidden-size input of the MoE block; the stack ends with hyper_connection_mixer, no norm
    "qwen4_exp": ("model.layers.{i}.mlp", "model.layers.{i}.mlp_hyper_connection", None),
    "qwen4_exp_text": ("model.layers.{i}.mlp", "model.layers.{i}.mlp_hyper_connection", None),
    # nGPT-style blocks: L2 norms; model.norm also normalises the recurrent section's input, so it is no final norm
    "dory": ("model.layers.{i}.mlp", "model.layers.{i}.pre_feedforward_layernorm", None),
    "bert-encoder": ("encoder.layer.{i}.intermediate", "encoder.layer.{i}.attention.output.LayerNorm", None),
}
FEED_FORWARD_NAME = re.compile(r"mlp|moe|feed_?forward|ffn|intermediate|expert|fc1|\bff\b", re.IGNORECASE)

CASES = [(t, "AutoModelForCausalLM", t) for t in causal_lm_types()] + \
        [(t, "AutoModel", f"{t}-encoder") for t in ENCODERS]


@pytest.fixture(scope="module")
def tokenizer():
    return word_tokenizer()


def _first(output):
    if isinstance(output, torch.Tensor):
        return output
    return output[0] if isinstance(output, (tuple, list)) else output.to_tuple()[0]


def _ids(tokenizer, text, special):
    return tokenizer(text, add_special_tokens=special, return_tensors="pt")["input_ids"]


class block_calls:  # noqa: N801 - a context manager used like a function
    """The indices of the blocks in the order they run during one forward pass (this test's own hooks)."""

    def __init__(self, model):
        self.blocks = model.get_submodule(find_structure(model).blocks)

    def __enter__(self):
        calls = []
        self.handles = [block.register_forward_hook(lambda *_, i=i: calls.append(i))
                        for i, block in enumerate(self.blocks)]
        return calls

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


def check_residual(model, tokenizer, case):
    """1. residual == output_hidden_states at the last real token, either padding side, vs each text alone."""
    for side in ("right",) if case in LEFT_PADDING_DIFFERS else ("left", "right"):
        clouds = zigzag.extract(model, tokenizer, TEXTS, hook="residual", pooling="last", padding_side=side,
                                batch_size=len(TEXTS), progress=False)
        for i, text in enumerate(TEXTS):
            with block_calls(model) as calls, torch.no_grad():
                states = model(input_ids=_ids(tokenizer, text, clouds.meta["add_special_tokens"]),
                               output_hidden_states=True).hidden_states
            if case in LOOPED:  # one hidden state per block run: a looped block's last run is its representation
                assert len(states) == len(calls) + 1 and calls != sorted(set(calls)), calls
                last_run = {block: k for k, block in enumerate(calls)}
                states = [states[0]] + [states[1 + last_run[b]] for b in range(clouds.n_layers - 2)] + [states[-1]]
            else:
                assert calls == sorted(set(calls)), f"blocks ran in the order {calls}: a loop not in LOOPED"
            assert len(states) == clouds.n_layers, f"{len(states)} hidden states, {clouds.n_layers} representations"
            for layer, state in zip(clouds.layers, states):  # parallel residual streams are one vector
                np.testing.assert_allclose(layer[i], state[0, -1].reshape(-1).float().numpy(), atol=1e-4, rtol=1e-4,
                                           err_msg=f"residual, padding {side}, text {i}")


def check_feed_forward(model, tokenizer, case):
    """2. the paper's hook == the feed-forward module's input, captured by our own pre-hook on each text alone."""
    structure = find_structure(model)
    clouds = zigzag.extract(model, tokenizer, TEXTS, pooling="last", batch_size=len(TEXTS), progress=False)
    paths = [p for p in structure.feed_forward if p is not None]  # the blocks that do not run have none
    assert clouds.n_layers == len(paths) + 1
    assert len(paths) == structure.n_blocks or case in SKIPPED, structure.feed_forward
    if case in NAMED:
        ff, producer, final = NAMED[case]
        assert list(structure.feed_forward) == [ff.format(i=i) for i in range(4)]
        assert list(structure.producers) == [producer and producer.format(i=i) for i in range(4)]
        assert structure.final_norm == final
    for path in paths:
        module = model.get_submodule(path)
        parent = path.rpartition(".")[0]  # or the first layer of one that starts with its own norm
        assert FEED_FORWARD_NAME.search(path.rsplit(".", 1)[-1]) or FEED_FORWARD_NAME.search(type(module).__name__) \
            or (FEED_FORWARD_NAME.search(parent.rsplit(".", 1)[-1]) and structure.producers[
                structure.feed_forward.index(path)].startswith(parent + ".")), \
            f"{path} ({type(module).__name__}) does not look like a feed-forward module"
    for i, text in enumerate(TEXTS):
        seen = [[] for _ in paths]

        def grab(block):
            def hook(module, args, kwargs):
                seen[block].append((args[0] if args and torch.is_tensor(args[0]) else kwargs["hidden_states"]).clone())

            return hook

        handles = [model.get_submodule(p).register_forward_pre_hook(grab(b), with_kwargs=True)
                   for b, p in enumerate(paths)]
        with block_calls(model) as calls, torch.no_grad():
            model(input_ids=_ids(tokenizer, text, clouds.meta["add_special_tokens"]))
        for handle in handles:
            handle.remove()
        ran = sorted(set(calls))  # the blocks that ran, in order: one representation each
        assert len(ran) == len(paths) and (len(ran) == structure.n_blocks or case in SKIPPED), calls
        n_tokens = _ids(tokenizer, text, clouds.meta["add_special_tokens"]).shape[1]
        for block, runs in enumerate(seen):  # once per run of its block; a looped block's last run counts
            assert len(runs) == calls.count(ran[block]), f"block {ran[block]} ran {calls.count(ran[block])} times"
            x = runs[-1]
            if case in TEXT_FIRST:
                x = x[:, :n_tokens]
            last = x.reshape(-1, x.shape[-1])[-1]  # (tokens, hidden) whether flattened or not; batch of one
            np.testing.assert_allclose(clouds.layers[block][i], last.float().numpy(), atol=1e-4, rtol=1e-4,
                                       err_msg=f"feed-forward input of block {block}, text {i}")


def _output(model, ids):
    """Logits (or, for an encoder, the last hidden state) of one unpadded text, without a cache."""
    import inspect

    kwargs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if "use_cache" in inspect.signature(model.forward).parameters:
        kwargs["use_cache"] = False
    with torch.no_grad():
        out = model(**kwargs)
    return out.logits if getattr(out, "logits", None) is not None else out.last_hidden_state


def check_pruning(model, tokenizer, tmp_path, case, causal_lm: bool, caplog):
    """3. prune_model == skipping the blocks; == reference from the pruned config; == after reload; generate."""
    structure = find_structure(model)
    ids = _ids(tokenizer, TEXTS[2], not structure.causal)
    remove, refused = REMOVE_INSTEAD.get(case, (REMOVE, False))
    if refused:
        with pytest.raises(ValueError, match="keep block 0"):
            prune_model(model, list(REMOVE))
    kept = tuple(i for i in range(4) if i not in remove)
    with caplog.at_level("WARNING", logger="zigzag"):
        pruned = prune_model(model, list(remove))
    if "recomputed for the new depth" in caplog.text:
        assert case in SKIP_DIFFERS, caplog.text
    lists = PARALLEL.get(case, {structure.blocks: "input"})
    assert all(len(pruned.get_submodule(path)) == 2 for path in lists)
    assert pruned.config.zigzag_kept_blocks == list(kept)
    got = _output(pruned, ids)

    if case not in SKIP_DIFFERS:
        def skip(passes):
            def hook(module, args, kwargs, output):  # the block passes its input through unchanged
                x = args[0] if args and torch.is_tensor(args[0]) else kwargs["hidden_states"]
                x = x if passes == "input" else torch.zeros_like(_first(output))
                return x if torch.is_tensor(output) else (x,) + tuple(output[1:])

            return hook

        handles = [model.get_submodule(path)[i].register_forward_hook(skip(passes), with_kwargs=True)
                   for path, passes in lists.items() for i in remove]
        try:
            skipped = _output(model, ids)
        finally:
            for handle in handles:
                handle.remove()
        torch.testing.assert_close(got, skipped, atol=1e-4, rtol=1e-4, msg="pruned != original with blocks skipped")

    weights = {}
    for name, tensor in model.state_dict().items():
        prefix = next((path + "." for path in lists if name.startswith(path + ".")), None)
        if prefix:
            index, _, rest = name[len(prefix):].partition(".")
            if int(index) not in kept:
                continue
            name = f"{prefix}{kept.index(int(index))}.{rest}"
        weights[name] = tensor
    torch.manual_seed(1)
    reference = type(model)._from_config(copy.deepcopy(pruned.config)).eval()
    own = reference.state_dict()
    for name, tensor in list(weights.items()):  # weights packed per block outside the blocks (Gemma 4)
        if name.endswith("message_input.query"):  # Inkling 2 Loop: one query row per looped block, in order
            config = model.config.get_text_config()
            start, end = config.loop_layer_index_start, config.loop_layer_index_end
            weights[name] = tensor[[i - start for i in kept if start <= i < end]]
            continue
        if name in own and own[name].shape != tensor.shape and "per_layer" in name:
            dim = 0 if own[name].shape[0] != tensor.shape[0] else 1
            per = tensor.shape[dim] // 4
            parts = torch.split(tensor, per, dim=dim)
            weights[name] = torch.cat([parts[i] for i in kept], dim=dim)
    missing, unexpected = reference.load_state_dict(weights, strict=False)
    assert not missing and not unexpected, f"reference: missing {missing[:3]}, unexpected {unexpected[:3]}"
    torch.testing.assert_close(_output(reference, ids), got, atol=1e-5, rtol=1e-5, msg="reference from config")

    pruned.save_pretrained(tmp_path)
    reloaded, info = type(pruned).from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    torch.testing.assert_close(_output(reloaded.eval(), ids), got, atol=1e-5, rtol=1e-5, msg="after reload")
    assert reloaded.config.zigzag_kept_blocks == list(kept)
    if causal_lm:
        prompt = ids[:, :4]
        kw = dict(max_new_tokens=3, do_sample=False, pad_token_id=0, attention_mask=torch.ones_like(prompt))
        cached = reloaded.generate(prompt, **kw)
        assert cached.shape[1] == 7, "generate with a cache"
        if structure.causal:  # a bidirectional model (BERT's LM head) rereads its whole context at each step
            assert torch.equal(cached, reloaded.generate(prompt, use_cache=False, **kw)), "generate with a cache"


@pytest.mark.parametrize("model_type, auto, case", CASES, ids=[c[2] for c in CASES])
def test_family(model_type, auto, case, tokenizer, tmp_path, caplog):
    if case in NOT_BUILDABLE:
        with pytest.raises(Exception):  # noqa: B017 - transformers' own errors, whatever their type
            model = tiny_model(model_type, auto=auto)
            with torch.no_grad():
                model(input_ids=torch.tensor([[6, 7, 8, 9]]))
        return
    model = tiny_model(model_type, auto=auto)
    if case in UNSUPPORTED:
        with pytest.raises(ValueError) as err:
            zigzag.extract(model, tokenizer, TEXTS, progress=False)
        assert "\n" not in str(err.value) and "pattern" in str(err.value), str(err.value)
        return
    check_residual(model, tokenizer, case)
    check_feed_forward(model, tokenizer, case)
    check_pruning(model, tokenizer, tmp_path, case, auto == "AutoModelForCausalLM", caplog)


def test_share_of_supported_types():
    """The share of causal-LM types that build tiny and are supported; docs/adapters.md says how many.

    The goal is 95%; this guards the measured 95.7% against regressions (the rest are listed in UNSUPPORTED).
    """
    types = causal_lm_types()
    buildable = [t for t in types if t not in NOT_BUILDABLE]
    supported = [t for t in buildable if t not in UNSUPPORTED]
    share = len(supported) / len(buildable)
    summary = f"{len(supported)} of {len(buildable)} causal-LM types that build tiny are supported ({share:.1%})"
    print(summary, f"({len(types)} causal-LM types in transformers)")
    assert share >= 0.95, summary
    docs = (Path(__file__).resolve().parents[1] / "docs" / "adapters.md").read_text(encoding="utf-8")
    assert f"**{len(supported)} of {len(buildable)}**" in docs, f"docs/adapters.md must say: {summary}"
    for model_type in list(UNSUPPORTED) + list(NOT_BUILDABLE):
        assert f"`{model_type}`" in docs, f"docs/adapters.md must list the exclusion {model_type!r}"


# XLNet without a perm_mask, and CPM-Ant (its context mask is all ones), attend both ways: encoders, mean pooling.
# mllama: saved with its text config, which no auto class maps (loaded by its declared class); its text-only pass
# skips the cross-attention block 3, so 3 blocks have representations (test_plan_counts_the_blocks_that_run)
@pytest.mark.parametrize("model_type, evaluate, pooling, n_blocks", [
    ("qwen3", True, "last", 4), ("gemma3_text", False, "last", 4), ("gpt_oss", False, "last", 4),
    ("olmo2", False, "last", 4), ("phi3", False, "last", 4), ("deepseek_v3", False, "last", 4),
    ("xlnet", False, "mean", 4), ("cpmant", False, "mean", 4), ("mllama", False, "last", 3)])
def test_zigzag_run_on_a_saved_tiny_model(model_type, evaluate, pooling, n_blocks, tokenizer, tmp_path, capsys):
    from tiny_models import WORDS

    from zigzag.cli import main

    folder = tmp_path / "model"
    tiny_model(model_type).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    rng = np.random.default_rng(0)
    lines = {" ".join(rng.choice(WORDS, size=rng.integers(4, 12))) for _ in range(40)}
    (tmp_path / "texts.txt").write_text("\n".join(sorted(lines)[:24]) + "\n", encoding="utf-8")
    out = tmp_path / "report"
    args = ["run", "--model", str(folder), "--texts", str(tmp_path / "texts.txt"), "--n-texts", "24", "--k", "3",
            "--out", str(out), "-q"] + ([] if evaluate else ["--no-evaluate"])
    assert main(args) == 0, capsys.readouterr().err
    import json

    record = json.loads((out / "run.json").read_text())
    family = {"mllama": "mllama_text_model"}.get(model_type, model_type)  # the text config it saves
    assert record["model"]["family"] == family and record["model"]["n_blocks"] == n_blocks
    assert record["config"]["pooling"] == pooling and record["clouds"]["n_layers"] == n_blocks + 1
    if evaluate:
        evaluations = json.loads((out / "evaluation.json").read_text())["evaluations"]
        assert evaluations and all(e["kind"] == "causal_lm" for e in evaluations)
        for e in evaluations:  # every evaluated plan removed as many blocks of the full list as it names
            assert e["n_blocks_full"] == 4 and e["n_blocks_full"] - e["n_blocks_pruned"] == len(e["blocks"]), e


def test_plan_counts_the_blocks_that_run():
    """Mllama's text-only pass skips its cross-attention blocks (cross_attention_layers, here block 1): a plan made
    from its representations counts the blocks that run, and prune_model maps it to the full list of blocks."""
    from transformers import CONFIG_MAPPING

    from zigzag.pruning import PrunePlan

    config = CONFIG_MAPPING["mllama"](text_config={"hidden_size": 32, "intermediate_size": 64,
                                                   "num_attention_heads": 4, "num_key_value_heads": 2,
                                                   "num_hidden_layers": 4, "cross_attention_layers": [1],
                                                   "vocab_size": 128, "pad_token_id": 0})
    torch.manual_seed(0)
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_config(config).eval()
    clouds = zigzag.extract(model, word_tokenizer(), TEXTS, progress=False)
    assert clouds.n_layers == 4  # blocks 0, 2, 3 and the final norm
    plan = PrunePlan("test", blocks=[1], n_blocks=clouds.n_layers - 1, scores=np.zeros(clouds.n_layers))
    pruned = prune_model(model, plan)  # the second block that runs is block 2
    assert pruned.config.zigzag_kept_blocks == [0, 1, 3] and pruned.config.cross_attention_layers == [1]
    with pytest.raises(ValueError, match="plan is for a model with 2 blocks"):
        prune_model(model, PrunePlan("test", blocks=[1], n_blocks=2, scores=np.zeros(3)))


@pytest.mark.parametrize("model_type", ["dory", "mllama"])
def test_distances_observed_with_looped_or_skipped_blocks(model_type, tokenizer):
    """The block-distance recorder keeps a looped block's last run and leaves out blocks that do not run, as the
    residual hook (checked against output_hidden_states above) does."""
    from zigzag.baselines import block_distances, observe_block_distances

    model = tiny_model(model_type)
    alone = block_distances(model, tokenizer, TEXTS, batch_size=2, progress=False)
    with observe_block_distances(model) as recorder:
        zigzag.extract(model, tokenizer, TEXTS, batch_size=2, progress=False)
    seen = recorder.result(TEXTS)
    assert alone.n_blocks == find_structure(model).n_blocks - (model_type == "mllama")
    for name in ("angular_last", "angular_tokens", "cosine_tokens"):
        np.testing.assert_allclose(getattr(seen, name), getattr(alone, name), rtol=1e-6, atol=1e-7)
