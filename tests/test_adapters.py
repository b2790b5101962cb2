import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytestmark = pytest.mark.usefixtures("torch_single_thread")

import zigzag  # noqa: E402
from zigzag.adapters import extract, extract_from_module, load_extraction, pool, read_manifest  # noqa: E402
from zigzag.streaming import stream_to_folder  # noqa: E402
from zigzag.texts import builtin_corpus  # noqa: E402

TEXTS = builtin_corpus(11, seed=3)


def _max_diff(a, b):
    return max(float(np.abs(np.asarray(x) - np.asarray(y)).max()) for x, y in zip(a.layers, b.layers))


# ---------------------------------------------------------------- pooling
def test_pool_matches_manual_indexing_with_left_and_right_padding():
    rng = np.random.default_rng(0)
    hidden = torch.as_tensor(rng.normal(size=(3, 6, 4)))
    lengths = [6, 2, 4]
    for side in ("left", "right"):
        mask = torch.zeros(3, 6, dtype=torch.long)
        for row, n in enumerate(lengths):
            mask[row, 6 - n:] = 1 if side == "left" else 0
            if side == "right":
                mask[row, :n] = 1
        hidden_nan = hidden.clone()
        hidden_nan[mask == 0] = float("nan")  # padding must never leak into a pooled vector
        for row, n in enumerate(lengths):
            real = hidden[row, 6 - n:] if side == "left" else hidden[row, :n]
            expect = {"last": real[-1], "first": real[0], "mean": real.mean(0), 1: real[1], -2: real[-2]}
            for pooling, value in expect.items():
                got = pool(hidden_nan, mask, pooling)[row]
                assert torch.allclose(got, value), (side, pooling, row)
    with pytest.raises(ValueError, match="needs at least 5 real tokens"):
        pool(hidden, mask, 4)


# ---------------------------------------------------------------- named hook points, every family
def test_batched_equals_one_at_a_time_with_either_padding_side(tiny_family, make_tiny_model, tiny_tokenizer):
    model = make_tiny_model(tiny_family)
    for hook, pooling in (("post_attention_norm", "last"), ("residual", "mean")):
        alone = extract(model, tiny_tokenizer, TEXTS, hook=hook, pooling=pooling, batch_size=1, progress=False)
        assert alone.n_layers == 4  # L + 1
        for side in ("left", "right"):
            batched = extract(model, tiny_tokenizer, TEXTS, hook=hook, pooling=pooling, batch_size=4,
                              padding_side=side, progress=False)
            assert batched.names == alone.names
            assert _max_diff(batched, alone) < 1e-5, (hook, side)


@pytest.mark.parametrize("family", ["llama", "gpt2", "phi", "bert"])
def test_residual_equals_output_hidden_states(family, make_tiny_model, tiny_tokenizer):
    model = make_tiny_model(family)
    clouds = extract(model, tiny_tokenizer, TEXTS, hook="residual", pooling="last", batch_size=4,
                     padding_side="left", add_special_tokens=False, progress=False)
    raw = extract(model, tiny_tokenizer, TEXTS, hook="residual", embeddings=False, final_norm=False,
                  pooling="last", batch_size=3, add_special_tokens=False, progress=False)
    assert clouds.n_layers == 4 and raw.n_layers == 3
    base = model.base_model
    blocks = list(base.h if family == "gpt2" else base.encoder.layer if family == "bert" else base.layers)
    for i, text in enumerate(TEXTS):
        ids = tiny_tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        seen = []
        handle = blocks[-1].register_forward_hook(lambda m, a, out: seen.append(out[0] if isinstance(out, tuple) else out))
        with torch.no_grad():
            states = model(input_ids=ids, output_hidden_states=True).hidden_states
        handle.remove()
        for layer, state in zip(clouds.layers, states):
            np.testing.assert_allclose(layer[i], state[0, -1].numpy(), atol=1e-5)
        np.testing.assert_allclose(raw.layers[-1][i], seen[0][0, -1].numpy(), atol=1e-5)
        np.testing.assert_allclose(raw.layers[0][i], states[1][0, -1].numpy(), atol=1e-5)


