import json
from pathlib import Path

import numpy as np
import pytest

from zigzag.texts import as_texts, builtin_corpus, load_texts, texts_sha256


def test_builtin_corpus_is_a_few_thousand_distinct_english_sentences():
    texts = builtin_corpus()
    assert len(texts) >= 2500
    assert len(set(texts)) == len(texts)
    assert all(t[0].isupper() and t.endswith(".") and len(t.split()) >= 5 for t in texts)
    import zigzag

    assert (Path(zigzag.__file__).parent / "data" / "sentences.txt").stat().st_size < 1_000_000


def test_builtin_corpus_draws_are_deterministic_and_seeded():
    a, b = builtin_corpus(100, seed=0), builtin_corpus(100, seed=0)
    assert a == b and len(set(a)) == 100
    assert builtin_corpus(100, seed=1) != a
    assert builtin_corpus(5, seed=None) == builtin_corpus()[:5]
    with pytest.raises(ValueError, match="at most"):
        builtin_corpus(10**6)


def test_load_texts_reads_txt_jsonl_csv(tmp_path):
    (tmp_path / "a.txt").write_text("first line\n\nsecond line\n", encoding="utf-8")
    assert load_texts(tmp_path / "a.txt") == ["first line", "second line"]
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps({"body": t, "id": i}) for i, t in enumerate("xyz")) + "\n")
    assert load_texts(tmp_path / "b.jsonl", field="body") == ["x", "y", "z"]
    with pytest.raises(ValueError, match="no field 'text'"):
        load_texts(tmp_path / "b.jsonl")
    (tmp_path / "c.csv").write_text('id,sentence\n1,"Hello, world."\n2,Bye.\n', encoding="utf-8")
    assert load_texts(tmp_path / "c.csv", column="sentence") == ["Hello, world.", "Bye."]
    with pytest.raises(ValueError, match="no column 'text'"):
        load_texts(tmp_path / "c.csv")
    (tmp_path / "d.parquet").write_text("x")
    with pytest.raises(ValueError, match="Unsupported"):
        load_texts(tmp_path / "d.parquet")
    with pytest.raises(FileNotFoundError):
        load_texts(tmp_path / "missing.txt")


def test_as_texts_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="at least 2 texts"):
        as_texts([], minimum=2)
    with pytest.raises(ValueError, match="at least 6 texts"):
        as_texts(["a"] * 5, minimum=6)
    with pytest.raises(ValueError, match="empty text"):
        as_texts(["a", "  "])
    with pytest.raises(TypeError, match="Wrap a single text"):
        as_texts("just one text")
    with pytest.raises(TypeError, match="strings"):
        as_texts(["a", 3])
    (tmp_path / "t.txt").write_text("one\ntwo\n")
    assert as_texts(str(tmp_path / "t.txt")) == ["one", "two"]


def test_texts_sha256_depends_on_order_and_boundaries():
    assert texts_sha256(["a", "b"]) != texts_sha256(["b", "a"])
    assert texts_sha256(["ab", "c"]) != texts_sha256(["a", "bc"])
    assert texts_sha256(["a"]) == texts_sha256(np.array(["a"]).tolist())


# ---------------------------------------------------------------- errors name the line; options named
def _write(path, text):
    path.write_bytes(text.encode("utf-8"))
    return path


@pytest.mark.parametrize("name, text, match", [
    ("a.csv", 'id,text\n1,hello\n2,"never closed\n3,more\n', r"a.csv line 3: a quote opened in this row is never closed"),
    ("a.csv", 'id,text\n1,ok\n2,"' + "x" * 200_000 + "\n3,more\n", r"line 3: a field is longer than .* 131,072"),
    ("a.csv", "id,text\n1,ok\n2,a,b\n", r"a.csv line 3 has 3 fields, but the header has 2"),
    ("a.csv", 'id,text\n1,"two\nlines"\n2,\n', r"a.csv line 4 \(column 'text'\): the text is empty"),
    ("a.csv", "id,body\n1,x\n", r"has no column 'text' .*--column NAME"),
    ("a.jsonl", '{"text": "a"}\n\n{"text": 3}\n', r"a.jsonl line 3 \(field 'text'\): expected a string, got int"),
    ("a.jsonl", '{"text": "a"}\n{"text": \n', r"a.jsonl line 2 is not valid JSON"),
    ("a.jsonl", '{"text": "a"}\n["text"]\n', r"line 2 has no field 'text' .*--field NAME"),
    ("a.jsonl", '{"text": "a"}\n{"text": "  "}\n', r"line 2 \(field 'text'\): the text is empty"),
])
def test_bad_text_files_name_the_line_and_the_option(tmp_path, name, text, match):
    with pytest.raises(ValueError, match=match):
        load_texts(_write(tmp_path / name, text))


def test_text_file_that_is_not_utf8_names_the_line(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"ok\nfine\ncaf\xe9\n")
    with pytest.raises(ValueError, match=r"a.txt line 3 is not UTF-8"):
        load_texts(tmp_path / "a.txt")


def test_texts_know_their_lines_through_sampling_and_validation(tmp_path):
    texts = load_texts(_write(tmp_path / "t.csv", 'text\n"first\nspans two lines"\n\nsecond\nthird\n'))
    assert texts == ["first\nspans two lines", "second", "third"] and texts.lines == [2, 5, 6]
    picked = texts.take([2, 0])
    assert picked == ["third", "first\nspans two lines"] and picked.where(0) == "text 0 (t.csv line 6)"
    assert as_texts(picked) is picked  # validation keeps the line numbers
    from zigzag.texts import text_position

    assert text_position(["a", "b"], 1) == "text 1"
    bad = texts.take([1, 0])
    bad[1] = " "
    with pytest.raises(ValueError, match=r"text 1 \(t.csv line 2\)"):
        as_texts(bad)
    with pytest.raises(ValueError, match=r"\(text 1\)"):
        as_texts(list(bad))  # a plain list has no lines: the index is all there is


