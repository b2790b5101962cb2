"""Barcode files: the authors' CSV and zigzag's own ``.json``/``.npz``, read defensively.

Everything read from a file is checked before a :class:`~zigzag.barcode.Barcode`
is built from it, and every failure is a ``ValueError`` that names the file
(and the line, for CSV) and says what to do:

* a file cut short: a CSV whose last line has no line end; a JSON or npz
  whose bar count or SHA-256 of the bars (``n_bars``, ``sha256``, written
  since format version 2) does not match; an npz whose zip is damaged;
* a format version this zigzag does not know (from a newer zigzag);
* keys missing or of the wrong type; values beyond int64;
* ``n_layers`` that disagrees with the file.
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np

REFERENCE_HEADER = "dimension,birth,death"
FORMAT = "zigzag-barcode"
#: Version written; versions read. 2 added ``n_bars`` and ``sha256`` (of the bars) to detect damaged files.
FORMAT_VERSION = 2
READ_VERSIONS = (1, 2)
_ARRAYS = ("dimension", "birth_step", "death_step", "interval_type")


# ---------------------------------------------------------------------- checksums and payloads
def bars_sha256(dimension, birth_step, death_step, interval_type) -> str:
    """SHA-256 of the bars: the three step arrays as little-endian int64, then the types joined by commas."""
    digest = hashlib.sha256()
    for array in (dimension, birth_step, death_step):
        digest.update(np.ascontiguousarray(array, dtype="<i8").tobytes())
    digest.update(",".join(str(t) for t in np.asarray(interval_type).tolist()).encode("utf-8"))
    return digest.hexdigest()


def payload(bars, params: dict) -> dict:
    """What ``.json`` and ``.npz`` files hold (arrays as numpy arrays)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "n_layers": bars.n_layers,
        "n_bars": len(bars),
        "sha256": bars_sha256(bars.dimension, bars.birth_step, bars.death_step, bars.interval_type),
        "params": params,
        **{name: getattr(bars, name) for name in _ARRAYS},
    }


def csv_text(bars) -> str:
    """The authors' CSV: header, one ``dimension,birth,death`` row per bar with ``T = t + 1``, CRLF line ends."""
    rows = np.column_stack([bars.dimension, bars.birth_step + 1, bars.death_step + 1])
    return "\r\n".join([REFERENCE_HEADER] + [f"{p},{b},{d}" for p, b, d in rows.tolist()]) + "\r\n"


def json_payload(bars, params: dict) -> dict:
    return {key: value.tolist() if isinstance(value, np.ndarray) else value
            for key, value in payload(bars, params).items()}


def npz_bytes(bars, params: dict) -> bytes:
    data = payload(bars, params)
    data["params"] = json.dumps(params, allow_nan=False)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{key: np.asarray(value) for key, value in data.items()})
    return buffer.getvalue()


# ---------------------------------------------------------------------- the authors' CSV
def read_csv(path, text: str, n_layers: int | None, max_layers: int):
    """Rows ``(dimension, birth_step, death_step)`` (0-based) and n_layers of an authors' CSV."""
    if not text:
        raise ValueError(f"{path} is empty; expected the header {REFERENCE_HEADER!r} and one row per bar.")
    if not text.endswith("\n"):
        tail = text.rsplit("\n", 1)[-1]
        raise ValueError(
            f"{path} ends in the middle of line {text.count(chr(10)) + 1} ({tail[:40]!r} has no line end): the file "
            "looks cut short. Write it again; if it is complete, end it with a newline."
        )
    header, body = text.split("\n", 1)
    if header.rstrip("\r").lstrip("\ufeff") != REFERENCE_HEADER:
        raise ValueError(f"{path}: expected the header {REFERENCE_HEADER!r} on line 1, got {header[:60]!r}.")
    rows = _fast_rows(body)
    if rows is None:  # blank lines, stray characters or a bad row: go line by line
        rows, numbers = _rows_by_line(path, body)
    else:
        numbers = None  # row i is on line i + 2
    bad = (rows[:, 0] < 0) | (rows[:, 1] < 1) | (rows[:, 2] <= rows[:, 1]) | (rows[:, 2] > 2 * max_layers)
    if bad.any():
        i = int(np.argmax(bad))
        p, b, d = rows[i].tolist()
        why = ("the dimension is negative" if p < 0 else "steps start at 1" if b < 1
               else f"the bar dies at {d}, not after its birth at {b}" if d <= b
               else f"a death step of {d} means {d // 2:,} layers, more than the {max_layers:,} zigzag reads "
                    "(is the file damaged?)")
        raise ValueError(f"{path} line {numbers[i] if numbers else i + 2} ({p},{b},{d}): {why}.")
    last = int(rows[:, 2].max()) if len(rows) else 0
    if n_layers is None:
        if last < 2 or last % 2:
            raise ValueError(
                f"{path}: cannot infer the number of layers from the largest death {last} "
                "(expected an even 2n); pass n_layers (--layers on the command line)."
            )
        n_layers = last // 2
    elif last > 2 * n_layers or (np.any(rows[:, 0] == 0) and last != 2 * n_layers):
        implied = f"{last // 2} layers" if last % 2 == 0 else f"at least {(last + 1) // 2} layers"
        raise ValueError(
            f"n_layers (--layers) = {n_layers} disagrees with {path}: its largest death step {last} means {implied} "
            "(the authors' files end with the deletion of everything at step 2n). Leave --layers out."
        )
    return rows[:, 0], rows[:, 1] - 1, rows[:, 2] - 1, n_layers