def test_representations_are_named_by_the_module_that_produced_them(make_tiny_model, tiny_tokenizer):
    llama = extract(make_tiny_model("llama"), tiny_tokenizer, TEXTS, progress=False)
    assert llama.names == ("model.layers.0.post_attention_layernorm", "model.layers.1.post_attention_layernorm",
                           "model.layers.2.post_attention_layernorm", "model.norm")
    assert llama.meta["sources"][0] == "input of model.layers.0.mlp = output of model.layers.0.post_attention_layernorm"
    assert llama.meta["sources"][-1] == "output of model.norm"
    gpt2 = extract(make_tiny_model("gpt2"), tiny_tokenizer, TEXTS, progress=False)
    assert gpt2.names[0] == "transformer.h.0.ln_2" and gpt2.names[-1] == "transformer.ln_f"
    bert = extract(make_tiny_model("bert"), tiny_tokenizer, TEXTS, progress=False)
    assert bert.names[0] == "encoder.layer.0.attention.output.LayerNorm" and bert.names[-1] == "encoder.layer.2"
    assert bert.meta["sources"][0].startswith("input of encoder.layer.0.intermediate = output of ")
    assert bert.meta["sources"][-1] == "output of encoder = output of encoder.layer.2"  # no final norm
    # one default per model kind: the last real token for decoders, the mean for encoders
    assert llama.meta["hook"] == "post_attention_norm" and llama.meta["pooling"] == "last"
    assert bert.meta["hook"] == "post_attention_norm" and bert.meta["pooling"] == "mean"
    assert llama.meta["decoder"] is True and bert.meta["decoder"] is False
    assert llama.meta["add_special_tokens"] is False and bert.meta["add_special_tokens"] is True
    assert llama.meta["model_dtype"] == "float32" and llama.meta["n_truncated"] == 0


def test_resolve_defaults_and_declared_kinds(make_tiny_model):
    import transformers as tf

    from zigzag.adapters import declared_kind, resolve_defaults

    assert resolve_defaults(make_tiny_model("llama")) == ("post_attention_norm", "last")
    assert resolve_defaults(make_tiny_model("bert")) == ("post_attention_norm", "mean")
    assert resolve_defaults(make_tiny_model("bert"), "residual", 3) == ("residual", 3)
    kinds = {arch: declared_kind(tf.PretrainedConfig(architectures=[arch])) for arch in (
        "GPT2LMHeadModel", "LlamaForCausalLM", "BertLMHeadModel", "BertForMaskedLM", "BertModel",
        "RobertaForSequenceClassification")}
    assert kinds == {"GPT2LMHeadModel": "causal_lm", "LlamaForCausalLM": "causal_lm", "BertLMHeadModel": "causal_lm",
                     "BertForMaskedLM": "masked_lm", "BertModel": "encoder",
                     "RobertaForSequenceClassification": "encoder"}
    assert declared_kind(tf.PretrainedConfig()) is None


def test_post_attention_norm_is_the_hooked_module_output(make_tiny_model, tiny_tokenizer):
    model = make_tiny_model("mistral")
    clouds = extract(model, tiny_tokenizer, TEXTS[:3], batch_size=2, progress=False)
    ids = tiny_tokenizer(TEXTS[0], add_special_tokens=False, return_tensors="pt")["input_ids"]
    seen = []
    handle = model.model.layers[1].post_attention_layernorm.register_forward_hook(lambda m, a, o: seen.append(o))
    with torch.no_grad():
        final = model.model(input_ids=ids).last_hidden_state
    handle.remove()
    np.testing.assert_allclose(clouds.layers[1][0], seen[0][0, -1].numpy(), atol=1e-5)
    np.testing.assert_allclose(clouds.layers[3][0], final[0, -1].numpy(), atol=1e-5)


def test_module_patterns_and_models_without_blocks(make_tiny_model, tiny_tokenizer):
    model = make_tiny_model("qwen2")
    clouds = extract(model, tiny_tokenizer, TEXTS, hook="model.layers.*.mlp", progress=False)
    assert clouds.names == ("model.layers.0.mlp", "model.layers.1.mlp", "model.layers.2.mlp")
    assert clouds.meta["pooling"] == "last"  # the decoder default, for patterns too
    with pytest.raises(ValueError, match=r"matches no module.*model\.layers\.\*"):
        extract(model, tiny_tokenizer, TEXTS, hook="model.blocks.*", progress=False)
    with pytest.raises(ValueError, match="apply to hook=.residual. only"):
        extract(model, tiny_tokenizer, TEXTS, final_norm=False, progress=False)
    import transformers as tf

    mamba = tf.MambaForCausalLM(tf.MambaConfig(vocab_size=len(tiny_tokenizer), hidden_size=32, num_hidden_layers=2,
                                               state_size=8)).eval()
    with pytest.raises(ValueError) as err:
        extract(mamba, tiny_tokenizer, TEXTS, progress=False)
    message = str(err.value)
    assert "\n" not in message and "state-space" in message and "backbone.layers.*" in message
    assert extract(mamba, tiny_tokenizer, TEXTS, hook="backbone.layers.*", progress=False).n_layers == 2
    from zigzag.models import prune_model

    with pytest.raises(ValueError, match="state-space"):
        prune_model(mamba, [0])


