import json
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.usefixtures("torch_single_thread")

import zigzag  # noqa: E402
from zigzag.adapters import extract  # noqa: E402
from zigzag.models import Evaluation, evaluate, knn_overlap, lm_eval_tasks, prune_model  # noqa: E402
from zigzag.pruning import PrunePlan  # noqa: E402
from zigzag.texts import builtin_corpus  # noqa: E402

DECODERS = ("llama", "mistral", "qwen2", "gemma", "phi", "gpt2", "gpt_neox")


def _blocks(model):
    from zigzag.adapters.families import family_of

    return model.base_model.get_submodule(family_of(model).blocks)


def _layer_indices(model):
    return [[m.layer_idx for m in block.modules() if isinstance(getattr(m, "layer_idx", None), int)]
            for block in _blocks(model)]


@pytest.mark.parametrize("family", DECODERS + ("bert",))
def test_pruned_model_generates_and_survives_save_and_reload(family, make_tiny_model, tiny_tokenizer, tmp_path):
    model = make_tiny_model(family, n_layers=4)
    pruned = prune_model(model, [1, 2])
    assert len(_blocks(model)) == 4 and len(_blocks(pruned)) == 2  # the input model is left alone
    assert pruned.config.num_hidden_layers == 2 and model.config.num_hidden_layers == 4
    assert pruned.config.zigzag_kept_blocks == [0, 3]
    assert all(set(ix) == {i} for i, ix in enumerate(_layer_indices(pruned)) if ix)
    assert _blocks(pruned)[1] is not _blocks(model)[3]
    ids = tiny_tokenizer(builtin_corpus(1)[0], add_special_tokens=False, return_tensors="pt")["input_ids"]
    if family != "bert":
        cached = pruned.generate(ids, max_new_tokens=6, do_sample=False, pad_token_id=0)
        uncached = pruned.generate(ids, max_new_tokens=6, do_sample=False, pad_token_id=0, use_cache=False)
        assert cached.shape[1] == ids.shape[1] + 6 and torch.equal(cached, uncached)
    pruned.save_pretrained(tmp_path)
    reloaded = type(pruned).from_pretrained(tmp_path).eval()
    assert len(_blocks(reloaded)) == 2 and reloaded.config.zigzag_kept_blocks == [0, 3]
    with torch.no_grad():
        a, b = pruned(input_ids=ids), reloaded(input_ids=ids)
    key = "last_hidden_state" if family == "bert" else "logits"
    torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)
    # the kept blocks compute what they computed in the full model
    with torch.no_grad():
        x = model(input_ids=ids, output_hidden_states=True).hidden_states[1]
        y = pruned(input_ids=ids, output_hidden_states=True).hidden_states[1]
    torch.testing.assert_close(x, y)


def test_prune_model_keeps_per_layer_config_entries_and_takes_plans(tiny_tokenizer):
    config = transformers.Qwen2Config(vocab_size=len(tiny_tokenizer), num_hidden_layers=4, num_attention_heads=4,
                                      num_key_value_heads=2, hidden_size=32, intermediate_size=64,
                                      use_sliding_window=True, sliding_window=4, max_window_layers=2)
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(config).eval()
    assert model.config.layer_types == ["full_attention", "full_attention", "sliding_attention", "sliding_attention"]
    plan = PrunePlan("manual", blocks=[0, 2], n_blocks=4, scores=np.zeros(5))
    pruned = prune_model(model, plan)
    assert pruned.config.layer_types == ["full_attention", "sliding_attention"]
    assert pruned.config.max_window_layers == 1 and pruned.config.num_hidden_layers == 2
    assert [b.self_attn.layer_idx for b in pruned.model.layers] == [0, 1]
    twice = prune_model(pruned, [0])
    assert twice.config.zigzag_kept_blocks == [3] and twice.config.num_hidden_layers == 1
    with pytest.raises(ValueError, match="0..3"):
        prune_model(model, [4])
    with pytest.raises(ValueError, match="distinct"):
        prune_model(model, [1, 1])
    with pytest.raises(ValueError, match="remove all 4 blocks"):
        prune_model(model, range(4))
    with pytest.raises(TypeError, match="iterable of ints"):
        prune_model(model, 2)
    with pytest.raises(ValueError, match="plan is for a model with 8 blocks"):
        prune_model(model, PrunePlan("manual", blocks=[0], n_blocks=8, scores=np.zeros(9)))
    inplace = prune_model(model, [3], copy=False)
    assert inplace is model and len(_blocks(model)) == 3 and model.config.num_hidden_layers == 3


