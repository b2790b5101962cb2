"""Bars as tables and for other libraries: Barcode.to_frame / from_frame / to_gudhi.

Oracles: the layer columns against ``ceil(step / 2)`` worked out per bar in plain Python; the
round trip against the original arrays, order and parameters; gudhi's static Betti numbers of
every layer's flag complex against the number of ``to_gudhi`` intervals alive at that layer.
"""

from __future__ import annotations

import math
import sys

import gudhi
import numpy as np
import pytest

pd = pytest.importorskip("pandas")

import zigzag  # noqa: E402
from zigzag.barcode import Barcode  # noqa: E402
from zigzag.knn import knn_graph  # noqa: E402


def random_barcode(rng, n_bars=None):
    n_layers = int(rng.integers(1, 9))
    n_bars = int(rng.integers(0, 40)) if n_bars is None else n_bars
    last = 2 * n_layers - 1
    birth = rng.integers(0, last, size=n_bars)
    death = birth + 1 + (rng.integers(0, last - birth) if n_bars else 0)
    types = rng.choice(["oo", "oc", "co", "cc", ""], size=n_bars)
    params = {"k": int(rng.integers(1, 9)), "metric": "cosine", "dims": [0, 1], "model": {"name": "x", "n": 3}}
    return Barcode.from_arrays(rng.integers(0, 3, size=n_bars), birth, death, n_layers=n_layers,
                               interval_type=types, params=params)


def assert_identical(a: Barcode, b: Barcode):
    for name in ("dimension", "birth_step", "death_step", "interval_type"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert a.n_layers == b.n_layers and dict(a.params) == dict(b.params)


def test_frame_columns_are_the_bars_in_steps_and_layers(four_layer_bars):
    df = four_layer_bars.to_frame()
    assert list(df.columns) == list(Barcode.FRAME_COLUMNS) and len(df) == len(four_layer_bars)
    for row, p, b, d in zip(df.itertuples(), [1, 1, 1, 1, 1, 1, 0], [0, 1, 2, 4, 3, 5, 0], [7, 5, 3, 7, 4, 6, 7]):
        assert (row.dimension, row.birth_step, row.death_step) == (p, b, d)
        assert (row.birth_layer, row.death_layer) == (math.ceil(b / 2), math.ceil(d / 2))
        assert row.length_layers == math.ceil(d / 2) - math.ceil(b / 2)
    # the hand-made bars: A (0, 4), B (1, 3), C (1, 2), D (2, 4), two intra-intersection bars of length 0
    assert df["length_layers"].tolist() == [4, 2, 1, 2, 0, 0, 4]
    assert df.attrs == {"n_layers": 4, "params": {"k": 5, "model": "hand-made"}}
    assert df["interval_type"].tolist() == [""] * 7


def test_round_trip_is_exact_on_random_barcodes():
    rng = np.random.default_rng(13)
    for case in range(200):
        bars = random_barcode(rng)
        assert_identical(Barcode.from_frame(bars.to_frame()), bars)
    empty = random_barcode(rng, n_bars=0)
    assert_identical(Barcode.from_frame(empty.to_frame()), empty)


def test_round_trip_of_a_computed_barcode_keeps_types_and_params():
    clouds = zigzag.synthetic_trajectory(n_layers=4, n_points=60, dim=3, seed=1)
    bars = zigzag.compute(clouds, k=4, max_dim=1, progress=False)
    assert set(bars.interval_type) - {""}, "a computed barcode has dionysus' interval types"
    df = bars.to_frame()
    back = Barcode.from_frame(df)
    assert_identical(back, bars)
    assert back.same_bars(bars, check_types=True)


def test_round_trip_of_the_authors_barcode(llama2_csv):
    bars = Barcode.from_reference_csv(llama2_csv)
    df = bars.to_frame()
    assert len(df) == len(bars) == 193_985
    counts = df.groupby("dimension").size()
    assert counts.to_dict() == {p: int(np.sum(bars.dimension == p)) for p in bars.dims}
    assert_identical(Barcode.from_frame(df), bars)


def test_from_frame_takes_filtered_and_reordered_frames(four_layer_bars):
    df = four_layer_bars.to_frame()
    layer_level = Barcode.from_frame(df[df["length_layers"] > 0])  # pandas keeps attrs through a filter
    assert layer_level.same_bars(four_layer_bars.select(layer_level=True))
    shuffled = df.sample(frac=1.0, random_state=0)
    assert Barcode.from_frame(shuffled).same_bars(four_layer_bars, check_types=True)
    minimal = df[["dimension", "birth_step", "death_step"]].copy()
    minimal.attrs = {}
    back = Barcode.from_frame(minimal, n_layers=4, params={"note": "edited"})
    assert back.same_bars(four_layer_bars) and dict(back.params) == {"note": "edited"}
    assert set(back.interval_type) == {""}


def test_from_frame_errors_say_what_to_fix(four_layer_bars):
    df = four_layer_bars.to_frame()
    with pytest.raises(ValueError, match=r"columns \['birth_step', 'death_step'\]"):
        Barcode.from_frame(df.drop(columns=["birth_step", "death_step"]))
    bare = df.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="pass n_layers="):
        Barcode.from_frame(bare)
    edited = df.copy()
    edited.loc[0, "birth_layer"] = 3
    with pytest.raises(ValueError, match="'birth_layer' disagrees with the steps"):
        Barcode.from_frame(edited)
    with pytest.raises(ValueError, match="Steps must lie in 0..5 for n_layers=3"):
        Barcode.from_frame(df, n_layers=3)
    broken = df.copy()
    broken["interval_type"] = broken["interval_type"].astype(object)
    broken.loc[2, "interval_type"] = None
    with pytest.raises(ValueError, match="interval_type has missing values"):
        Barcode.from_frame(broken)
    with pytest.raises(ValueError, match="needs a DataFrame"):
        Barcode.from_frame({"dimension": [1]})


