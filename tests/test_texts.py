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