@pytest.mark.parametrize("family", ("llama", "gpt2", "bert"))
def test_prune_model_shared_copy_reuses_the_weights_and_computes_what_a_deep_copy_does(family, make_tiny_model,
                                                                                      tiny_tokenizer):
    model = make_tiny_model(family, n_layers=4)
    ids = tiny_tokenizer(builtin_corpus(2)[1], add_special_tokens=False, return_tensors="pt")["input_ids"]
    key = "last_hidden_state" if family == "bert" else "logits"
    with torch.no_grad():
        before = model(input_ids=ids)[key]
    shared, deep = prune_model(model, [1, 2], copy="shared"), prune_model(model, [1, 2])
    pairs = list(zip(_blocks(shared)[1].parameters(), _blocks(model)[3].parameters()))
    assert pairs and all(a is b for a, b in pairs)  # the same tensors: no second copy of the weights
    assert all(a.data_ptr() != b.data_ptr() for a, b in zip(_blocks(deep)[1].parameters(),
                                                            _blocks(model)[3].parameters()))
    assert _blocks(shared)[1] is not _blocks(model)[3] and len(_blocks(model)) == 4
    with torch.no_grad():
        torch.testing.assert_close(shared(input_ids=ids)[key], deep(input_ids=ids)[key], rtol=0, atol=0)
        torch.testing.assert_close(model(input_ids=ids)[key], before, rtol=0, atol=0)  # the input model is intact
    assert model.config.num_hidden_layers == 4 and shared.config.zigzag_kept_blocks == [0, 3]
    with pytest.raises(ValueError, match="True, False or 'shared'"):
        prune_model(model, [1], copy="deep")


def _kinds(config, rule):
    return [rule(config, i) for i in range(config.num_hidden_layers)]


def test_rules_that_decide_a_blocks_kind_follow_the_kept_blocks():
    from zigzag.models.per_layer import prune_config

    def sparse(c, i):  # Qwen2-MoE / Qwen3-MoE
        return i not in c.mlp_only_layers and (i + 1) % c.decoder_sparse_step == 0

    moe = transformers.Qwen2MoeConfig(num_hidden_layers=6, decoder_sparse_step=2, mlp_only_layers=[5])
    before = _kinds(moe, sparse)
    prune_config(moe, [2, 3, 4, 5], 6, "model.layers")
    assert _kinds(moe, sparse) == [before[i] for i in (2, 3, 4, 5)] and moe.num_hidden_layers == 4

    def attention(c, i):  # Jamba
        return i % c.attn_layer_period == c.attn_layer_offset

    jamba = transformers.JambaConfig(num_hidden_layers=8, attn_layer_period=4, attn_layer_offset=2,
                                     expert_layer_period=2, expert_layer_offset=1)
    before = _kinds(jamba, attention)
    prune_config(jamba, [1, 2, 3, 6, 7], 8, "model.layers")
    assert _kinds(jamba, attention) == [before[i] for i in (1, 2, 3, 6, 7)]
    with pytest.raises(ValueError, match="cannot be written as one period and offset"):
        prune_config(transformers.JambaConfig(num_hidden_layers=8, attn_layer_period=2, attn_layer_offset=0),
                     [0, 2, 3], 8, "model.layers")
    deepseek = transformers.DeepseekV3Config(num_hidden_layers=6, first_k_dense_replace=3)
    prune_config(deepseek, [0, 2, 4, 5], 6, "model.layers")
    assert deepseek.first_k_dense_replace == 2 and deepseek.num_hidden_layers == 4


