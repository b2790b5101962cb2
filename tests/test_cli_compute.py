"""The `zigzag compute` command end to end."""

import subprocess
import sys

import numpy as np
import pytest

from zigzag import Barcode, compute
from zigzag.cli import main
from zigzag.datasets import synthetic_trajectory


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".json"])
def test_compute_writes_the_same_bars_as_the_library(tmp_path, capsys, suffix):
    x = synthetic_trajectory(4, 80, 5, seed=0)
    np.save(tmp_path / "clouds.npy", x)
    out = tmp_path / f"bars{suffix}"
    code = main(["compute", str(tmp_path / "clouds.npy"), "-o", str(out), "--k", "4", "--quiet"])
    assert code == 0
    assert Barcode.load(out).same_bars(compute(x, k=4, progress=False))
    assert "beta_1 per layer" in capsys.readouterr().out


def test_compute_user_error_is_one_line_and_exit_2(tmp_path, capsys):
    np.save(tmp_path / "clouds.npy", np.zeros((3, 4, 2)))
    code = main(["compute", str(tmp_path / "clouds.npy"), "-o", str(tmp_path / "b.csv"), "--k", "9", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "smaller than the number of points" in err and "Traceback" not in err
    assert main(["compute", str(tmp_path / "missing.npy"), "-o", str(tmp_path / "b.csv")]) == 2


def test_console_script_reports_its_version():
    result = subprocess.run([sys.executable, "-m", "zigzag.cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("zigzag 0.")