def test_texts_longer_than_the_model_are_truncated_and_counted(make_tiny_model, tiny_tokenizer, caplog):
    model = make_tiny_model("gpt2")  # 128 positions
    long = " ".join(builtin_corpus(40, seed=4))
    texts = [TEXTS[0], long, TEXTS[1], long + " again"]
    with caplog.at_level("WARNING", logger="zigzag"):
        clouds = extract(model, tiny_tokenizer, texts, batch_size=2, progress=False)
    assert clouds.meta["max_length"] == 128 and clouds.meta["n_truncated"] == 2
    assert "2 of 4 texts are longer than 128 tokens" in caplog.text
    cut = extract(model, tiny_tokenizer, [TEXTS[0], long], max_length=10, progress=False)
    assert cut.meta["max_length"] == 10 and cut.meta["n_truncated"] == 1
    first_ten = tiny_tokenizer.decode(tiny_tokenizer(long, add_special_tokens=False)["input_ids"][:10])
    alone = extract(model, tiny_tokenizer, [TEXTS[0], first_ten], progress=False)
    np.testing.assert_allclose(cut.layers[-1][1], alone.layers[-1][1], atol=1e-5)


def test_extract_errors_and_side_effects(make_tiny_model, tiny_tokenizer, capsys):
    model = make_tiny_model("llama")
    with pytest.raises(ValueError, match="at least 2 texts"):
        extract(model, tiny_tokenizer, TEXTS[:1])
    with pytest.raises(ValueError, match="pooling"):
        extract(model, tiny_tokenizer, TEXTS, pooling="max")
    with pytest.raises(ValueError, match="needs at least 100 real tokens"):
        extract(model, tiny_tokenizer, TEXTS, pooling=99, progress=False)
    model.train()
    extract(model, tiny_tokenizer, TEXTS, progress=False)
    assert model.training  # restored after running in eval mode
    assert capsys.readouterr().err == ""
    model.eval()


def test_a_full_gpu_says_how_much_memory_was_needed(make_tiny_model, tiny_tokenizer, monkeypatch):
    model = make_tiny_model("llama")
    # a GPU that exists but has no free memory, through the public entry point
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (0, 2**31))
    need = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()]) / 2**30
    with pytest.raises(ValueError, match=rf"weights need {need:.2f} GiB but only 0\.00 GiB is free"):
        extract(model, tiny_tokenizer, TEXTS, device="cuda", progress=False)
    assert next(model.parameters()).device.type == "cpu"  # refused before moving anything


# ---------------------------------------------------------------- any torch module
def test_extract_from_module_matches_a_manual_forward():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).eval()
    x = torch.randn(10, 4)
    clouds = extract_from_module(net, x, ["0", "2"], batch_size=3)
    with torch.no_grad():
        h = net[0](x)
        np.testing.assert_allclose(clouds.layers[0], h.numpy(), atol=1e-6)
        np.testing.assert_allclose(clouds.layers[1], net[2](torch.relu(h)).numpy(), atol=1e-6)
    assert extract_from_module(net, x, [net[2], net[0]]).names == ("2", "0")
    with pytest.raises(ValueError, match="matches no module"):
        extract_from_module(net, x, ["5"])


def test_extract_from_module_pools_tokens_and_rejects_double_calls():
    class Twice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(4, 4)

        def forward(self, x):
            return self.lin(self.lin(x))

    x = torch.randn(6, 5, 4)
    mask = torch.ones(6, 5, dtype=torch.long)
    mask[:, 3:] = 0
    encoder = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2)).eval()
    clouds = extract_from_module(encoder, x, ["*"], pooling="mean", attention_mask=mask)
    with torch.no_grad():
        np.testing.assert_allclose(clouds.layers[0], encoder[0](x)[:, :3].mean(1).numpy(), atol=1e-6)
        np.testing.assert_allclose(clouds.layers[1], encoder(x)[:, :3].mean(1).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="ran 2 times"):
        extract_from_module(torch.nn.Sequential(Twice(), torch.nn.Identity()), x, ["0.lin", "1"])