def test_evaluate_causal_lm_perplexity_matches_the_model_loss(make_tiny_model, tiny_tokenizer):
    model = make_tiny_model("llama", n_layers=3)
    text = builtin_corpus(1, seed=5)
    same = evaluate(model, model, tiny_tokenizer, text, progress=False, add_special_tokens=False)
    ids = tiny_tokenizer(text[0], add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        loss = model(input_ids=ids, labels=ids).loss.item()
    assert same.kind == "causal_lm"
    assert same.metrics["perplexity_full"] == pytest.approx(np.exp(loss), rel=1e-5)
    assert same.metrics["perplexity_ratio"] == pytest.approx(1.0)
    texts = builtin_corpus(12, seed=6)
    batched = evaluate(model, prune_model(model, [1]), tiny_tokenizer, texts, batch_size=5, progress=False)
    alone = evaluate(model, prune_model(model, [1]), tiny_tokenizer, texts, batch_size=1, progress=False)
    assert batched.metrics["nll_pruned"] == pytest.approx(alone.metrics["nll_pruned"], rel=1e-5)
    assert batched.n_blocks_full == 3 and batched.n_blocks_pruned == 2
    assert batched.metrics["perplexity_pruned"] != batched.metrics["perplexity_full"]
    assert json.loads(json.dumps(batched.to_dict()))["params"]["kept_blocks"] == [0, 2]


def test_knn_overlap_matches_brute_force():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 5))
    b = a + rng.normal(scale=0.3, size=a.shape)

    def brute(x, k):
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        sim = x @ x.T
        np.fill_diagonal(sim, -np.inf)
        return [set(np.argsort(-row, kind="stable")[:k]) for row in sim]

    expect = np.mean([len(p & q) / 4 for p, q in zip(brute(a, 4), brute(b, 4))])
    assert knn_overlap(a, b, 4) == pytest.approx(expect)
    assert knn_overlap(a, a, 4) == 1.0


# ---------------------------------------------------------------- the embedded trained model
@pytest.fixture(scope="module")
def minilm_texts():
    return builtin_corpus(200, seed=0)


def test_minilm_residual_clouds_equal_output_hidden_states(minilm, minilm_texts):
    model, tokenizer = minilm
    clouds = extract(model, tokenizer, minilm_texts, hook="residual", pooling="mean", batch_size=64, progress=False)
    assert clouds.n_layers == 7 and clouds.n_features == (384,) * 7
    assert clouds.meta["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    enc = tokenizer(minilm_texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = model(**enc, output_hidden_states=True).hidden_states
    mask = enc["attention_mask"][..., None].float()
    for layer, state in zip(clouds.layers, states):
        expect = (state * mask).sum(1) / mask.sum(1)
        np.testing.assert_allclose(layer, expect.numpy(), atol=2e-5)


def test_minilm_evaluation_and_profile_in_seconds(minilm, minilm_texts):
    model, tokenizer = minilm
    start = time.perf_counter()
    clouds = extract(model, tokenizer, minilm_texts, batch_size=64, progress=False)
    bars = zigzag.compute(clouds, k=5, max_dim=1)
    from zigzag.pruning import pruning_profile

    profile = pruning_profile(bars)
    elapsed = time.perf_counter() - start
    assert profile.shape == (7,) and np.isfinite(profile).all() and profile.max() > 0
    assert elapsed < 60, f"last-token profile of 200 texts took {elapsed:.1f} s"
    texts = minilm_texts[:40]
    same = evaluate(model, model, tokenizer, texts, batch_size=40, progress=False)
    assert same.kind == "encoder"
    assert same.metrics["mean_cosine"] == pytest.approx(1.0) and same.metrics["knn_overlap"] == 1.0
    cut = evaluate(model, prune_model(model, [1, 2, 3]), tokenizer, texts, batch_size=40, progress=False)
    assert isinstance(cut, Evaluation) and cut.n_blocks_pruned == 3
    assert 0 < cut.metrics["mean_cosine"] < 0.999 and 0 <= cut.metrics["knn_overlap"] < 1
    with pytest.raises(ValueError, match="at least 6 texts"):
        evaluate(model, model, tokenizer, texts[:5], progress=False)
