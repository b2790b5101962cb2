"""`zigzag prune` and `zigzag evaluate` end to end, offline, on a tiny random Llama.

Oracles: the reloaded pruned folder generates the same tokens and logits as ``prune_model`` in
memory; lm-eval's accuracy and perplexity on a local task equal the same numbers computed here
by brute force from the model's log-probabilities, for the full and the pruned model.
"""

from __future__ import annotations

import json
import math
import re
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytestmark = pytest.mark.usefixtures("torch_single_thread")

from zigzag.cli import main  # noqa: E402
from zigzag.cli.models import parse_blocks  # noqa: E402
from zigzag.models import prune_model  # noqa: E402
from zigzag.texts import builtin_corpus  # noqa: E402

N_BLOCKS = 4
REMOVED = [1, 2]


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    """A tiny random Llama with a word-level tokenizer that has BOS and EOS, saved as a model folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = sorted({w for s in builtin_corpus() for w in re.findall(r"\w+|[^\w\s]", s)})[:1000]
    vocab = {"[PAD]": 0, "[UNK]": 1, "<s>": 2, "</s>": 3, **{w: i + 4 for i, w in enumerate(words)}}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]",
                                        bos_token="<s>", eos_token="</s>")
    config = transformers.LlamaConfig(vocab_size=len(vocab), num_hidden_layers=N_BLOCKS, num_attention_heads=4,
                                      num_key_value_heads=2, hidden_size=32, intermediate_size=64,
                                      max_position_embeddings=128, bos_token_id=2, eos_token_id=3, pad_token_id=0)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).eval()
    path = tmp_path_factory.mktemp("models") / "tiny-llama"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _load(path):
    model = transformers.AutoModelForCausalLM.from_pretrained(path).eval()
    return model, transformers.AutoTokenizer.from_pretrained(path)


def _one_error_line(capsys, command: str) -> str:
    """The error line, which must be the last thing on standard error and the only error there.

    (transformers' own weight-loading bar may come before it: in this test process transformers
    is already imported, so -q, which sets HF_HUB_DISABLE_PROGRESS_BARS, comes too late for it.)
    """
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines and lines[-1].startswith(f"zigzag {command}: error: "), lines
    assert sum("error" in line.lower() for line in lines) == 1, lines
    return lines[-1]


# ---------------------------------------------------------------- --blocks
def test_parse_blocks_takes_ranges_and_lists():
    assert parse_blocks("20-27") == list(range(20, 28))
    assert parse_blocks("3,5,7-9") == [3, 5, 7, 8, 9]
    assert parse_blocks(" 9, 0-1 ") == [0, 1, 9]
    assert parse_blocks("4") == [4]
    for bad, message in [("20-", "neither"), ("a", "neither"), ("", "neither"), ("-3", "neither"),
                         ("9-7", "runs backwards; write 7-9"), ("3,2-4", r"blocks \[3\] more than once")]:
        with pytest.raises(ValueError, match=message):
            parse_blocks(bad)


def test_bad_blocks_fail_in_one_line_before_the_model_loads(tmp_path, capsys):
    assert main(["prune", str(tmp_path / "no-such-model"), "--blocks", "9-7", "--out", str(tmp_path / "x")]) == 2
    assert "runs backwards" in _one_error_line(capsys, "prune")
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- zigzag prune
def test_prune_writes_a_folder_that_reloads_and_generates_like_the_pruned_model(llama_dir, tmp_path, capsys):
    out = tmp_path / "pruned"
    assert main(["prune", str(llama_dir), "--blocks", "1-2", "--out", str(out), "-q"]) == 0
    assert "removed blocks 1-2 (2 of 4)" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pruned"]  # no .partial left behind
    reloaded, tokenizer = _load(out)
    assert reloaded.config.num_hidden_layers == 2 and len(reloaded.model.layers) == 2
    assert reloaded.config.zigzag_kept_blocks == [0, 3]
    meta = json.loads((out / "zigzag-prune.json").read_text())
    assert meta["removed_blocks"] == REMOVED and meta["kept_blocks"] == [0, 3] and meta["n_blocks_before"] == 4
    original, _ = _load(llama_dir)
    expected = prune_model(original, REMOVED)
    ids = tokenizer(builtin_corpus(1, seed=3)[0], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(reloaded(input_ids=ids).logits, expected(input_ids=ids).logits, rtol=0, atol=0)
        full_logits = original(input_ids=ids).logits
    assert not torch.allclose(reloaded(input_ids=ids).logits, full_logits)  # the blocks really are gone
    generated = reloaded.generate(ids, max_new_tokens=8, do_sample=False, pad_token_id=0)
    assert generated.shape[1] == ids.shape[1] + 8
    assert torch.equal(generated, expected.generate(ids, max_new_tokens=8, do_sample=False, pad_token_id=0))
    assert tokenizer.decode(generated[0, ids.shape[1]:]).strip()


def test_prune_never_writes_over_a_folder_without_overwrite(llama_dir, tmp_path, capsys):
    out = tmp_path / "pruned"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["prune", str(llama_dir), "--blocks", "0", "--out", str(out)]) == 2
    assert "already exists; pass --overwrite" in _one_error_line(capsys, "prune")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert main(["prune", str(llama_dir), "--blocks", "0", "--out", str(out), "--overwrite", "-q"]) == 0
    assert not (out / "keep.txt").exists() and _load(out)[0].config.zigzag_kept_blocks == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pruned"]


def test_prune_failing_midway_leaves_nothing(llama_dir, tmp_path, monkeypatch):
    def fail(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(transformers.PreTrainedTokenizerBase, "save_pretrained", fail)  # after the weights
    with pytest.raises(RuntimeError, match="disk full"):
        main(["prune", str(llama_dir), "--blocks", "3", "--out", str(tmp_path / "pruned")])
    assert list(tmp_path.iterdir()) == []


def test_prune_rejects_blocks_out_of_range(llama_dir, tmp_path, capsys):
    assert main(["prune", str(llama_dir), "--blocks", "2-4", "--out", str(tmp_path / "p"), "-q"]) == 2
    assert "0..3" in _one_error_line(capsys, "prune")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- zigzag evaluate
def _choice_docs(n=16, seed=0):
    """Multiple-choice docs from the built-in corpus: a sentence start and three distinct endings."""
    rng = np.random.default_rng(seed)
    sentences = [s.split() for s in builtin_corpus(4 * n, seed=seed) if len(s.split()) >= 8]
    docs = []
    for i in range(n):
        words = sentences[i]
        endings = [" ".join(words[4:7])] + [" ".join(sentences[n + 2 * i + j][4:7]) for j in range(2)]
        answer = int(rng.integers(3))
        docs.append({"question": " ".join(words[:4]), "choices": endings, "answer": answer,
                     "next": " " + endings[answer]})  # lm-eval puts no space before a loglikelihood target
    return docs


@pytest.fixture(scope="module")
def local_tasks(tmp_path_factory):
    """Two local lm-eval tasks over a data file: multiple choice (acc) and loglikelihood (perplexity)."""
    root = tmp_path_factory.mktemp("lm_eval_tasks")
    docs = _choice_docs()
    data = root / "docs.jsonl"
    data.write_text("".join(json.dumps(d) + "\n" for d in docs))
    common = (f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {data}\n  cache_dir: {root / 'cache'}\n"
              "test_split: test\ndoc_to_text: '{{question}}'\n")
    (root / "zz_choice.yaml").write_text(
        "task: zz_choice\n" + common + "output_type: multiple_choice\ndoc_to_choice: '{{choices}}'\n"
        "doc_to_target: '{{answer}}'\nmetric_list:\n  - metric: acc\n    aggregation: mean\n"
        "    higher_is_better: true\n  - metric: acc_norm\n    aggregation: mean\n    higher_is_better: true\n")
    (root / "zz_next.yaml").write_text(
        "task: zz_next\n" + common + "output_type: loglikelihood\ndoc_to_target: '{{next}}'\n"
        "metric_list:\n  - metric: perplexity\n    aggregation: perplexity\n    higher_is_better: false\n")
    return root, docs


def _continuation_loglikelihood(model, tokenizer, context: str, continuation: str) -> float:
    """log p(continuation | context), summed over the continuation's tokens, from one forward pass."""
    ctx = tokenizer(context, add_special_tokens=False)["input_ids"]
    whole = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    assert whole[:len(ctx)] == ctx
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([whole])).logits[0].double(), -1)
    return float(sum(logp[i - 1, whole[i]] for i in range(len(ctx), len(whole))))