# ---------------------------------------------------------------- extraction folders
def test_extraction_folder_matches_memory_and_feeds_compute(make_tiny_model, tiny_tokenizer, tmp_path):
    model = make_tiny_model("gpt_neox")
    texts = builtin_corpus(30, seed=1)
    memory = extract(model, tiny_tokenizer, texts, batch_size=7, progress=False)
    folder = extract(model, tiny_tokenizer, texts, batch_size=7, out=tmp_path / "run", progress=False)
    assert _max_diff(memory, folder) == 0 and folder.names == memory.names
    assert not folder.layers[0].flags.writeable  # read-only memory map
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["n_done"] == 30 and manifest["shapes"][0] == [30, 32]
    assert manifest["hook"] == "post_attention_norm" and manifest["dtype"] == "float32"
    loaded = zigzag.load_clouds(tmp_path / "run")
    assert _max_diff(loaded, memory) == 0 and loaded.meta["texts_sha256"] == memory.meta["texts_sha256"]
    bars = zigzag.compute(loaded, k=3, max_dim=1, progress=False)
    assert len(bars) and bars.same_bars(zigzag.compute(memory, k=3, max_dim=1, progress=False))
    with pytest.raises(ValueError, match="different extraction"):
        extract(model, tiny_tokenizer, texts, hook="residual", out=tmp_path / "run", progress=False)
    again = extract(model, tiny_tokenizer, texts, hook="residual", out=tmp_path / "run", overwrite=True, progress=False)
    assert again.n_layers == 4 and again.names[0] == "embeddings"


def test_interrupted_extraction_resumes_where_it_stopped(make_tiny_model, tiny_tokenizer, tmp_path, monkeypatch):
    model = make_tiny_model("llama")
    texts = builtin_corpus(25, seed=2)
    full = extract(model, tiny_tokenizer, texts, batch_size=5, progress=False)
    import zigzag.streaming as streaming

    real = streaming.stream_to_folder
    starts = []

    def interrupted(folder, names, meta, batches, **kw):
        def stopping(start):
            for i, item in enumerate(batches(start)):
                starts.append(np.asarray(item[0]).tolist())
                if i == 2 and start == 0:
                    raise KeyboardInterrupt
                yield item

        return real(folder, names, meta, stopping, **kw)

    monkeypatch.setattr(streaming, "stream_to_folder", interrupted)
    with pytest.raises(KeyboardInterrupt):
        extract(model, tiny_tokenizer, texts, batch_size=5, out=tmp_path / "run", progress=False)
    with pytest.raises(ValueError, match=r"incomplete: 10 of 25 texts.*same command again"):
        load_extraction(tmp_path / "run")
    resumed = extract(model, tiny_tokenizer, texts, batch_size=5, out=tmp_path / "run", progress=False)
    assert resumed.meta["n_done"] == 25 and resumed.meta["batch_order"] == "length"
    # the resume ran exactly the batches the interrupted run had not written, in the same order
    runner = _runner(model, tiny_tokenizer, texts, batch_size=5)
    expected = [b.tolist() for b in runner.batches()]
    assert starts == expected[:3] + expected[2:]  # batch 3 was drawn when the run stopped, not written
    written = starts[:2] + starts[3:]
    assert sorted(i for batch in written for i in batch) == list(range(25))
    assert _max_diff(resumed, full) == 0  # same batches, so the same bits as the uninterrupted run
    monkeypatch.undo()
    uninterrupted = extract(model, tiny_tokenizer, texts, batch_size=5, out=tmp_path / "whole", progress=False)
    assert _max_diff(resumed, uninterrupted) == 0


def _runner(model, tokenizer, texts, batch_size):
    from zigzag.adapters.hf import BatchRunner

    return BatchRunner(model, tokenizer, texts, [], batch_size=batch_size, max_length=None,
                       add_special_tokens=False, padding_side="right")


