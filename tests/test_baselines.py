import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytestmark = pytest.mark.usefixtures("torch_single_thread")

from zigzag.baselines import (  # noqa: E402
    BlockDistances,
    angular_distance,
    angular_distance_plan,
    baseline_plans,
    block_distances,
    block_distances_from_states,
    block_influence_plan,
)
from zigzag.pruning import PrunePlan  # noqa: E402
from zigzag.texts import builtin_corpus  # noqa: E402


def test_angular_distance_formula():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(20, 7)), rng.normal(size=(20, 7))
    expect = [np.arccos(np.dot(x, y) / np.linalg.norm(x) / np.linalg.norm(y)) / np.pi for x, y in zip(a, b)]
    np.testing.assert_allclose(angular_distance(a, b), expect)
    assert angular_distance(a[0], 3 * a[0]) == pytest.approx(0.0, abs=1e-7)
    assert angular_distance(a[0], -a[0]) == pytest.approx(1.0)
    assert angular_distance([1.0, 0.0], [0.0, 2.0]) == pytest.approx(0.5)


def test_block_distances_match_naive_loops_with_padding():
    rng = np.random.default_rng(1)
    n_layers, batch, n_tok, dim = 4, 3, 5, 6
    states = [rng.normal(size=(batch, n_tok, dim)) for _ in range(n_layers)]
    mask = np.array([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]])  # left padding
    got = block_distances_from_states(states, mask)
    ang_last, ang_tok, cos_tok = np.zeros((n_layers,) * 2), np.zeros((n_layers,) * 2), np.zeros((n_layers,) * 2)
    for i in range(n_layers):
        for j in range(n_layers):
            ang_last[i, j] = np.mean([angular_distance(states[i][b, -1], states[j][b, -1]) for b in range(batch)])
            real = [(b, t) for b in range(batch) for t in range(n_tok) if mask[b, t]]
            ang_tok[i, j] = np.mean([angular_distance(states[i][b, t], states[j][b, t]) for b, t in real])
            cos_tok[i, j] = np.mean([np.dot(states[i][b, t], states[j][b, t])
                                     / np.linalg.norm(states[i][b, t]) / np.linalg.norm(states[j][b, t])
                                     for b, t in real])
    np.testing.assert_allclose(got.angular_last, ang_last, atol=1e-6)
    np.testing.assert_allclose(got.angular_tokens, ang_tok, atol=1e-6)
    np.testing.assert_allclose(got.cosine_tokens, cos_tok, atol=1e-6)
    np.testing.assert_allclose(got.block_influence(), 1 - np.diagonal(cos_tok, 1), atol=1e-6)
    assert got.n_blocks == 3 and got.n_texts == 3 and got.n_tokens == int(mask.sum())


def _distances(profile_last, bi):
    """BlockDistances whose m=2 angular profile and block influence are given."""
    n = len(bi) + 1
    last = np.full((n, n), 0.9)
    for start, value in enumerate(profile_last):
        last[start, start + 2] = value
    cos = np.eye(n)
    for block, value in enumerate(bi):
        cos[block, block + 1] = 1 - value
    return BlockDistances(last, last, cos, n_texts=10, n_tokens=50)


def test_plans_pick_the_closest_window_and_the_lowest_influence():
    distances = _distances(profile_last=[0.5, 0.3, 0.1, 0.4], bi=[0.9, 0.2, 0.05, 0.3, 0.05])
    angular = angular_distance_plan(distances, 2)
    assert isinstance(angular, PrunePlan) and angular.criterion == "angular-last"
    assert angular.blocks == (2, 3) and angular.params["window_start"] == 2 and angular.n_blocks == 5
    np.testing.assert_allclose(angular.scores, [0.5, 0.3, 0.1, 0.4])
    influence = block_influence_plan(distances, 2)
    assert influence.blocks == (2, 4) and influence.blocks_requested == 2
    np.testing.assert_allclose(influence.scores, [0.9, 0.2, 0.05, 0.3, 0.05])
    assert set(baseline_plans(distances, 2)) == {"angular-last", "angular-all", "block-influence"}
    with pytest.raises(ValueError, match="Cannot remove m=6"):
        angular_distance_plan(distances, 6)


def test_block_distances_of_a_model_are_batch_invariant_and_match_hidden_states(make_tiny_model, tiny_tokenizer):
    model = make_tiny_model("llama", n_layers=3)
    texts = builtin_corpus(9, seed=4)
    batched = block_distances(model, tiny_tokenizer, texts, batch_size=4, padding_side="left", progress=False)
    alone = block_distances(model, tiny_tokenizer, texts, batch_size=1, progress=False)
    for name in ("angular_last", "angular_tokens", "cosine_tokens"):
        np.testing.assert_allclose(getattr(batched, name), getattr(alone, name), atol=1e-5)
    assert batched.n_tokens == alone.n_tokens and batched.n_blocks == 3
    # against hidden_states of the same texts (right padding), the last entry taken before the final norm
    enc = tiny_tokenizer(texts, add_special_tokens=False, padding=True, return_tensors="pt")
    seen = []
    handle = model.model.layers[-1].register_forward_hook(lambda m, a, o: seen.append(o[0] if isinstance(o, tuple) else o))
    with torch.no_grad():
        states = list(model.model(**enc, output_hidden_states=True).hidden_states)
    handle.remove()
    states[-1] = seen[0]
    manual = block_distances_from_states(states, enc["attention_mask"])
    np.testing.assert_allclose(manual.cosine_tokens, alone.cosine_tokens, atol=1e-5)
    np.testing.assert_allclose(manual.angular_last, alone.angular_last, atol=1e-5)
    plans = baseline_plans(batched, 1)
    assert all(p.n_blocks == 3 and p.n_removed == 1 for p in plans.values())


