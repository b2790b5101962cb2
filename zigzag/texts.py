"""Texts to feed a model: from a list, a file, or the built-in corpus.

The built-in corpus is ``zigzag/data/sentences.txt``: 2,881 distinct English
sentences taken from the docstrings of the Python standard library (regenerate
with ``tools/make_corpus.py``). It ships with the package, so demos and tests
need no network.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from importlib import resources
from pathlib import Path

import numpy as np

from ._validation import check_int
from .errors import InputTypeError

__all__ = ["builtin_corpus", "load_texts", "as_texts", "texts_sha256", "Texts", "duplicate_count", "drop_duplicates",
           "text_position"]

log = logging.getLogger("zigzag")

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


class Texts(list):
    """A list of texts read from a file, remembering where each one is in it.

    Behaves as a plain ``list`` of str; ``source`` is the file name,
    ``lines[i]`` the 1-based line where text ``i`` starts, and
    ``n_duplicates`` how many texts of the file repeated an earlier one
    (dropped or kept, see :func:`load_texts`).
    """

    def __init__(self, texts=(), *, source: str = "", lines=(), n_duplicates: int = 0):
        super().__init__(texts)
        self.source = source
        self.lines = list(lines)
        self.n_duplicates = n_duplicates

    def where(self, i: int) -> str:
        """``"text i (FILE line L)"``: how errors name a text."""
        return f"text {i} ({self.source} line {self.lines[i]})" if i < len(self.lines) else f"text {i}"

    def take(self, indices) -> "Texts":
        """The texts at ``indices``, in that order, with their line numbers."""
        indices = [int(i) for i in indices]
        return Texts([self[i] for i in indices], source=self.source, lines=[self.lines[i] for i in indices],
                     n_duplicates=self.n_duplicates)


def text_position(texts, i: int) -> str:
    """How an error names text ``i``: its line in the file for :class:`Texts`, else its index."""
    return texts.where(i) if isinstance(texts, Texts) else f"text {i}"


def load_texts(path, *, field: str = "text", column: str = "text", dedupe: bool = False) -> Texts:
    """Read texts from a file: ``.txt`` (one per line), ``.jsonl`` (``field``) or ``.csv`` (``column``).

    Blank lines of a ``.txt`` file are skipped; in a ``.jsonl`` or ``.csv``
    file an empty text is an error naming its line. Every error names the
    line of the file.

    Parameters
    ----------
    path : str or Path
    field : str, default="text"
        Key of each JSON line that holds the text (``--field`` on the command line).
    column : str, default="text"
        CSV column (by header name) that holds the text (``--column``).
    dedupe : bool, default=False
        Keep only the first occurrence of each text. Otherwise repeated texts
        are kept and a warning is logged: identical texts give identical
        points, whose nearest-neighbour ties are broken by point index
        (see docs/conventions.md), which changes the kNN graph.

    Returns
    -------
    Texts
        A list of str that also knows each text's line (``lines``) and the
        number of repeated texts found (``n_duplicates``).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Unknown suffix, a file that is not UTF-8, a missing field/column, a
        line that is not JSON, a non-string or empty value, an unclosed quote
        or a field beyond the csv module's size limit.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No text file at {path}: expected a .txt, .jsonl or .csv file.")
    suffix = path.suffix.lower()
    readers = {".txt": _read_txt, ".jsonl": lambda p: _read_jsonl(p, field), ".csv": lambda p: _read_csv(p, column)}
    if suffix not in readers:
        raise ValueError(f"Unsupported text file {path.name!r}: use .txt (one text per line), .jsonl or .csv.")
    pairs = readers[suffix](path)
    texts = Texts([t for _, t in pairs], source=path.name, lines=[n for n, _ in pairs])
    return _handle_duplicates(texts, dedupe)