def test_batches_group_texts_by_length_and_results_stay_in_text_order(make_tiny_model, tiny_tokenizer):
    model = make_tiny_model("llama")
    rng = np.random.default_rng(4)
    words = builtin_corpus(40, seed=5)
    # lengths shuffled against the input order: short, long, medium texts interleaved
    texts = [" ".join(words[i].split()[: int(n)]) or "x" for i, n in enumerate(rng.permutation(np.arange(1, 41)))]
    lengths = [len(tiny_tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    runner = _runner(model, tiny_tokenizer, texts, batch_size=8)
    batches = runner.batches()
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(texts)))
    ordered = [lengths[i] for batch in batches for i in batch]
    assert ordered == sorted(lengths, reverse=True)  # longest first
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    in_text_order = sum(len(texts[s:s + 8]) * max(lengths[s:s + 8]) for s in range(0, len(texts), 8))
    assert padded < in_text_order
    clouds = extract(model, tiny_tokenizer, texts, hook="residual", pooling="mean", batch_size=8, progress=False)
    with torch.no_grad():  # oracle: each text alone through the model, in input order
        for i in (0, 1, 7, 20, 39):
            ids = tiny_tokenizer(texts[i], add_special_tokens=False, return_tensors="pt")["input_ids"]
            last = model(ids, output_hidden_states=True).hidden_states[-1][0].mean(0).numpy()
            np.testing.assert_allclose(clouds.layers[-1][i], last, atol=1e-5)
    backwards = extract(model, tiny_tokenizer, texts[::-1], hook="residual", pooling="mean", batch_size=8,
                        progress=False)
    assert max(float(np.abs(a[::-1] - b).max()) for a, b in zip(clouds.layers, backwards.layers)) < 1e-5


def test_an_interrupted_folder_from_text_order_batches_is_not_resumed(make_tiny_model, tiny_tokenizer, tmp_path):
    model = make_tiny_model("llama")
    texts = builtin_corpus(12, seed=2)
    folder = tmp_path / "run"
    extract(model, tiny_tokenizer, texts, batch_size=4, out=folder, progress=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["batch_order"]  # what an older zigzag wrote, stopped after 4 texts
    manifest.update(n_done=4, complete=False)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="another order.*overwrite"):
        extract(model, tiny_tokenizer, texts, batch_size=4, out=folder, progress=False)
    again = extract(model, tiny_tokenizer, texts, batch_size=4, out=folder, overwrite=True, progress=False)
    assert again.meta["complete"] and _max_diff(again, extract(model, tiny_tokenizer, texts, batch_size=4,
                                                                progress=False)) == 0


def test_stream_to_folder_rejects_inconsistent_widths(tmp_path):
    def batches(start):
        yield 0, [np.zeros((2, 3), np.float32)]
        yield 2, [np.zeros((2, 4), np.float32)]

    meta = {"n_texts": 4}
    with pytest.raises(ValueError, match="Inconsistent batch outputs"):
        stream_to_folder(tmp_path / "x", ["a"], meta, batches)


