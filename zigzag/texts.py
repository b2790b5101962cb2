"""Texts to feed a model: from a list, a file, or the built-in corpus.

The built-in corpus is ``zigzag/data/sentences.txt``: 2,881 distinct English
sentences taken from the docstrings of the Python standard library (regenerate
with ``tools/make_corpus.py``). It ships with the package, so demos and tests
need no network.
"""

from __future__ import annotations

import csv
import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np

from ._validation import check_int
from .errors import InputTypeError

__all__ = ["builtin_corpus", "load_texts", "as_texts", "texts_sha256"]

_CORPUS_FILE = "sentences.txt"


def builtin_corpus(n: int | None = None, seed: int | None = 0) -> list:
    """Distinct English sentences shipped with the package.

    Parameters
    ----------
    n : int, optional
        How many; default all of them (2,881).
    seed : int or None, default=0
        ``n`` sentences drawn without replacement with
        ``numpy.random.default_rng(seed)``; ``None`` takes the first ``n`` in
        file (alphabetical) order.

    Returns
    -------
    list of str
        The same list on every machine for the same ``n`` and ``seed``.

    Raises
    ------
    ValueError
        If ``n`` is larger than the corpus.

    Examples
    --------
    >>> texts = builtin_corpus(200)
    >>> len(texts), len(set(texts))
    (200, 200)
    """
    text = resources.files("zigzag").joinpath("data", _CORPUS_FILE).read_text(encoding="utf-8")
    sentences = [line for line in text.splitlines() if line.strip()]
    if n is None:
        return sentences
    n = check_int(n, "n", minimum=0, caller="builtin_corpus")
    if n > len(sentences):
        raise ValueError(
            f"The 'n' parameter of builtin_corpus must be at most {len(sentences)} (the corpus size); got {n}. "
            "Use your own texts for larger runs."
        )
    if seed is None:
        return sentences[:n]
    order = np.random.default_rng(seed).permutation(len(sentences))[:n]
    return [sentences[i] for i in order]


def load_texts(path, *, field: str = "text", column: str = "text") -> list:
    """Read texts from a file: ``.txt`` (one per line), ``.jsonl`` (``field``) or ``.csv`` (``column``).

    Blank lines of a ``.txt`` file are skipped.

    Parameters
    ----------
    path : str or Path
    field : str, default="text"
        Key of each JSON line that holds the text.
    column : str, default="text"
        CSV column (by header name) that holds the text.

    Returns
    -------
    list of str

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Unknown suffix, a missing field/column, or a non-string value.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No text file at {path}: expected a .txt, .jsonl or .csv file.")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return [line.rstrip("\r") for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    if suffix == ".jsonl":
        texts = []
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                if not isinstance(record, dict) or field not in record:
                    keys = sorted(record) if isinstance(record, dict) else type(record).__name__
                    raise ValueError(f"{path.name} line {number} has no field {field!r} (found {keys}); pass field=...")
                texts.append(_as_str(record[field], f"{path.name} line {number}"))
        return texts
    if suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or column not in reader.fieldnames:
                raise ValueError(f"{path.name} has no column {column!r} (columns: {reader.fieldnames}); pass column=...")
            return [_as_str(row[column], f"{path.name} row {i}") for i, row in enumerate(reader, start=1)]
    raise ValueError(f"Unsupported text file {path.name!r}: use .txt (one text per line), .jsonl or .csv.")


def _as_str(value, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {type(value).__name__} {value!r}.")
    return value


def as_texts(texts, *, minimum: int = 1, caller: str = "extract") -> list:
    """Validate texts: a list of non-empty strings, or a path to a text file (see :func:`load_texts`).

    Raises
    ------
    TypeError
        A single string that is not a file, or non-string entries.
    ValueError
        Fewer than ``minimum`` texts, or empty / whitespace-only texts.
    """
    if isinstance(texts, (str, Path)):
        if isinstance(texts, Path) or Path(texts).suffix.lower() in (".txt", ".jsonl", ".csv"):
            texts = load_texts(texts)
        else:
            raise InputTypeError(
                f"texts of {caller} must be a list of strings or a path to a .txt/.jsonl/.csv file; got one string "
                f"{texts[:40]!r}. Wrap a single text in a list."
            )
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise InputTypeError(f"texts of {caller} must all be strings; entries {bad[:5]} are {type(texts[bad[0]]).__name__}.")
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise ValueError(f"texts of {caller} contains {len(empty)} empty text(s) (indices {empty[:5]}); remove them.")
    if len(texts) < minimum:
        raise ValueError(
            f"{caller} needs at least {minimum} texts (one point each), got {len(texts)}. "
            "Pass more texts, e.g. zigzag.texts.builtin_corpus(500)."
        )
    return texts


def texts_sha256(texts) -> str:
    """SHA-256 of the texts (order matters), used to tie results to their inputs."""
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()