def test_a_text_that_tokenises_to_nothing_is_named_by_its_line(tmp_path):
    pytest.importorskip("torch")
    from zigzag.adapters.hf import BatchRunner

    class Tokenizer:
        def __call__(self, texts, **kwargs):
            return {"input_ids": [[] if t == "nothing" else [1, 2] for t in texts]}

    texts = load_texts(_write(tmp_path / "t.txt", "a\nb\n\nc\nnothing\nd\n"))
    runner = BatchRunner.__new__(BatchRunner)
    runner.tokenizer, runner.texts, runner.max_length = Tokenizer(), texts, None
    runner.add_special_tokens, runner.padding_side, runner.pad_id, runner.offset = False, "right", 0, 0
    with pytest.raises(ValueError, match=r"text 3 \(t.txt line 5\): tokenises to no token"):
        runner.encode([2, 3])
    from zigzag.adapters.tokens import token_lengths
    from zigzag.texts import text_position

    with pytest.raises(ValueError, match=r"text 3 \(t.txt line 5\): tokenises to no token"):
        token_lengths(Tokenizer(), texts, add_special_tokens=False, where=lambda i: text_position(texts, i))


# ---------------------------------------------------------------- duplicates
def test_duplicates_are_counted_warned_and_dropped_on_request(tmp_path, caplog):
    from zigzag.texts import drop_duplicates, duplicate_count

    path = _write(tmp_path / "d.txt", "a\nb\na\n\nc\nb\na\n")
    with caplog.at_level("WARNING", logger="zigzag"):
        texts = load_texts(path)
    assert texts == ["a", "b", "a", "c", "b", "a"] and texts.n_duplicates == 3 == duplicate_count(texts)
    assert "d.txt: 3 of 6 texts repeat an earlier text (e.g. line 3 repeats line 1)" in caplog.text
    assert "--dedupe" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="zigzag"):
        kept = load_texts(path, dedupe=True)
    assert kept == ["a", "b", "c"] and kept.lines == [1, 2, 5] and kept.n_duplicates == 3
    assert caplog.text == ""
    assert drop_duplicates(["x", "y", "x"]) == ["x", "y"] and duplicate_count(["x", "y"]) == 0


def test_duplicate_points_take_each_other_first_ties_by_index():
    """What docs/conventions.md says about repeated texts, checked on the exact kNN."""
    from zigzag.knn import knn_indices

    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3))
    k = 4
    for m in (3, 6):  # m <= k and m > k copies of point 0, at the end
        points = np.vstack([x, np.repeat(x[:1], m - 1, axis=0)])
        copies = [0] + list(range(12, 12 + m - 1))
        nn = knn_indices(points, k)
        for c in copies:
            others = [j for j in copies if j != c]
            assert nn[c, :min(k, m - 1)].tolist() == others[:k]  # the copies first, lowest index first
            assert len(set(nn[c]) - set(copies)) == max(k - m + 1, 0)
    # ties make the graph depend on point order: two points tied as a third's neighbour
    tied = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [5.0, 5.0]])
    assert knn_indices(tied, 1)[0, 0] == 1
    assert knn_indices(tied[[0, 2, 1, 3]], 1)[0, 0] == 1  # now the point at -1 has the lower index


def test_cli_options_reach_the_texts(tmp_path, monkeypatch, capsys):
    from zigzag.cli import main

    csv = _write(tmp_path / "t.csv", "id,sentence\n" + "".join(f"{i},text number {i % 4}\n" for i in range(12)))
    # extract: the texts are read before the model is loaded, so a bad column fails first, naming the option
    assert main(["extract", "no-such-model", "--texts", str(csv), "--out", str(tmp_path / "x")]) == 2
    assert "--column NAME" in capsys.readouterr().err
    # run: the options go into RunConfig and from there to load_texts
    import zigzag.report as report

    seen = {}

    def fake_run_report(config, progress=True):
        seen["texts"], _ = report.load_run_texts(config)
        raise ValueError("stop here")

    monkeypatch.setattr(report, "run_report", fake_run_report)
    assert main(["run", "--texts", str(csv), "--column", "sentence", "--dedupe", "--n-texts", "10"]) == 2
    assert seen["texts"] == [f"text number {i}" for i in range(4)] and seen["texts"].n_duplicates == 8
    assert main(["run", "--texts", str(csv), "--n-texts", "10"]) == 2
    assert "no column 'text'" in capsys.readouterr().err
    jsonl = _write(tmp_path / "t.jsonl", "".join(json.dumps({"body": f"line {i}"}) + "\n" for i in range(12)))
    assert main(["run", "--texts", str(jsonl), "--field", "body", "--n-texts", "10"]) == 2
    assert len(seen["texts"]) == 10 and all(t.startswith("line ") for t in seen["texts"])
    assert seen["texts"].lines == sorted(seen["texts"].lines)  # a sample keeps the file order and lines


def test_cli_warns_about_duplicates_on_stderr(tmp_path):
    import os
    import subprocess
    import sys

    path = _write(tmp_path / "d.txt", "same\nsame\nother\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, "-m", "zigzag.cli", "extract", str(tmp_path / "no-model"), "--texts",
                           str(path), "--out", str(tmp_path / "x"), "-q"], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "WARNING zigzag: d.txt: 1 of 3 texts repeat an earlier text" in proc.stderr