@pytest.mark.parametrize("family", ["llama", "mistral", "qwen2", "gemma", "phi", "gpt2", "gpt_neox", "bert"])
def test_distances_observed_in_an_extraction_pass_equal_their_own_pass(family, make_tiny_model, tiny_tokenizer):
    from zigzag.adapters import extract
    from zigzag.baselines import observe_block_distances

    model = make_tiny_model(family, n_layers=3)
    texts = builtin_corpus(11, seed=2)

    def hooks():
        return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())

    alone = block_distances(model, tiny_tokenizer, texts, batch_size=4, progress=False)
    plain = extract(model, tiny_tokenizer, texts, batch_size=4, progress=False)
    before = hooks()  # transformers adds hooks of its own on a first pass
    with observe_block_distances(model) as recorder:
        clouds = extract(model, tiny_tokenizer, texts, batch_size=4, progress=False)
    seen = recorder.result(texts)
    for name in ("angular_last", "angular_tokens", "cosine_tokens"):
        np.testing.assert_array_equal(getattr(seen, name), getattr(alone, name))
    assert (seen.n_texts, seen.n_tokens) == (alone.n_texts, alone.n_tokens) == (11, alone.n_tokens)
    assert seen.meta["names"] == alone.meta["names"] and seen.meta["texts_sha256"] == alone.meta["texts_sha256"]
    assert all(np.array_equal(a, b) for a, b in zip(clouds.layers, plain.layers))  # the extraction is untouched
    assert hooks() == before  # the observer's hooks are gone


@pytest.mark.parametrize("model_type", ["xlnet", "cpmant", "xlm", "prophetnet"])
def test_distances_observed_equal_their_own_pass_in_other_layouts(model_type):
    """Time-major blocks (XLNet), extra tokens (CPM-Ant's prompt, ProphetNet's n-gram streams), parallel lists (XLM)."""
    from tiny_models import TEXTS_FOR_TESTS, tiny_model, word_tokenizer

    from zigzag.adapters import extract
    from zigzag.baselines import observe_block_distances

    model, tokenizer = tiny_model(model_type), word_tokenizer()
    alone = block_distances(model, tokenizer, TEXTS_FOR_TESTS, batch_size=3, progress=False)
    with observe_block_distances(model) as recorder:
        clouds = extract(model, tokenizer, TEXTS_FOR_TESTS, batch_size=3, progress=False)
    seen = recorder.result(TEXTS_FOR_TESTS)
    for name in ("angular_last", "angular_tokens", "cosine_tokens"):
        np.testing.assert_allclose(getattr(seen, name), getattr(alone, name), rtol=1e-6, atol=1e-9)
    special = clouds.meta["add_special_tokens"]  # only the text's tokens count, not the prompt or n-gram streams
    n_tokens = sum(len(tokenizer(t, add_special_tokens=special)["input_ids"]) for t in TEXTS_FOR_TESTS)
    assert (seen.n_texts, seen.n_tokens) == (alone.n_texts, alone.n_tokens) == (5, n_tokens)


def test_observing_nothing_is_an_error(make_tiny_model):
    from zigzag.baselines import observe_block_distances

    with observe_block_distances(make_tiny_model("llama")) as recorder:
        pass
    with pytest.raises(ValueError, match="No forward pass"):
        recorder.result()


def test_distances_are_summed_in_chunks_the_same(monkeypatch):
    import zigzag.baselines as baselines

    rng = np.random.default_rng(3)
    states = [rng.normal(size=(3, 7, 5)) for _ in range(4)]
    mask = np.ones((3, 7), dtype=int)
    mask[0, :2] = 0
    whole = block_distances_from_states(states, mask)
    monkeypatch.setattr(baselines, "_Sums", type("Tiny", (baselines._Sums,), {}))
    original = torch.nn.functional.normalize
    calls = []
    monkeypatch.setattr(torch.nn.functional, "normalize", lambda *a, **k: calls.append(1) or original(*a, **k))
    # 1 byte of budget per chunk: every real token on its own
    monkeypatch.setattr(baselines, "_CHUNK_BYTES", 1)
    chunked = block_distances_from_states(states, mask)
    for name in ("angular_last", "angular_tokens", "cosine_tokens"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(whole, name), rtol=1e-13, atol=1e-15)
    assert len(calls) > 4 * 19  # one normalisation per layer per chunk of one token (19 real tokens)