def _fast_rows(body: str):
    """The rows as an (n, 3) int64 array when every line is exactly ``int,int,int``; else None."""
    body = body.replace("\r\n", "\n")
    if not body:
        return np.zeros((0, 3), dtype=np.int64)
    codes = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(codes == ord("\n"))
    commas = np.searchsorted(np.flatnonzero(codes == ord(",")), ends)  # commas before each line end
    if np.any(np.diff(commas, prepend=0) != 2) or np.any(np.diff(ends, prepend=-1) < 6):
        return None  # a line without exactly two commas, or too short to hold three numbers
    try:
        return np.array(body.replace("\n", ",").split(",")[:-1], dtype=np.int64).reshape(-1, 3)
    except (ValueError, OverflowError):
        return None


def _rows_by_line(path, body: str):
    """Parse row by row, skipping blank lines; the first bad row is an error naming its line."""
    rows, numbers = [], []
    for number, line in enumerate(body.split("\n")[:-1], start=2):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        parts = line.split(",")
        try:
            values = [int(part) for part in parts]
        except ValueError:
            values = []
        if len(values) != 3:
            raise ValueError(f"{path} line {number}: expected three integers 'dimension,birth,death', got {line[:60]!r}.")
        if any(abs(v) >= 2**63 for v in values):
            raise ValueError(f"{path} line {number}: {line[:60]!r} holds a number beyond the int64 range; the file is "
                             "damaged.")
        rows.append(values)
        numbers.append(number)
    return np.array(rows, dtype=np.int64).reshape(-1, 3), numbers


# ---------------------------------------------------------------------- zigzag's own formats
def read_own(path, suffix: str) -> dict:
    """The checked contents of a ``.json`` or ``.npz`` barcode file, arrays as numpy arrays."""
    data = _read_json(path) if suffix == ".json" else _read_npz(path)
    if data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a zigzag barcode file (no 'format': {FORMAT!r}).")
    version = data.get("format_version")
    if version not in READ_VERSIONS or isinstance(version, bool):
        raise ValueError(
            f"{path} has format_version {version!r}, but this zigzag reads versions "
            f"{', '.join(map(str, READ_VERSIONS))}. It was written by a newer zigzag: upgrade (pip install -U zigzag-tda)."
        )
    needed = ["n_layers", "params", *_ARRAYS] + (["n_bars", "sha256"] if version >= 2 else [])
    missing = [key for key in needed if key not in data]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(repr(k) for k in missing)}: it is damaged or was not written by zigzag.")
    n_layers = data["n_layers"]
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)):
        raise ValueError(f"{path}: 'n_layers' must be an integer, got {n_layers!r}.")
    if not isinstance(data["params"], dict):
        raise ValueError(f"{path}: 'params' must be a JSON object, got {type(data['params']).__name__}.")
    for name in _ARRAYS:
        array = np.asarray(data[name]) if not isinstance(data[name], dict) else np.asarray(None)
        kinds = "U" if name == "interval_type" else "iu"
        if array.ndim != 1 or (array.size and array.dtype.kind not in kinds):
            what = "strings" if name == "interval_type" else "integers (int64)"
            raise ValueError(f"{path}: {name!r} must be a list of {what}; got {_describe(data[name])}.")
        data[name] = array.astype(np.int64) if name != "interval_type" else array
    lengths = {len(data[name]) for name in _ARRAYS}
    if version >= 2:
        if len(lengths) != 1 or data["n_bars"] != lengths.pop():
            raise ValueError(f"{path} says it holds {data['n_bars']} bars but has arrays of lengths "
                             f"{sorted({len(data[n]) for n in _ARRAYS})}: the file is damaged or cut short.")
        if data["sha256"] != bars_sha256(*(data[name] for name in _ARRAYS)):
            raise ValueError(f"{path}: the bars do not match the file's SHA-256, so the file was damaged or edited "
                             "after zigzag wrote it. Write it again.")
    data["n_layers"] = int(n_layers)
    return data


def _describe(value) -> str:
    if isinstance(value, list):
        kinds = sorted({type(v).__name__ for v in value})
        return f"a list of {'/'.join(kinds) or 'nothing'}"
    return type(value).__name__


def _read_json(path) -> dict:
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text; it is damaged or not a zigzag .json barcode.") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err.msg} at line {err.lineno}); it is damaged or cut short. "
                         "Write it again.") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds a JSON {type(data).__name__}, not a zigzag barcode object.")
    return data


def _read_npz(path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {key: npz[key] for key in npz.files}
    except Exception as err:  # zipfile, zlib and numpy raise many kinds on a damaged file
        raise ValueError(f"{path} is not a readable .npz file ({_first_line(err)}); it is damaged or cut short. "
                         "Write it again.") from None
    out = {}
    for key, value in data.items():
        if value.ndim == 0 and key != "interval_type":
            out[key] = value.item()
        else:
            out[key] = value
    if isinstance(out.get("params"), str):
        try:
            out["params"] = json.loads(out["params"])
        except json.JSONDecodeError:
            raise ValueError(f"{path}: 'params' is not valid JSON; the file is damaged.") from None
    return out


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return text[0][:120] if text else type(err).__name__
