"""The zigzag barcode: bars in steps and in layers, with the parameters that made it.

Index conventions (SPEC §3–4), the same everywhere in the API:

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

from ._files import atomic_path, jsonable, write_json, write_text

__all__ = ["Barcode", "INTERVAL_TYPES"]

#: dionysus' end types: open/closed at birth and death; "" when unknown (read from the authors' CSV).
INTERVAL_TYPES = ("oo", "oc", "co", "cc", "")
REFERENCE_HEADER = "dimension,birth,death"
FORMAT_VERSION = 1


def _int_array(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}.")
    if array.size and array.dtype.kind not in "iu":
        if array.dtype.kind == "f" and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer steps, got dtype {array.dtype}.")
    return array.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Barcode:
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
            a death is not after its birth, or a dimension is negative.
        """
        from ._validation import check_int

        n_layers = check_int(n_layers, "n_layers", minimum=1, caller="Barcode")
        dimension = _int_array(dimension, "dimension")
        birth = _int_array(birth_step, "birth_step")
        death = _int_array(death_step, "death_step")
        if interval_type is None:
            interval_type = np.full(dimension.shape, "", dtype="<U2")
        interval_type = np.asarray(interval_type, dtype="<U2")
        if not (len(dimension) == len(birth) == len(death) == len(interval_type)):
            raise ValueError(
                "dimension, birth_step, death_step and interval_type must have the same length; got "
                f"{len(dimension)}, {len(birth)}, {len(death)}, {len(interval_type)}."
            )
        if len(dimension):
            last = 2 * n_layers - 1
            if dimension.min() < 0:
                raise ValueError("Bar dimensions must be >= 0.")
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

    # ------------------------------------------------------------------ the authors' CSV
    def to_reference_csv(self, path) -> Path:
        """Write the authors' CSV: header ``dimension,birth,death``, 1-based steps, CRLF lines.

        The row order is kept, so a barcode read from such a file writes back
        byte-identical.
        """
        rows = np.column_stack([self.dimension, self.birth_step + 1, self.death_step + 1])
        lines = [REFERENCE_HEADER] + [f"{p},{b},{d}" for p, b, d in rows.tolist()]
        return write_text(path, "\r\n".join(lines) + "\r\n", newline="")

    @classmethod
    def from_reference_csv(cls, path, *, n_layers: int | None = None, params=None) -> "Barcode":
        """Read the authors' CSV (``dimension,birth,death`` with 1-based steps ``T = t + 1``).

        Parameters
        ----------
        path : path-like
        n_layers : int, optional
            Number of representations. By default ``max(death) / 2``: the
            authors' files end with the deletion of everything at ``T = 2n``.

        Raises
        ------
        ValueError
            On a wrong header, malformed rows, or when n_layers cannot be inferred.
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        header, _, body = text.partition("\n")
        if header.strip() != REFERENCE_HEADER:
            raise ValueError(f"{path}: expected the header {REFERENCE_HEADER!r}, got {header.strip()!r}.")
        fields = body.replace(",", " ").split()
        if len(fields) % 3:
            raise ValueError(f"{path}: every row must have three integers 'dimension,birth,death'.")
        try:
            rows = np.array(fields, dtype=np.int64).reshape(-1, 3)
        except ValueError as err:
            raise ValueError(f"{path}: rows must hold integers ({err}).") from None
        if n_layers is None:
            last = int(rows[:, 2].max()) if len(rows) else 0
            if last < 2 or last % 2:
                raise ValueError(
                    f"{path}: cannot infer the number of layers from the largest death {last} "
                    "(expected an even 2n); pass n_layers (--layers on the command line)."
                )
            n_layers = last // 2
        meta = {"source": str(path), "format": "authors-csv"}
        meta.update(params or {})
        return cls.from_arrays(rows[:, 0], rows[:, 1] - 1, rows[:, 2] - 1, n_layers=n_layers, params=meta)

    # ------------------------------------------------------------------ own lossless format
    def save(self, path) -> Path:
        """Write the barcode to ``.csv`` (authors' format), ``.npz`` or ``.json`` (lossless, with params)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return self.to_reference_csv(path)
        if suffix == ".json":
            return write_json(path, self._payload(as_lists=True))
        if suffix == ".npz":
            payload = self._payload(as_lists=False)
            payload["params"] = np.array(json.dumps(payload["params"]))
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez_compressed(fh, **payload)
            return path
        raise ValueError(f"Unknown barcode file type {path.suffix!r}; use .csv (authors' format), .npz or .json.")

    def _payload(self, *, as_lists: bool) -> dict:
        conv = (lambda a: a.tolist()) if as_lists else (lambda a: a)
        return {
            "format": "zigzag-barcode",
            "format_version": FORMAT_VERSION,
            "n_layers": self.n_layers,
            "params": jsonable(dict(self.params)),
            "dimension": conv(self.dimension),
            "birth_step": conv(self.birth_step),
            "death_step": conv(self.death_step),
            "interval_type": conv(self.interval_type),
        }

    @classmethod
    def load(cls, path, *, n_layers: int | None = None) -> "Barcode":
        """Read a barcode written by :meth:`save` (or any authors' CSV)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No barcode file at {path}.")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return cls.from_reference_csv(path, n_layers=n_layers)
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                data = {key: npz[key] for key in npz.files}
            data["params"] = json.loads(str(data["params"]))
            data["n_layers"] = int(data["n_layers"])
        else:
            raise ValueError(f"Unknown barcode file type {path.suffix!r}; use .csv, .npz or .json.")
        if str(data.get("format")) != "zigzag-barcode":
            raise ValueError(f"{path} is not a zigzag barcode file (no 'format': 'zigzag-barcode').")
        return cls.from_arrays(
            data["dimension"], data["birth_step"], data["death_step"],
            n_layers=n_layers or data["n_layers"], interval_type=data["interval_type"], params=data["params"],
        )

    # ------------------------------------------------------------------ tables and interop (pandas, gudhi)
    #: Columns of :meth:`to_frame`, in order.
    FRAME_COLUMNS = ("dimension", "birth_step", "death_step", "birth_layer", "death_layer", "length_layers",
                     "interval_type")

    def to_frame(self):
        """The bars as a pandas DataFrame, one row per bar, in the barcode's order.

        Columns :attr:`FRAME_COLUMNS`: ``length_layers = death_layer -
        birth_layer`` (0 for bars inside one intersection). ``df.attrs`` holds
        ``n_layers`` and ``params``, so :meth:`from_frame` rebuilds the barcode
        exactly. Needs pandas (``pip install 'zigzag-tda[tables]'``).
        """
        pd = _pandas("Barcode.to_frame")
        birth_layer, death_layer = self.birth_layer, self.death_layer
        columns = (self.dimension, self.birth_step, self.death_step, birth_layer, death_layer,
                   death_layer - birth_layer, self.interval_type.astype(object))
        frame = pd.DataFrame(dict(zip(self.FRAME_COLUMNS, columns)))
        frame.attrs.update(n_layers=self.n_layers, params=dict(self.params))
        return frame

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
        _pandas("Barcode.from_frame")
        missing = [c for c in ("dimension", "birth_step", "death_step") if c not in getattr(frame, "columns", ())]
        if missing:
            raise ValueError(f"Barcode.from_frame needs a DataFrame with the columns {missing}; the layer columns "
                             "alone cannot give the steps (a bar born at layer b was born at step 2b - 1 or 2b).")
        attrs = dict(getattr(frame, "attrs", {}) or {})
        n_layers = attrs.get("n_layers") if n_layers is None else n_layers
        if n_layers is None:
            raise ValueError("Barcode.from_frame: the frame has no attrs['n_layers']; pass n_layers=.")
        types = frame["interval_type"] if "interval_type" in frame.columns else None
        if types is not None and types.isna().any():
            raise ValueError("Barcode.from_frame: interval_type has missing values; use '' for an unknown type.")
        bars = cls.from_arrays(
            frame["dimension"].to_numpy(), frame["birth_step"].to_numpy(), frame["death_step"].to_numpy(),
            n_layers=int(n_layers), interval_type=None if types is None else types.to_numpy(dtype=str),
            params=attrs.get("params", {}) if params is None else params,
        )
        derived = {"birth_layer": bars.birth_layer, "death_layer": bars.death_layer,
                   "length_layers": bars.death_layer - bars.birth_layer}
        for name, values in derived.items():
            if name in frame.columns and not np.array_equal(frame[name].to_numpy(), values):
                raise ValueError(f"Barcode.from_frame: column {name!r} disagrees with the steps; drop it or fix it "
                                 "(it is derived: layer = ceil(step / 2)).")
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


def _pandas(caller: str):
    """pandas, imported on first use, or an ImportError naming the extra that installs it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"{caller} needs pandas: pip install 'zigzag-tda[tables]' (or pip install pandas).") from None
    return pandas
