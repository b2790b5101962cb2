"""`zigzag compute --timings / --device / --engine`: stage timings, devices, engines from the command line."""

import json

import numpy as np
import pytest

from zigzag import Barcode
from zigzag.cli import main
from zigzag.datasets import synthetic_trajectory


@pytest.fixture
def clouds_file(tmp_path):
    path = tmp_path / "clouds.npy"
    np.save(path, synthetic_trajectory(4, 70, 5, seed=1))
    return path


def test_timings_file_and_params_hold_the_same_stage_seconds(tmp_path, clouds_file, capsys):
    out, timings = tmp_path / "bars.npz", tmp_path / "t.json"
    assert main(["compute", str(clouds_file), "-o", str(out), "--k", "4", "-q", "--timings", str(timings)]) == 0
    written = json.loads(timings.read_text())
    stages = {key: written[key] for key in ("knn", "complexes", "engine", "total")}
    assert all(isinstance(v, float) and v >= 0 for v in stages.values())
    assert stages["total"] >= stages["knn"] + stages["engine"] - 1e-3
    assert written["params"]["k"] == 4 and written["params"]["engine"] == "fast"
    assert Barcode.load(out).params["timings"] == stages
    assert "seconds:" in capsys.readouterr().out


@pytest.mark.parametrize("engine", ["dionysus", "classic"])
def test_every_engine_gives_the_default_bars(tmp_path, clouds_file, engine):
    assert main(["compute", str(clouds_file), "-o", str(tmp_path / "fast.npz"), "--k", "4", "-q"]) == 0
    assert main(["compute", str(clouds_file), "-o", str(tmp_path / "other.npz"), "--k", "4", "-q",
                 "--engine", engine]) == 0
    other = Barcode.load(tmp_path / "other.npz")
    assert other.same_bars(Barcode.load(tmp_path / "fast.npz"), check_types=True)
    assert other.params["engine"] == engine


def test_device_cpu_gives_the_numpy_bars(tmp_path, clouds_file):
    pytest.importorskip("torch")
    assert main(["compute", str(clouds_file), "-o", str(tmp_path / "a.npz"), "--k", "4", "-q"]) == 0
    assert main(["compute", str(clouds_file), "-o", str(tmp_path / "b.npz"), "--k", "4", "-q", "--device", "cpu"]) == 0
    on_cpu = Barcode.load(tmp_path / "b.npz")
    assert on_cpu.same_bars(Barcode.load(tmp_path / "a.npz"), check_types=True) and on_cpu.params["device"] == "cpu"


def test_unusable_devices_are_one_line_errors(tmp_path, clouds_file, capsys):
    torch = pytest.importorskip("torch")
    devices = ["no-such-device"] + ([] if torch.cuda.is_available() else ["cuda"])
    for device in devices:
        code = main(["compute", str(clouds_file), "-o", str(tmp_path / "b.npz"), "-q", "--device", device])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("zigzag compute: error:") and len(err.strip().splitlines()) == 1
        assert "Traceback" not in err and device in err
    assert not (tmp_path / "b.npz").exists()