def _brute_force_metrics(model, tokenizer, docs) -> dict:
    acc, acc_norm, lls = [], [], []
    for doc in docs:
        scores = np.array([_continuation_loglikelihood(model, tokenizer, doc["question"], " " + c)
                           for c in doc["choices"]])
        lengths = np.array([len(c) for c in doc["choices"]], dtype=float)
        acc.append(float(np.argmax(scores) == doc["answer"]))
        acc_norm.append(float(np.argmax(scores / lengths) == doc["answer"]))
        lls.append(scores[doc["answer"]])
    return {"acc": np.mean(acc), "acc_norm": np.mean(acc_norm), "perplexity": math.exp(-np.mean(lls))}


def test_evaluate_runs_lm_eval_on_the_full_and_the_pruned_model(llama_dir, local_tasks, tmp_path, capsys):
    pytest.importorskip("lm_eval", reason="zigzag evaluate needs pip install 'zigzag-tda[lmeval]'")
    root, docs = local_tasks
    out = tmp_path / "report"
    code = main(["evaluate", str(llama_dir), "--blocks", "1-2", "--tasks", "zz_choice,zz_next",
                 "--include-path", str(root), "--out", str(out), "--batch-size", "4", "-q"])
    printed = capsys.readouterr().out
    assert code == 0
    report = json.loads((out / "lm_eval.json").read_text())
    assert report["removed_blocks"] == REMOVED and report["kept_blocks"] == [0, 3] and report["n_blocks"] == 4
    assert report["tasks"] == ["zz_choice", "zz_next"] and report["lm_eval_version"]
    values = {(r["task"], r["metric"]): r for r in report["rows"]}
    assert set(values) == {("zz_choice", "acc"), ("zz_choice", "acc_norm"), ("zz_next", "perplexity")}

    full, _ = _load(llama_dir)
    tokenizer = transformers.AutoTokenizer.from_pretrained(llama_dir)
    expected = {"full": _brute_force_metrics(full, tokenizer, docs),
                "pruned": _brute_force_metrics(prune_model(full, REMOVED), tokenizer, docs)}
    assert expected["full"]["perplexity"] != pytest.approx(expected["pruned"]["perplexity"], rel=1e-3)
    for (task, metric), row in values.items():
        for side in ("full", "pruned"):
            assert row[side] == pytest.approx(expected[side][metric], rel=1e-5), (task, metric, side)
        assert row["delta"] == pytest.approx(row["pruned"] - row["full"])
    assert values[("zz_choice", "acc")]["full_stderr"] > 0  # lm-eval's standard error comes along
    assert report["results"]["full"]["zz_choice"]["acc,none"] == values[("zz_choice", "acc")]["full"]

    table = (out / "lm_eval.md").read_text()
    assert table.splitlines()[0].startswith("# lm-eval:") and "blocks 1-2 removed (2 of 4)" in table
    ppl = values[("zz_next", "perplexity")]
    line = (f"| zz_next | perplexity | {ppl['full']:.4g} ± {ppl['full_stderr']:.2g} | "
            f"{ppl['pruned']:.4g} ± {ppl['pruned_stderr']:.2g} | {ppl['delta']:+.4g} |")
    assert line in table.splitlines()
    assert table in printed  # the same table went to the terminal