def test_frames_need_pandas_and_say_which_extra(four_layer_bars, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match=r"zigzag-tda\[tables\]"):
        four_layer_bars.to_frame()
    with pytest.raises(ImportError, match=r"Barcode.from_frame needs pandas"):
        Barcode.from_frame(object())


def test_parquet_keeps_the_parameters(four_layer_bars, tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "bars.parquet"
    four_layer_bars.to_frame().to_parquet(path)
    assert_identical(Barcode.from_frame(pd.read_parquet(path)), four_layer_bars)


# ---------------------------------------------------------------- gudhi
def test_to_gudhi_counts_give_gudhi_static_betti_numbers_of_every_layer():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 40, 3)).cumsum(axis=0) * 0.6
    bars = zigzag.compute(x, k=3, max_dim=1, progress=False)
    intervals = bars.to_gudhi()
    assert {p for p, _ in intervals} <= {0, 1}
    for layer in range(x.shape[0]):
        st = gudhi.SimplexTree()
        for v in range(x.shape[1]):
            st.insert([v])
        for u, v in knn_graph(x[layer], 3):
            st.insert([int(u), int(v)])
        st.expansion(2)
        st.compute_persistence(persistence_dim_max=True)
        static = (list(st.betti_numbers()) + [0, 0])[:2]
        alive = [sum(1 for p, (b, d) in intervals if p == dim and b <= layer < d) for dim in (0, 1)]
        assert alive == static, layer


@pytest.mark.filterwarnings("ignore:usetex mode requires")  # gudhi looks for TeX; none is needed
def test_to_gudhi_matches_to_persim_and_feeds_gudhi(four_layer_bars):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert four_layer_bars.to_gudhi(1) == [(1, (0.0, 4.0)), (1, (1.0, 3.0)), (1, (1.0, 2.0)), (1, (2.0, 4.0))]
    assert four_layer_bars.to_gudhi() == four_layer_bars.to_gudhi(1) + [(0, (0.0, 4.0))]  # row order kept
    assert four_layer_bars.to_gudhi([0]) == [(0, (0.0, 4.0))]
    h1 = np.array([bd for _, bd in four_layer_bars.to_gudhi(1)])
    np.testing.assert_array_equal(h1, four_layer_bars.to_persim(1))
    assert gudhi.bottleneck_distance(h1, four_layer_bars.to_persim(1)) == pytest.approx(0, abs=1e-12)
    later = h1.copy()
    later[3, 1] = 5.0  # bar D dies one layer later: the bottleneck distance is 1 layer
    assert gudhi.bottleneck_distance(h1, later) == pytest.approx(1.0)
    ax = gudhi.plot_persistence_diagram(four_layer_bars.to_gudhi())
    drawn = {tuple(xy) for line in ax.lines for xy in line.get_xydata().tolist()}
    assert {bd for _, bd in four_layer_bars.to_gudhi()} <= drawn  # every layer-level bar is a point
    plt.close("all")