# ---------------------------------------------------------------- command line
def test_cli_extract_then_compute(make_tiny_model, tiny_tokenizer, tmp_path, capsys):
    from zigzag.cli import main

    model = make_tiny_model("qwen2")
    model.save_pretrained(tmp_path / "model")
    tiny_tokenizer.save_pretrained(tmp_path / "model")
    (tmp_path / "texts.txt").write_text("\n".join(builtin_corpus(20)) + "\n")
    out = tmp_path / "clouds"
    assert main(["extract", str(tmp_path / "model"), "--texts", str(tmp_path / "texts.txt"), "--out", str(out),
                 "--batch-size", "6", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "4 layers x 20 texts" in printed and "hook post_attention_norm, pooling last" in printed
    assert "truncated" not in printed
    manifest = read_manifest(out)
    assert manifest["names"][0] == "layers.0.post_attention_layernorm"
    assert manifest["model_kind"] == "causal_lm" and manifest["model_dtype"] == "float32"
    assert main(["compute", str(out), "-o", str(tmp_path / "bars.csv"), "--k", "3", "-q"]) == 0
    assert main(["extract", str(tmp_path / "model"), "--builtin", "10", "--out", str(out), "-q"]) == 2
    # a resume must use the model's dtype of the first run
    assert main(["extract", str(tmp_path / "model"), "--texts", str(tmp_path / "texts.txt"), "--out", str(out),
                 "--batch-size", "6", "--model-dtype", "bfloat16", "-q"]) == 2
    assert "model_dtype: 'float32' there, 'bfloat16' now" in capsys.readouterr().err
    short = tmp_path / "short"
    assert main(["extract", str(tmp_path / "model"), "--texts", str(tmp_path / "texts.txt"), "--out", str(short),
                 "--max-length", "4", "-q"]) == 0
    assert "20 of 20 texts were longer than 4 tokens and were truncated" in capsys.readouterr().out


def test_model_folders_are_checked_for_what_the_command_needs(make_tiny_model, tiny_tokenizer, tmp_path, capsys):
    import transformers as tf

    from zigzag.adapters import load_model
    from zigzag.cli import main

    gpt2 = make_tiny_model("gpt2")
    gpt2.save_pretrained(tmp_path / "gpt2")
    with pytest.raises(ValueError, match=r"lacks tokenizer files \(tokenizer\.json"):
        load_model(str(tmp_path / "gpt2"))
    tiny_tokenizer.save_pretrained(tmp_path / "gpt2")
    model, _ = load_model(str(tmp_path / "gpt2"))
    assert isinstance(model, tf.GPT2LMHeadModel)  # declared a causal LM: loaded with its head
    assert isinstance(load_model(str(tmp_path / "gpt2"), with_head=False)[0], tf.GPT2Model)
    (tmp_path / "empty").mkdir()
    capsys.readouterr()
    assert main(["extract", str(tmp_path / "empty"), "--builtin", "5", "--out", str(tmp_path / "x"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lacks config.json, weights (model.safetensors" in err and "tokenizer files" in err
    with pytest.raises(ValueError, match="local folder, which has a single version"):
        load_model(str(tmp_path / "gpt2"), revision="main")
    with pytest.raises(ValueError, match="dtype"):
        load_model(str(tmp_path / "gpt2"), dtype="float64")
    # a folder whose config declares a causal LM with an untied head, but whose weights are the base model's
    tf.GPT2Model(gpt2.config).save_pretrained(tmp_path / "headless")
    tiny_tokenizer.save_pretrained(tmp_path / "headless")
    config = tf.AutoConfig.from_pretrained(tmp_path / "headless")
    config.architectures = ["GPT2LMHeadModel"]
    config.tie_word_embeddings = False
    config.save_pretrained(tmp_path / "headless")
    with pytest.raises(ValueError, match=r"do not cover its declared architecture GPT2LMHeadModel.*lm_head"):
        load_model(str(tmp_path / "headless"))


def test_embedded_model_honours_dtype_and_refuses_revision(minilm):
    from zigzag.adapters import load_model

    model, _ = load_model("embedded", dtype="bfloat16")
    assert next(model.parameters()).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="single version"):
        load_model("embedded", revision="v1")


def test_step_by_step_route_gives_exactly_what_run_gives(minilm, tmp_path, capsys):
    """extract -> compute -> prune-plan and run resolve the same defaults, so they give the same barcode and plans."""
    from zigzag.barcode import Barcode
    from zigzag.cli import main

    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(builtin_corpus(40, seed=7)) + "\n", encoding="utf-8")
    report = tmp_path / "report"
    assert main(["run", "--texts", str(texts), "--n-texts", "40", "--k", "5", "--no-evaluate", "--out", str(report),
                 "-q"]) == 0
    assert main(["extract", "embedded", "--texts", str(texts), "--out", str(tmp_path / "clouds"), "-q"]) == 0
    assert main(["compute", str(tmp_path / "clouds"), "-o", str(tmp_path / "bars.npz"), "--k", "5", "--max-dim", "1",
                 "-q"]) == 0
    capsys.readouterr()
    assert main(["prune-plan", str(tmp_path / "bars.npz"), "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)
    manifest = read_manifest(tmp_path / "clouds")
    assert (manifest["hook"], manifest["pooling"]) == ("post_attention_norm", "mean")  # the encoder default
    run_batch_size = json.loads((report / "run.json").read_text())["config"]["batch_size"]
    assert manifest["batch_sizes"] == [[0, run_batch_size]]  # one default batch size
    ran, stepped = Barcode.load(report / "barcode.npz"), Barcode.load(tmp_path / "bars.npz")
    for field in ("dimension", "birth_step", "death_step"):
        np.testing.assert_array_equal(getattr(ran, field), getattr(stepped, field))
    run_plans = [p for p in json.loads((report / "plans.json").read_text())["plans"] if p["q"] is not None]
    assert [(p["q"], p["blocks"]) for p in run_plans] == [(p["q"], p["blocks"]) for p in steps["plans"]]
    assert int(np.argmax(run_plans[0]["scores"])) == steps["peak_layer"]
    assert json.loads((report / "run.json").read_text())["config"]["pooling"] == "mean"
