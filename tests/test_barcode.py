"""Barcode: index conventions, file formats (the authors' CSV byte for byte), Betti numbers."""

import json

import numpy as np
import pytest

from zigzag import Barcode
from zigzag.pipeline import compute


def test_reference_csv_reads_and_writes_back_byte_identical(reference_dir, tmp_path):
    for csv in sorted(reference_dir.glob("*.csv")):
        bars = Barcode.from_reference_csv(csv)
        assert bars.n_layers == 33
        out = bars.to_reference_csv(tmp_path / csv.name)
        assert out.read_bytes() == csv.read_bytes()


def test_reference_betti_numbers_are_what_the_csv_implies(llama2_csv):
    bars = Barcode.from_reference_csv(llama2_csv)
    rows = np.array([line.split(",") for line in llama2_csv.read_text().split()[1:]], dtype=int)
    for p in (0, 1, 2):
        sel = rows[rows[:, 0] == p]
        for layer in range(33):
            T = 2 * layer + 1  # layer l is step 2l, i.e. T = 2l + 1 in the authors' 1-based steps
            expected = int(np.sum((sel[:, 1] <= T) & (T < sel[:, 2])))
            assert bars.betti_numbers([p])[0, layer] == expected


def test_layer_units_follow_the_convention():
    bars = Barcode.from_arrays([1, 1, 0, 1], [0, 1, 2, 3], [7, 2, 5, 4], n_layers=4)
    assert bars.birth_layer.tolist() == [0, 1, 1, 2]
    assert bars.death_layer.tolist() == [4, 1, 3, 2]
    layer_level = bars.select(1, layer_level=True)
    assert layer_level.birth_step.tolist() == [0]  # [1,2) and [3,4) live inside one intersection
    assert bars.betti_numbers([0, 1]).tolist() == [[0, 1, 1, 0], [1, 1, 1, 1]]


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_own_format_is_lossless(tmp_path, suffix):
    x = np.random.default_rng(0).normal(size=(3, 40, 3)).cumsum(axis=0)
    bars = compute(x, k=4, max_dim=1, progress=False)
    back = Barcode.load(bars.save(tmp_path / f"bars{suffix}"))
    for name in ("dimension", "birth_step", "death_step", "interval_type"):
        assert np.array_equal(getattr(back, name), getattr(bars, name))
    assert back.n_layers == bars.n_layers and back.params["k"] == 4 and back.params["n_points"] == 40


def test_csv_round_trip_of_computed_bars(tmp_path):
    x = np.random.default_rng(1).normal(size=(3, 30, 2)).cumsum(axis=0)
    bars = compute(x, k=3, progress=False)
    back = Barcode.load(bars.save(tmp_path / "b.csv"))
    assert back.same_bars(bars)
    assert (tmp_path / "b.csv").read_bytes().startswith(b"dimension,birth,death\r\n")


def test_layers_cannot_be_inferred_from_an_odd_last_death(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("dimension,birth,death\r\n1,1,5\r\n")
    with pytest.raises(ValueError, match="pass n_layers"):
        Barcode.from_reference_csv(path)
    assert Barcode.from_reference_csv(path, n_layers=3).n_layers == 3


@pytest.mark.parametrize(
    "text, match",
    [("dim,b,d\n0,1,2\n", "header"), ("dimension,birth,death\n0,1\n", "three integers"),
     ("dimension,birth,death\n0,a,2\n", "integers"), ("dimension,birth,death\n0,3,2\n", "not after its birth")],
)
def test_malformed_csv_is_a_clear_error(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        Barcode.from_reference_csv(path, n_layers=2)


def test_invalid_bars_are_rejected():
    with pytest.raises(ValueError, match="Steps must lie in"):
        Barcode.from_arrays([0], [0], [9], n_layers=2)
    with pytest.raises(ValueError, match="same length"):
        Barcode.from_arrays([0, 1], [0], [1], n_layers=2)
    with pytest.raises(ValueError, match="not a zigzag barcode"):
        from pathlib import Path
        import tempfile
        p = Path(tempfile.mkdtemp()) / "x.json"
        p.write_text(json.dumps({"hello": 1}))
        Barcode.load(p)


def test_unknown_file_type(tmp_path):
    bars = Barcode.from_arrays([0], [0], [3], n_layers=2)
    with pytest.raises(ValueError, match=r"\.csv"):
        bars.save(tmp_path / "bars.txt")