def test_evaluate_says_which_extra_installs_lm_eval(llama_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "lm_eval", None)  # import lm_eval now raises ImportError
    assert main(["evaluate", str(llama_dir), "--blocks", "1", "--tasks", "arc_easy"]) == 2
    assert "pip install 'zigzag-tda[lmeval]'" in _one_error_line(capsys, "evaluate")


def test_evaluate_rejects_models_without_a_language_model_head(make_tiny_model, tiny_tokenizer, tmp_path, capsys):
    pytest.importorskip("lm_eval", reason="zigzag evaluate needs pip install 'zigzag-tda[lmeval]'")
    folder = tmp_path / "bert"
    make_tiny_model("bert").save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    capsys.readouterr()  # the set-up's own progress bars
    assert main(["evaluate", str(folder), "--blocks", "1", "--tasks", "arc_easy", "-q"]) == 2
    assert "no language-model head" in _one_error_line(capsys, "evaluate")
    assert main(["evaluate", str(folder), "--blocks", "1", "--tasks", " , ", "-q"]) == 2
    assert "at least one lm-eval task" in _one_error_line(capsys, "evaluate")
    assert main(["evaluate", str(folder), "--blocks", "1", "--tasks", "x", "--include-path",
                 str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in _one_error_line(capsys, "evaluate")
    (tmp_path / "a-file").write_text("")
    assert main(["evaluate", str(folder), "--blocks", "1", "--tasks", "x", "--out", str(tmp_path / "a-file")]) == 2
    assert "is a file, not a folder" in _one_error_line(capsys, "evaluate")  # before any model is loaded


# ---------------------------------------------------------------- the bridge, piece by piece
def test_lm_eval_bridge_errors_name_the_fix(make_tiny_model, tiny_tokenizer, monkeypatch):
    from zigzag.models import lm_eval_tasks

    pytest.importorskip("lm_eval", reason="zigzag evaluate needs pip install 'zigzag-tda[lmeval]'")
    model = make_tiny_model("llama", n_layers=2)
    with pytest.raises(ValueError, match="no BOS or EOS token.*prefix_token_id="):
        lm_eval_tasks(model, tiny_tokenizer, ["zz_choice"])
    with pytest.raises(ValueError, match="at least one task"):
        lm_eval_tasks(model, tiny_tokenizer, [], prefix_token_id=0)
    monkeypatch.setitem(sys.modules, "lm_eval", None)
    with pytest.raises(ImportError, match=r"pip install 'zigzag-tda\[lmeval\]'"):
        lm_eval_tasks(model, tiny_tokenizer, ["zz_choice"])


def test_local_tasks_skip_indexing_the_built_in_ones(local_tasks):
    pytest.importorskip("lm_eval", reason="zigzag evaluate needs pip install 'zigzag-tda[lmeval]'")
    from zigzag.models.harness import task_manager

    root, _ = local_tasks
    manager = task_manager(["zz_choice", "zz_next"], root)
    assert set(manager.all_subtasks) == {"zz_choice", "zz_next"}


def test_side_by_side_and_markdown_table():
    from zigzag.models.harness import markdown_table, side_by_side

    full = {"t": {"alias": "t", "acc,none": 0.5, "acc_stderr,none": 0.1, "f1,none": "N/A", "only_full,none": 1.0},
            "only_in_full": {"acc,none": 0.2}}
    pruned = {"t": {"alias": "t", "acc,none": np.float64(0.25), "acc_stderr,none": "N/A", "f1,none": 0.3}}
    rows = side_by_side(full, pruned)
    assert rows == [{"task": "t", "metric": "acc", "filter": "none", "full": 0.5, "pruned": 0.25, "delta": -0.25,
                     "full_stderr": 0.1, "pruned_stderr": None}]
    assert markdown_table(rows).splitlines()[2] == "| t | acc | 0.5 ± 0.1 | 0.25 | -0.25 |"
    assert json.loads(json.dumps(rows)) == rows


def test_quiet_bridge_disables_every_progress_bar_and_restores_them():
    from tqdm import tqdm

    from zigzag.models.harness import _silenced_progress_bars

    with _silenced_progress_bars(True):
        assert tqdm(range(3)).disable
    assert not tqdm(range(3), file=sys.stderr).disable
    with _silenced_progress_bars(False):
        assert not tqdm(range(3)).disable


def test_lm_eval_json_gets_null_for_nan():
    from zigzag.cli.models import _finite_or_none

    data = {"t": {"acc,none": 0.5, "acc_stderr,none": math.nan, "x": [math.inf, 1.0, "N/A"]}}
    assert _finite_or_none(data) == {"t": {"acc,none": 0.5, "acc_stderr,none": None, "x": [None, 1.0, "N/A"]}}
