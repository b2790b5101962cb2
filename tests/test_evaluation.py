"""Evaluation with one shared pass of the full model: the same numbers as evaluating each plan alone."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytestmark = pytest.mark.usefixtures("torch_single_thread")

from zigzag.adapters import extract  # noqa: E402
from zigzag.models import Reference, evaluate, prune_model, reference_outputs  # noqa: E402
from zigzag.texts import builtin_corpus  # noqa: E402


@pytest.mark.parametrize("family, kind", [("llama", "causal_lm"), ("gpt2", "causal_lm"), ("bert", "encoder")])
def test_a_shared_reference_gives_exactly_what_each_evaluation_computes_alone(family, kind, make_tiny_model,
                                                                               tiny_tokenizer):
    model = make_tiny_model(family, n_layers=4)
    texts = builtin_corpus(13, seed=7)
    run = dict(batch_size=5, max_length=12, progress=False)
    reference = reference_outputs(model, tiny_tokenizer, texts, **run)
    assert isinstance(reference, Reference) and reference.kind == kind and reference.n_blocks == 4
    for blocks in ([1], [0, 2], [3]):
        pruned = prune_model(model, blocks)
        shared = evaluate(model, pruned, tiny_tokenizer, texts, k=3, reference=reference, **run)
        alone = evaluate(model, pruned, tiny_tokenizer, texts, k=3, **run)
        assert shared.kind == kind and dict(shared.metrics) == dict(alone.metrics)
        assert shared.n_blocks_full == 4 and shared.n_blocks_pruned == 4 - len(blocks)
    same = evaluate(model, model, tiny_tokenizer, texts, k=3, reference=reference, **run)
    key = "perplexity_ratio" if kind == "causal_lm" else "mean_cosine"
    assert same.metrics[key] == 1.0  # the same batches for both sides: bitwise the same outputs


def test_length_sorted_batches_give_the_numbers_of_one_text_at_a_time(make_tiny_model, tiny_tokenizer):
    model = make_tiny_model("bert", n_layers=3)
    texts = builtin_corpus(10, seed=8)
    batched = reference_outputs(model, tiny_tokenizer, texts, batch_size=4, progress=False)
    alone = reference_outputs(model, tiny_tokenizer, texts, batch_size=1, progress=False)
    np.testing.assert_allclose(batched.embeddings, alone.embeddings, atol=1e-5)
    # in text order, and the mean of the last representation that extract(hook="residual") gives
    residual = extract(model, tiny_tokenizer, texts, hook="residual", pooling="mean", batch_size=1, progress=False)
    np.testing.assert_allclose(alone.embeddings, residual.layers[-1], atol=1e-6)


def test_a_reference_for_other_texts_or_settings_is_refused(make_tiny_model, tiny_tokenizer):
    model = make_tiny_model("llama", n_layers=3)
    texts = builtin_corpus(8, seed=9)
    reference = reference_outputs(model, tiny_tokenizer, texts, batch_size=4, progress=False)
    pruned = prune_model(model, [1])
    with pytest.raises(ValueError, match="other texts"):
        evaluate(model, pruned, tiny_tokenizer, texts[:7], batch_size=4, reference=reference, progress=False)
    with pytest.raises(ValueError, match="batch_size=3 \\(reference: 4\\)"):
        evaluate(model, pruned, tiny_tokenizer, texts, batch_size=3, reference=reference, progress=False)
    with pytest.raises(ValueError, match="encoder"):
        evaluate(model, pruned, tiny_tokenizer, texts, kind="encoder", batch_size=4, reference=reference,
                 progress=False)
    with pytest.raises(TypeError, match="reference_outputs"):
        evaluate(model, pruned, tiny_tokenizer, texts, reference={"nll": 1.0}, progress=False)


@pytest.mark.parametrize("blocks", [2, 2.0, "2", None])
def test_prune_model_needs_an_iterable_of_blocks(make_tiny_model, blocks):
    model = make_tiny_model("llama", n_layers=3)
    with pytest.raises(TypeError, match="iterable of ints .* or a PrunePlan"):
        prune_model(model, blocks)
    if isinstance(blocks, int):
        with pytest.raises(TypeError, match=r"pass \[2\]"):
            prune_model(model, blocks)


def test_progress_bars_are_named_by_stage(make_tiny_model, tiny_tokenizer, capsys):
    model = make_tiny_model("bert", n_layers=3)
    texts = builtin_corpus(9, seed=1)
    reference = reference_outputs(model, tiny_tokenizer, texts, batch_size=4, desc="reference pass")
    evaluate(model, prune_model(model, [1]), tiny_tokenizer, texts, k=3, batch_size=4, reference=reference,
             desc="evaluate plan 1/1 (zigzag-S1 q=0.9)")
    err = capsys.readouterr().err
    assert "reference pass: 100%" in err and "evaluate plan 1/1 (zigzag-S1 q=0.9): 100%" in err
    assert "extract" not in err
    evaluate(model, prune_model(model, [1]), tiny_tokenizer, texts, k=3, batch_size=4, reference=reference,
             progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_texts_longer_than_the_model_are_truncated_counted_and_logged(family, make_tiny_model, tiny_tokenizer,
                                                                    caplog):
    from zigzag.adapters.tokens import max_tokens

    model = make_tiny_model(family, n_layers=3)
    limit = max_tokens(model, tiny_tokenizer)  # the position table's size
    texts = builtin_corpus(8, seed=10)
    texts[3] = " ".join(builtin_corpus(200, seed=11))  # past the position table: a crash if not truncated
    assert len(tiny_tokenizer(texts[3])["input_ids"]) > limit
    pruned = prune_model(model, [1])
    with caplog.at_level("WARNING", logger="zigzag"):
        default = evaluate(model, pruned, tiny_tokenizer, texts, k=3, batch_size=4, progress=False)
    assert f"1 of 8 texts are longer than {limit} tokens" in caplog.text
    assert default.params["max_length"] == limit and default.params["n_truncated"] == 1
    explicit = evaluate(model, pruned, tiny_tokenizer, texts, k=3, batch_size=4, max_length=limit, progress=False)
    assert dict(default.metrics) == dict(explicit.metrics)
    larger = evaluate(model, pruned, tiny_tokenizer, texts, k=3, batch_size=4, max_length=10 * limit, progress=False)
    assert larger.params["max_length"] == limit  # capped at the model's limit
    reference = reference_outputs(model, tiny_tokenizer, texts, batch_size=4, progress=False)
    assert reference.params["max_length"] == limit and reference.params["n_truncated"] == 1


def test_an_encoders_reference_read_from_the_extraction_pass_is_bitwise_its_own_pass(make_tiny_model,
                                                                                     tiny_tokenizer):
    from zigzag.models import observe_reference

    model = make_tiny_model("bert", n_layers=3)
    texts = builtin_corpus(19, seed=12)
    with observe_reference(model) as seen:
        extract(model, tiny_tokenizer, texts, hook="residual", pooling="last", batch_size=4, progress=False)
    got = seen.reference(tiny_tokenizer, texts, batch_size=4)
    own = reference_outputs(model, tiny_tokenizer, texts, batch_size=4, progress=False)
    assert got is not None and np.array_equal(got.embeddings, own.embeddings)
    assert dict(got.params) == dict(own.params) and got.n_blocks == own.n_blocks == 3
    pruned = prune_model(model, [1])
    shared = evaluate(model, pruned, tiny_tokenizer, texts, k=3, batch_size=4, reference=got, progress=False)
    assert dict(shared.metrics) == dict(evaluate(model, pruned, tiny_tokenizer, texts, k=3, batch_size=4,
                                                 progress=False).metrics)
    # passes that were not the evaluation's batches give no reference
    assert seen.reference(tiny_tokenizer, texts, batch_size=5) is None
    assert seen.reference(tiny_tokenizer, texts, batch_size=4, max_length=6) is None
    plain = tiny_tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    special = tiny_tokenizer(list(texts), add_special_tokens=True)["input_ids"]
    assert (seen.reference(tiny_tokenizer, texts, batch_size=4, add_special_tokens=False) is None) == (plain != special)
    assert seen.reference(tiny_tokenizer, texts[::-1], batch_size=4) is None
    with observe_reference(model) as left:
        extract(model, tiny_tokenizer, texts, batch_size=4, padding_side="left", progress=False)
    assert left.reference(tiny_tokenizer, texts, batch_size=4) is None
    # a causal LM's reference needs the head's logits, which extraction does not compute
    llama = make_tiny_model("llama", n_layers=3)
    with observe_reference(llama) as causal:
        extract(llama, tiny_tokenizer, texts, batch_size=4, progress=False)
    assert causal.reference(tiny_tokenizer, texts, batch_size=4) is None


def test_torch_uses_one_thread_fewer_only_while_the_other_work_runs():
    from concurrent.futures import Future

    from zigzag.models.devices import one_thread_fewer_while

    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        pending, done = Future(), Future()
        done.set_result(None)
        with one_thread_fewer_while(pending):
            assert torch.get_num_threads() == 2
        assert torch.get_num_threads() == 3
        with one_thread_fewer_while(done):
            assert torch.get_num_threads() == 3
        torch.set_num_threads(1)
        with one_thread_fewer_while(pending):
            assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
