"""The zigzag barcode: bars in steps and in layers, with the parameters that made it.

Index conventions (docs/conventions.md), the same everywhere in the API:

* steps ``t = 0 .. 2n-2``: even ``t = 2l`` is layer ``l``, odd ``t = 2l+1`` is
  the intersection (or union) of layers ``l`` and ``l+1``; step ``2n-1`` is
  the final deletion of everything, so no bar is infinite;
* a bar lives on steps ``birth_step <= t < death_step``;
* layers are 0-based: ``birth_layer = ceil(birth_step / 2)``,
  ``death_layer = ceil(death_step / 2)``; the bar is alive in layers
  ``birth_layer .. death_layer - 1``. Bars with ``birth_layer == death_layer``
  live only inside one intersection and are dropped from layer-level summaries;
* the authors' CSV (``dimension,birth,death``) uses ``T = t + 1``, i.e. 1..2n.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from . import _barcode_files, _barcode_tables
from ._barcode_files import REFERENCE_HEADER
from ._files import json_text, jsonable, write_bytes, write_text
from ._frozen import FrozenRecord
from ._validation import check_int
from .errors import InputTypeError

__all__ = ["Barcode", "INTERVAL_TYPES", "MAX_LAYERS", "MAX_DIMENSION", "check_barcode"]

#: dionysus' end types: open/closed at birth and death; "" when unknown (read from the authors' CSV).
INTERVAL_TYPES = ("oo", "oc", "co", "cc", "")
#: Sanity bounds: a file implying more layers or a higher homology dimension is damaged, not a model.
MAX_LAYERS = 100_000
MAX_DIMENSION = 255


def _int_array(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}.")
    if array.size and array.dtype.kind not in "iu":
        if array.dtype.kind == "f" and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise InputTypeError(f"{name} must hold integer steps, got dtype {array.dtype}.")
    return array.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Barcode(FrozenRecord):
    """Bars of a zigzag over ``n_layers`` representations.

    Parameters
    ----------
    dimension : ndarray of shape (n_bars,)
        Homology dimension p of each bar.
    birth_step, death_step : ndarray of shape (n_bars,)
        0-based zigzag steps, the bar alive on ``birth_step <= t < death_step``.
    interval_type : ndarray of shape (n_bars,)
        dionysus' end type (``"oo"``, ``"oc"``, ``"co"``, ``"cc"``), ``""`` if unknown.
    n_layers : int
        Number of representations n.
    params : mapping
        How the barcode was computed (k, metric, graph, zigzag kind, max_dim,
        engine, the clouds' provenance). Saved with the bars.

    Use :meth:`from_arrays` to build a validated one. Two barcodes hold the
    same bars when :meth:`same_bars` is true; the row order is kept as given.
    """

    dimension: np.ndarray
    birth_step: np.ndarray
    death_step: np.ndarray
    interval_type: np.ndarray
    n_layers: int
    params: Mapping = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        for name in ("dimension", "birth_step", "death_step", "interval_type"):
            getattr(self, name).setflags(write=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(cls, dimension, birth_step, death_step, *, n_layers, interval_type=None, params=None):
        """Validate arrays of bars and build a :class:`Barcode`.

        Raises
        ------
        ValueError
            If lengths differ, a step lies outside ``0 .. 2 n_layers - 1``,
            a death is not after its birth, a dimension is negative or above
            :data:`MAX_DIMENSION`, or ``n_layers`` exceeds :data:`MAX_LAYERS`.
        """
        n_layers = check_int(n_layers, "n_layers", minimum=1, caller="Barcode")
        if n_layers > MAX_LAYERS:
            raise ValueError(f"A barcode over {n_layers:,} layers is beyond zigzag's bound of {MAX_LAYERS:,} layers; "
                             "is n_layers right (or the file damaged)?")
        dimension = _int_array(dimension, "dimension")
        birth = _int_array(birth_step, "birth_step")
        death = _int_array(death_step, "death_step")
        if interval_type is None:
            interval_type = np.full(dimension.shape, "", dtype="<U2")
        raw_types = np.asarray(interval_type)
        if raw_types.size and raw_types.dtype.kind != "U":
            raise InputTypeError(f"interval_type must hold strings such as 'cc', got dtype {raw_types.dtype}.")
        wide = raw_types.size and raw_types.dtype.itemsize > np.dtype("<U2").itemsize
        if wide and max(map(len, raw_types.ravel().tolist())) > 2:
            raise ValueError(f"Unknown interval types {sorted(set(raw_types.tolist()) - set(INTERVAL_TYPES))[:5]}; "
                             f"expected one of {INTERVAL_TYPES}.")
        interval_type = raw_types.astype("<U2")
        if not (len(dimension) == len(birth) == len(death) == len(interval_type)):
            raise ValueError(
                "dimension, birth_step, death_step and interval_type must have the same length; got "
                f"{len(dimension)}, {len(birth)}, {len(death)}, {len(interval_type)}."
            )
        if len(dimension):
            last = 2 * n_layers - 1
            if dimension.min() < 0 or dimension.max() > MAX_DIMENSION:
                raise ValueError(f"Bar dimensions must lie in 0..{MAX_DIMENSION}; got {dimension.min()}..{dimension.max()}.")
            if birth.min() < 0 or death.max() > last:
                raise ValueError(
                    f"Steps must lie in 0..{last} for n_layers={n_layers}; got births from {birth.min()} and "
                    f"deaths up to {death.max()}. Is n_layers right?"
                )
            if np.any(death <= birth):
                i = int(np.argmax(death <= birth))
                raise ValueError(f"Bar {i} dies at step {death[i]}, not after its birth at step {birth[i]}.")
            unknown = set(np.unique(interval_type)) - set(INTERVAL_TYPES)
            if unknown:
                raise ValueError(f"Unknown interval types {sorted(unknown)}; expected one of {INTERVAL_TYPES}.")
        return cls(dimension, birth, death, interval_type, n_layers, params or {})

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return int(self.dimension.shape[0])

    def __repr__(self) -> str:
        counts = ", ".join(f"H{p}: {int(np.sum(self.dimension == p))}" for p in self.dims)
        return f"Barcode({len(self)} bars over {self.n_layers} layers; {counts or 'empty'})"

    @property
    def n_steps(self) -> int:
        """Number of zigzag steps ``2n - 1`` (the final deletion at step ``2n - 1`` not counted)."""
        return 2 * self.n_layers - 1

    @property
    def dims(self) -> tuple:
        """The homology dimensions that have bars, ascending."""
        return tuple(int(p) for p in np.unique(self.dimension))

    @property
    def birth_layer(self) -> np.ndarray:
        """First layer where each bar is alive: ``ceil(birth_step / 2)``."""
        return (self.birth_step + 1) // 2

    @property
    def death_layer(self) -> np.ndarray:
        """First layer where each bar is dead again: ``ceil(death_step / 2)`` (n if alive at the end)."""
        return (self.death_step + 1) // 2

    def _take(self, mask) -> "Barcode":
        return Barcode(
            self.dimension[mask], self.birth_step[mask], self.death_step[mask],
            self.interval_type[mask], self.n_layers, self.params,
        )

    def select(self, dim=None, *, layer_level: bool = False) -> "Barcode":
        """Bars of one dimension (or an iterable of them), optionally layer-level only.

        Parameters
        ----------
        dim : int or iterable of int, optional
            Homology dimension(s) to keep; all when None.
        layer_level : bool, default=False
            Drop the bars that live only inside one intersection
            (``birth_layer == death_layer``).
        """
        mask = np.ones(len(self), dtype=bool)
        if dim is not None:
            mask &= np.isin(self.dimension, np.atleast_1d(np.asarray(dim, dtype=np.int64)))
        if layer_level:
            mask &= self.birth_layer < self.death_layer
        return self._take(mask)

    def sorted(self) -> "Barcode":
        """The same bars in canonical order (dimension, birth, death, type)."""
        order = np.lexsort((self.interval_type, self.death_step, self.birth_step, self.dimension))
        return self._take(order)

    def same_bars(self, other: "Barcode", *, check_types: bool = False) -> bool:
        """True when both hold the same multiset of ``(dimension, birth_step, death_step)``."""
        if self.n_layers != other.n_layers or len(self) != len(other):
            return False
        a, b = self.sorted(), other.sorted()
        same = (
            np.array_equal(a.dimension, b.dimension)
            and np.array_equal(a.birth_step, b.birth_step)
            and np.array_equal(a.death_step, b.death_step)
        )
        return bool(same and (not check_types or np.array_equal(a.interval_type, b.interval_type)))

    def betti_numbers(self, dims=None) -> np.ndarray:
        """Betti numbers of every layer read from the bars.

        ``beta_p(l) = #{bars of dimension p with birth_step <= 2l < death_step}``,
        which equals the ordinary Betti number of layer l's complex.

        Parameters
        ----------
        dims : iterable of int, optional
            Dimensions to report; default ``0 .. max(dims)``.

        Returns
        -------
        ndarray of shape (len(dims), n_layers)
        """
        if dims is None:
            dims = range(max(self.dims) + 1) if len(self) else [0]
        dims = [int(p) for p in dims]
        layer_steps = 2 * np.arange(self.n_layers)
        out = np.zeros((len(dims), self.n_layers), dtype=np.int64)
        for row, p in enumerate(dims):
            mask = self.dimension == p
            births = np.sort(self.birth_step[mask])
            deaths = np.sort(self.death_step[mask])
            out[row] = np.searchsorted(births, layer_steps, "right") - np.searchsorted(deaths, layer_steps, "right")
        return out

    def to_persim(self, dim: int) -> np.ndarray:
        """Layer-level bars of one dimension as an ndarray of shape (n_bars, 2): (birth_layer, death_layer)."""
        bars = self.select(dim, layer_level=True)
        return np.column_stack([bars.birth_layer, bars.death_layer]).astype(float)

    # ------------------------------------------------------------------ files
    def to_reference_csv(self, path) -> Path:
        """Write the authors' CSV: header ``dimension,birth,death``, 1-based steps, CRLF lines.

        The row order is kept, so a barcode read from such a file writes back
        byte-identical.
        """
        return write_text(path, _barcode_files.csv_text(self), newline="")

    @classmethod
    def from_reference_csv(cls, path, *, n_layers: int | None = None, max_dim: int | None = None,
                           params=None) -> "Barcode":
        """Read the authors' CSV (``dimension,birth,death`` with 1-based steps ``T = t + 1``).

        Parameters
        ----------
        path : path-like
        n_layers : int, optional
            Number of representations. By default ``max(death) / 2``: the
            authors' files end with the deletion of everything at ``T = 2n``.
            When given it must agree with the file: the largest death may not
            exceed ``2 n``, and equals it when the file has H0 bars.
        max_dim : int, optional
            The highest homology dimension the file's complexes make exact,
            stored as ``params["max_dim"]``. The CSV does not say: the
            authors' files hold H_4 bars computed on complexes without
            5-simplices, which are artefacts (read them with ``max_dim=3``).
            Bars above it are kept (the file writes back byte-identical), but
            plots and ``describe`` leave them out by default.

        Raises
        ------
        ValueError
            On a wrong header, a malformed row (the message names its line), a
            last line with no line end (a file cut short), steps implying more
            than :data:`MAX_LAYERS` layers, or ``n_layers`` that disagrees with
            the file or cannot be inferred.
        """
        path = Path(path)
        n_layers = _check_n_layers(n_layers)
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not UTF-8 text; expected the authors' CSV {REFERENCE_HEADER!r}.") from None
        dimension, birth, death, n_layers = _barcode_files.read_csv(path, text, n_layers, MAX_LAYERS)
        meta = {"source": str(path), "format": "authors-csv"}
        meta.update(params or {})
        if max_dim is not None:
            meta["max_dim"] = check_int(max_dim, "max_dim", minimum=0, caller="Barcode.from_reference_csv")
        return cls.from_arrays(dimension, birth, death, n_layers=n_layers, params=meta)

    def save(self, path, *, format: str | None = None) -> Path:
        """Write the barcode atomically to ``.csv`` (the authors' format), ``.json`` or ``.npz`` (lossless).

        ``.json`` and ``.npz`` keep the interval types and the parameters, and
        carry the number of bars and a SHA-256 of them, so a damaged or cut
        short file is detected when read. ``format`` ("csv", "json", "npz")
        overrides the suffix.
        """
        path = Path(path)
        fmt = _format_of(path, format)
        if fmt == "npz":
            return write_bytes(path, _barcode_files.npz_bytes(self, jsonable(dict(self.params))))
        return write_text(path, self.dumps(fmt), newline="")

    def dumps(self, format: str = "json") -> str:
        """The text of a ``.csv`` or ``.json`` barcode file (what :meth:`save` writes), e.g. for standard output."""
        if format == "csv":
            return _barcode_files.csv_text(self)
        if format == "json":
            return json_text(_barcode_files.json_payload(self, jsonable(dict(self.params))), what="the barcode")
        raise ValueError(f"Barcode.dumps writes the text formats 'csv' and 'json'; got {format!r}.")

    @classmethod
    def load(cls, path, *, n_layers: int | None = None, max_dim: int | None = None) -> "Barcode":
        """Read a barcode written by :meth:`save` (or any authors' CSV).

        Parameters
        ----------
        path : path-like
            ``.csv``, ``.json`` or ``.npz``.
        n_layers : int, optional
            Only to check the file (for ``.json``/``.npz``, which store it) or
            to give it (for an authors' CSV, see :meth:`from_reference_csv`).
        max_dim : int, optional
            The highest exact homology dimension of an authors' CSV (see
            :meth:`from_reference_csv`); for zigzag's own files, which record
            it, it may only lower the recorded value.

        Raises
        ------
        FileNotFoundError
            When nothing is at ``path``.
        ValueError
            When the file is damaged or cut short, from a newer zigzag
            (unknown ``format_version``), of an unknown type, or disagrees
            with ``n_layers``. The message names the file.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No barcode file at {path}.")
        fmt = _format_of(path, None)
        if fmt == "csv":
            return cls.from_reference_csv(path, n_layers=n_layers, max_dim=max_dim)
        n_layers = _check_n_layers(n_layers)
        data = _barcode_files.read_own(path, "." + fmt)
        if n_layers is not None and n_layers != data["n_layers"]:
            raise ValueError(f"n_layers (--layers) = {n_layers} disagrees with {path}, which holds a barcode over "
                             f"{data['n_layers']} layers. Leave --layers out for .json and .npz files.")
        if max_dim is not None:
            max_dim = check_int(max_dim, "max_dim", minimum=0, caller="Barcode.load")
            recorded = data["params"].get("max_dim")
            if recorded is not None and max_dim > int(recorded):
                raise ValueError(f"{path} was computed with max_dim={recorded}; max_dim={max_dim} cannot raise it.")
            data["params"] = dict(data["params"], max_dim=max_dim)
        try:
            return cls.from_arrays(data["dimension"], data["birth_step"], data["death_step"],
                                   n_layers=data["n_layers"], interval_type=data["interval_type"],
                                   params=data["params"])
        except (ValueError, TypeError) as err:
            raise ValueError(f"{path} holds invalid bars: {err}") from None

    # ------------------------------------------------------------------ tables and interop (pandas, gudhi)
    #: Columns of :meth:`to_frame`, in order.
    FRAME_COLUMNS = _barcode_tables.FRAME_COLUMNS

    def to_frame(self):
        """The bars as a pandas DataFrame, one row per bar, in the barcode's order.

        Columns :attr:`FRAME_COLUMNS`: ``length_layers = death_layer -
        birth_layer`` (0 for bars inside one intersection). ``df.attrs`` holds
        ``n_layers`` and ``params``, so :meth:`from_frame` rebuilds the barcode
        exactly. Needs pandas (``pip install 'zigzag-tda[tables]'``).
        """
        return _barcode_tables.to_frame(self)

    @classmethod
    def from_frame(cls, frame, *, n_layers: int | None = None, params=None) -> "Barcode":
        """Rebuild a barcode from a DataFrame shaped like :meth:`to_frame`'s (rows may be filtered or reordered).

        Parameters
        ----------
        frame : pandas.DataFrame
            Needs ``dimension``, ``birth_step``, ``death_step``; ``interval_type``
            is optional. Layer columns, when present, must agree with the steps.
        n_layers, params : optional
            Default: ``frame.attrs["n_layers"]`` and ``frame.attrs["params"]``.

        Raises
        ------
        ValueError
            A missing column, ``n_layers`` neither given nor in ``frame.attrs``,
            layer columns that contradict the steps, or invalid bars.
        """
        bars = cls.from_arrays(**_barcode_tables.frame_arrays(frame, n_layers=n_layers, params=params))
        _barcode_tables.check_layer_columns(frame, bars)
        return bars

    def to_gudhi(self, dim=None) -> list:
        """Layer-level bars as gudhi's persistence list ``[(dim, (birth_layer, death_layer)), ...]``.

        The format ``gudhi.plot_persistence_diagram`` / ``plot_persistence_barcode``
        take; for gudhi's distances use :meth:`to_persim` (one array per
        dimension). Bars inside one intersection are dropped, as in :meth:`to_persim`.

        Parameters
        ----------
        dim : int or iterable of int, optional
            Dimensions to keep; all when None.
        """
        bars = self.select(dim, layer_level=True)
        return [(p, (float(b), float(d))) for p, b, d in
                zip(bars.dimension.tolist(), bars.birth_layer.tolist(), bars.death_layer.tolist())]


def _check_n_layers(n_layers):
    """``n_layers`` given by a user for a file: None, or an int in 1..MAX_LAYERS."""
    if n_layers is None:
        return None
    if isinstance(n_layers, bool) or not isinstance(n_layers, (int, np.integer)) or not 1 <= n_layers <= MAX_LAYERS:
        raise ValueError(f"n_layers (--layers) must be an integer from 1 to {MAX_LAYERS:,}; got {n_layers!r}.")
    return int(n_layers)


def _format_of(path: Path, format: str | None) -> str:
    fmt = format if format is not None else path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "json", "npz"):
        given = f"format {format!r}" if format is not None else (
            f"the suffix {path.suffix!r}" if path.suffix else "no suffix")
        raise ValueError(f"Unknown barcode file type for {str(path)!r} ({given}); use .csv (the authors' format), "
                         ".json or .npz.")
    return fmt


def check_barcode(barcode, caller: str, *, min_layers: int = 1):
    """Return ``barcode`` if it is a :class:`zigzag.Barcode` with at least ``min_layers`` layers."""
    if not isinstance(barcode, Barcode):
        raise InputTypeError(
            f"{caller} needs a zigzag.Barcode, got {type(barcode).__name__}. "
            "Load one with zigzag.Barcode.load(path) or compute it with zigzag.compute(clouds)."
        )
    if barcode.n_layers < min_layers:
        raise ValueError(f"{caller} needs at least {min_layers} representations; the barcode has {barcode.n_layers}.")
    return barcode
