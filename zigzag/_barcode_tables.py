"""Barcodes as pandas tables (``Barcode.to_frame`` / ``Barcode.from_frame``); pandas is imported on first use."""

from __future__ import annotations

import numpy as np

#: Columns of ``Barcode.to_frame()``, in order.
FRAME_COLUMNS = ("dimension", "birth_step", "death_step", "birth_layer", "death_layer", "length_layers",
                 "interval_type")
_STEP_COLUMNS = ("dimension", "birth_step", "death_step")


def pandas_or_error(caller: str):
    """pandas, imported on first use, or an ImportError naming the extra that installs it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(f"{caller} needs pandas: pip install 'zigzag-tda[tables]' (or pip install pandas).") from None
    return pandas


def to_frame(barcode):
    """One row per bar, columns :data:`FRAME_COLUMNS`; ``attrs`` holds ``n_layers`` and ``params``."""
    pd = pandas_or_error("Barcode.to_frame")
    birth_layer, death_layer = barcode.birth_layer, barcode.death_layer
    columns = (barcode.dimension, barcode.birth_step, barcode.death_step, birth_layer, death_layer,
               death_layer - birth_layer, barcode.interval_type.astype(object))
    frame = pd.DataFrame(dict(zip(FRAME_COLUMNS, columns)))
    frame.attrs.update(n_layers=barcode.n_layers, params=dict(barcode.params))
    return frame


def frame_arrays(frame, *, n_layers=None, params=None) -> dict:
    """The keyword arguments of ``Barcode.from_arrays`` held by a frame (its columns and ``attrs``)."""
    pandas_or_error("Barcode.from_frame")
    missing = [c for c in _STEP_COLUMNS if c not in getattr(frame, "columns", ())]
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
    return {"dimension": frame["dimension"].to_numpy(), "birth_step": frame["birth_step"].to_numpy(),
            "death_step": frame["death_step"].to_numpy(), "n_layers": n_layers,
            "interval_type": None if types is None else types.to_numpy(dtype=str),
            "params": attrs.get("params", {}) if params is None else params}


def check_layer_columns(frame, barcode) -> None:
    """Raise when a frame's layer columns (derived, optional) contradict the steps it was read from."""
    derived = {"birth_layer": barcode.birth_layer, "death_layer": barcode.death_layer,
               "length_layers": barcode.death_layer - barcode.birth_layer}
    for name, values in derived.items():
        if name in frame.columns and not np.array_equal(frame[name].to_numpy(), values):
            raise ValueError(f"Barcode.from_frame: column {name!r} disagrees with the steps; drop it or fix it "
                             "(it is derived: layer = ceil(step / 2)).")
