"""The `zigzag describe`, `zigzag prune-plan` and `zigzag plot` commands."""

import json

import numpy as np
import pytest

from zigzag.cli import main
from zigzag.descriptors import Descriptors


@pytest.fixture
def bars_file(four_layer_bars, tmp_path):
    return four_layer_bars.save(tmp_path / "bars.json")


def test_prune_plan_json(bars_file, capsys):
    code = main(["prune-plan", str(bars_file), "--q", "0.9", "--q", "0.8", "--blocks", "2", "--json"])
    assert code == 0
    out = capsys.readouterr().out
    data = json.loads(out)  # exactly one JSON object
    assert out.count("\n") == 1
    assert data["profile"] == pytest.approx(list(np.array([13, 19, 22, 18]) / 24))
    assert data["peak_layer"] == 2
    plans = data["plans"]
    assert plans[0]["q"] == 0.9 and plans[0]["blocks"] == [2] and "blocks_requested" not in plans[0]
    assert plans[1]["q"] == 0.8 and plans[1]["blocks"] == [1, 2]
    assert plans[2]["blocks_requested"] == 2 and plans[2]["blocks"] == [1, 2] and "q" not in plans[2]


def test_prune_plan_table(bars_file, capsys):
    assert main(["prune-plan", str(bars_file)]) == 0  # default q 0.9 and 0.8
    out = capsys.readouterr().out
    assert "peak at layer 2" in out
    assert "q=0.9" in out and "1 of 3" in out and "q=0.8" in out and "1-2" in out