def _decoded(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise ValueError(f"{path.name} line {line} is not UTF-8 text; save the file as UTF-8.") from None


def _read_txt(path: Path) -> list:
    lines = _decoded(path).split("\n")
    return [(number, line.rstrip("\r")) for number, line in enumerate(lines, start=1) if line.strip()]


def _read_jsonl(path: Path, field: str) -> list:
    pairs = []
    for number, line in enumerate(_decoded(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path.name} line {number} is not valid JSON ({err.msg}); each line of a .jsonl file "
                             "must be one JSON object.") from None
        if not isinstance(record, dict) or field not in record:
            keys = sorted(record) if isinstance(record, dict) else f"a JSON {type(record).__name__}"
            raise ValueError(f"{path.name} line {number} has no field {field!r} (found {keys}); choose the field "
                             "that holds the text with --field NAME (field= in Python).")
        pairs.append((number, _as_text(record[field], f"{path.name} line {number} (field {field!r})")))
    return pairs


def _read_csv(path: Path, column: str) -> list:
    reader = csv.reader(io.StringIO(_decoded(path), newline=""), strict=True)
    pairs, start = [], 1  # start: the line where the row being read begins
    try:
        header = next(reader, None)
        if header is None or column not in header:
            raise ValueError(f"{path.name} has no column {column!r} (columns: {header}); choose the column that "
                             "holds the text with --column NAME (column= in Python).")
        index = header.index(column)
        start = reader.line_num + 1
        for row in reader:
            if row:  # csv gives [] for a blank line
                if len(row) != len(header):
                    raise ValueError(f"{path.name} line {start} has {len(row)} fields, but the header has "
                                     f"{len(header)}; quote texts that hold commas.")
                pairs.append((start, _as_text(row[index], f"{path.name} line {start} (column {column!r})")))
            start = reader.line_num + 1
    except csv.Error as err:
        if "field larger than field limit" in str(err):
            raise ValueError(f"{path.name} line {start}: a field is longer than the csv module's limit of "
                             f"{csv.field_size_limit():,} characters; most likely a quote opened on line {start} is "
                             "never closed. Close the quote, or shorten the text.") from None
        if "unexpected end of data" in str(err):
            raise ValueError(f"{path.name} line {start}: a quote opened in this row is never closed (the file ends "
                             "inside it). Close the quote.") from None
        raise ValueError(f"{path.name} line {start}: not valid CSV ({err}).") from None
    return pairs


def _as_text(value, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {type(value).__name__} {value!r:.60}.")
    if not value.strip():
        raise ValueError(f"{where}: the text is empty; remove the row or fill it in.")
    return value


def duplicate_count(texts) -> int:
    """How many texts repeat an earlier one (``len(texts) - len(set(texts))``)."""
    return len(texts) - len(set(texts))


def drop_duplicates(texts) -> list:
    """The texts without repeats, keeping the first occurrence of each (a :class:`Texts` keeps its lines)."""
    seen, keep = set(), []
    for i, text in enumerate(texts):
        if text not in seen:
            seen.add(text)
            keep.append(i)
    if isinstance(texts, Texts):
        return texts.take(keep)
    return [texts[i] for i in keep]


def _handle_duplicates(texts: Texts, dedupe: bool) -> Texts:
    n = duplicate_count(texts)
    texts.n_duplicates = n
    if not n:
        return texts
    if dedupe:
        log.info("%s: dropped %d repeated texts (kept the first of each); %d remain", texts.source, n, len(texts) - n)
        return drop_duplicates(texts)
    first = next(i for i, j in enumerate(_first_index(texts)) if j != i)
    log.warning(
        "%s: %d of %d texts repeat an earlier text (e.g. line %d repeats line %d). Identical texts give identical "
        "points, tied in the kNN graph (ties are broken by point index), so they change the barcode. Pass --dedupe "
        "(dedupe=True) to keep only the first of each.",
        texts.source, n, len(texts), texts.lines[first], texts.lines[_first_index(texts)[first]],
    )
    return texts


def _first_index(texts) -> list:
    first = {}
    return [first.setdefault(text, i) for i, text in enumerate(texts)]


def as_texts(texts, *, minimum: int = 1, caller: str = "extract") -> list:
    """Validate texts: a list of non-empty strings, or a path to a text file (see :func:`load_texts`).

    A :class:`Texts` is returned as it is, so later errors can name lines.

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
    if not isinstance(texts, Texts):
        texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise InputTypeError(f"texts of {caller} must all be strings; entries {bad[:5]} are {type(texts[bad[0]]).__name__}.")
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise ValueError(f"texts of {caller} contains {len(empty)} empty text(s) "
                         f"({', '.join(text_position(texts, i) for i in empty[:5])}); remove them.")
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