def test_prune_plan_reference_csv(llama2_csv, capsys):
    assert main(["prune-plan", str(llama2_csv), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["profile"]) == 33 and data["peak_layer"] == 23
    assert [p["blocks"] for p in data["plans"]] == [list(range(20, 28)), list(range(18, 30))]


def test_layers_option_and_inference_error(tmp_path, capsys):
    csv = tmp_path / "odd.csv"
    csv.write_text("dimension,birth,death\n1,1,3\n1,2,5\n", encoding="utf-8")  # largest death 5: not 2n
    assert main(["prune-plan", str(csv), "--json"]) == 2
    err = capsys.readouterr().err
    assert "--layers" in err and "Traceback" not in err
    assert main(["prune-plan", str(csv), "--layers", "3", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["profile"]) == 3


def test_describe_writes_json(bars_file, tmp_path, capsys):
    out = tmp_path / "desc.json"
    assert main(["describe", str(bars_file), "--dims", "0", "1", "--alpha", "1", "-o", str(out)]) == 0
    desc = Descriptors.load(out)
    assert desc.dims == (0, 1) and desc.alpha == (1.0,)
    np.testing.assert_allclose(desc.ilp[1][0], [1, 5 / 12, 1 / 2, 7 / 12])
    assert "peak of the average similarity at layer 2" in capsys.readouterr().out
    assert main(["describe", str(bars_file), "--threshold", "2", "-o", str(tmp_path / "x.json")]) == 2
    assert "threshold" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["diagram", "barcode", "histogram", "betti", "similarity", "profile"])
def test_plot_writes_a_png(bars_file, tmp_path, kind):
    out = tmp_path / f"{kind}.png"
    assert main(["plot", str(bars_file), "--kind", kind, "--dim", "1", "--dpi", "40", "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_describe_defaults_to_the_dimensions_the_barcode_has(tmp_path, capsys, llama3_csv):
    from zigzag.barcode import Barcode

    h01 = Barcode.from_arrays([0, 1, 1], [0, 0, 2], [7, 3, 5], n_layers=4, params={"max_dim": 1})
    path = h01.save(tmp_path / "h01.npz")
    assert main(["describe", str(path), "-o", str(tmp_path / "d.json")]) == 0
    assert Descriptors.load(tmp_path / "d.json").dims == (0, 1)  # not H0-H2 on an H0-H1 barcode
    assert "H2" not in capsys.readouterr().out
    # the authors' CSV records no max_dim: --max-dim declares it (their H4 bars are artefacts)
    assert main(["describe", str(llama3_csv), "--max-dim", "3", "-o", str(tmp_path / "a.json")]) == 0
    assert Descriptors.load(tmp_path / "a.json").dims == (0, 1, 2, 3)
    assert main(["describe", str(path), "--max-dim", "2", "-o", str(tmp_path / "x.json")]) == 2
    assert "max_dim=1" in capsys.readouterr().err


def test_prune_plan_warns_about_degenerate_plans(bars_file, capsys):
    assert main(["prune-plan", str(bars_file), "--q", "0.5", "--q", "0.9", "--json"]) == 0  # r = [13, 19, 22, 18]/24
    captured = capsys.readouterr()
    plans = json.loads(captured.out)["plans"]
    assert plans[0]["blocks"] == [0, 1, 2] and plans[0]["degenerate"] == "removes all 3 blocks"
    assert plans[1]["degenerate"] is None
    assert captured.err.count("warning") == 1 and "q=0.5 is degenerate: it removes all 3 blocks" in captured.err
    assert main(["prune-plan", str(bars_file), "--tolerance", "0.5"]) == 0  # --tolerance is --q
    assert "(degenerate: removes all 3 blocks)" in capsys.readouterr().out


def test_prune_plan_names_the_last_representation_not_a_final_norm(bars_file, capsys):
    assert main(["prune-plan", str(bars_file)]) == 0
    out = capsys.readouterr().out
    assert "3 = the last representation, never removed" in out and "final norm" not in out


@pytest.mark.parametrize("argv, words", [
    (["--dim", "2"], "--max-dim 2"),
    (["--dim", "0", "--q", "1.5"], "'q'"),
])
def test_prune_plan_errors_are_one_line(h0_h1_file, capsys, argv, words):
    assert main(["prune-plan", str(h0_h1_file), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zigzag prune-plan: error: ") and err.count("\n") == 1 and words in err


@pytest.fixture
def h0_h1_file(tmp_path):
    from zigzag import compute
    from zigzag.datasets import synthetic_trajectory

    return compute(synthetic_trajectory(4, 40, 3, seed=1), k=4, progress=False).save(tmp_path / "h01.npz")


@pytest.mark.parametrize("argv", [["prune-plan", "BARS", "-q", "0.9"], ["plot", "BARS", "--kind", "profile", "-q0.8",
                                                                         "-o", "x.png"]])
def test_dash_q_with_a_number_asks_for_double_dash_q(bars_file, capsys, argv):
    argv = [str(bars_file) if a == "BARS" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "did you mean --q 0." in err and err.count("\n") == 1


def test_plot_betti_logy(bars_file, tmp_path, monkeypatch):
    from zigzag import plotting

    drawn = []
    original = plotting.plot_betti

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        drawn.append(out)  # the Axes drawn on
        return out

    monkeypatch.setattr(plotting, "plot_betti", spy)
    assert main(["plot", str(bars_file), "--kind", "betti", "--logy", "--dpi", "30", "-o", str(tmp_path / "b.png")]) == 0
    assert main(["plot", str(bars_file), "--kind", "betti", "--dpi", "30", "-o", str(tmp_path / "c.png")]) == 0
    assert [ax.get_yscale() for ax in drawn] == ["log", "linear"]
    assert main(["plot", str(bars_file), "--kind", "diagram", "--logy", "-o", str(tmp_path / "d.png")]) == 2


def test_plot_kinds_are_the_barcode_plots():
    import inspect

    from zigzag import plotting
    from zigzag.cli.analysis import PLOT_KINDS

    for kind in PLOT_KINDS:  # each takes the barcode first (plot_profile: a barcode or plans)
        first = next(iter(inspect.signature(getattr(plotting, f"plot_{kind}")).parameters))
        assert first in ("barcode", "source"), (kind, first)
