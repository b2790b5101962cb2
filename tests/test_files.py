"""Outputs: atomic, through symlinks, strict JSON, no temp files left behind, one writer per output."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from zigzag._files import (OutputLockedError, atomic_path, json_text, lock_file_of, output_lock, save_figure,
                           write_json, write_text)

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, *args) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_atomic_write_replaces_whole_file_and_keeps_its_mode(tmp_path):
    out = tmp_path / "a.txt"
    write_text(out, "old")
    out.chmod(0o640)
    write_text(out, "new")
    assert out.read_text() == "new"
    assert out.stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]


def test_symlinked_output_is_written_through_and_the_link_kept(tmp_path):
    target = tmp_path / "data" / "bars.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_json(link, {"a": 1})
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text()) == {"a": 1}
    # a dangling link creates its target
    dangling = tmp_path / "new.txt"
    dangling.symlink_to(tmp_path / "data" / "fresh.txt")
    write_text(dangling, "hi")
    assert dangling.is_symlink() and (tmp_path / "data" / "fresh.txt").read_text() == "hi"
    # a link into a folder that does not exist is a clear error
    broken = tmp_path / "broken.txt"
    broken.symlink_to(tmp_path / "nowhere" / "x.txt")
    with pytest.raises(ValueError, match="whose folder does not exist"):
        write_text(broken, "x")


@pytest.mark.parametrize("make", ["folder", "link to folder"])
def test_output_that_is_a_folder_is_a_clear_error(tmp_path, make):
    folder = tmp_path / "d"
    folder.mkdir()
    out = folder if make == "folder" else tmp_path / "l"
    if make != "folder":
        out.symlink_to(folder)
    with pytest.raises(ValueError, match="is a folder"):
        write_text(out, "x")
    assert list(folder.iterdir()) == []


def test_read_only_folder_is_a_clear_error(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.name != "posix" or os.geteuid() == 0:  # root ignores the mode: refuse the way the kernel would
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr("tempfile.mkstemp", refuse)
    try:
        with pytest.raises(PermissionError, match=f"folder {folder} is not writable"):
            write_text(folder / "x.txt", "x")
    finally:
        folder.chmod(0o700)


def test_a_part_of_the_folder_path_that_is_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        write_text(tmp_path / "f" / "x.txt", "x")


@pytest.mark.parametrize("fault", [RuntimeError, KeyboardInterrupt])
def test_interrupted_write_leaves_the_old_file_and_no_temp_file(tmp_path, fault):
    out = tmp_path / "a.npy"
    write_text(out, "old")
    with pytest.raises(fault):
        with atomic_path(out) as tmp:
            np.save(tmp, np.zeros(10))
            raise fault()
    assert out.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["a.npy"]


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_write_leaves_no_temp_file(tmp_path, signum):
    out = tmp_path / "out.txt"
    proc = _python("""
        import sys, time
        from zigzag._files import atomic_path
        with atomic_path(sys.argv[1]) as tmp:
            open(tmp, "w").write("half")
            print("writing", flush=True)
            time.sleep(60)
        """, out)
    assert proc.stdout.readline().strip() == "writing"
    assert len(os.listdir(tmp_path)) == 1  # the temp file exists while writing
    proc.send_signal(signum)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    if signum == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM  # the usual status of a terminated command
    assert os.listdir(tmp_path) == []


def test_json_is_strict_and_names_the_bad_value(tmp_path):
    assert json_text({"a": np.float64(1.5), "b": np.arange(2), "c": Path("x")}) == \
        json.dumps({"a": 1.5, "b": [0, 1], "c": "x"}, indent=2) + "\n"
    for bad, where in [({"ilp": {"1": [[0.0, float("inf")]]}}, r"ilp\.1\[0\]\[1\] is inf"),
                       ([1.0, np.nan], r"\[1\] is nan"), (float("-inf"), "the value is -inf")]:
        with pytest.raises(ValueError, match=where):
            write_json(tmp_path / "x.json", bad)
    assert not (tmp_path / "x.json").exists()


def test_figure_suffix_is_checked_before_writing_and_errors_name_the_users_path(tmp_path):
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    try:
        for name, match in [("fig", "has no suffix"), ("fig.xyz", "suffix '.xyz'")]:
            with pytest.raises(ValueError, match=match) as err:
                save_figure(fig, tmp_path / name)
            assert str(tmp_path / name) in str(err.value) and ".tmp" not in str(err.value)
        assert os.listdir(tmp_path) == []
        save_figure(fig, tmp_path / "fig.svg")
        assert (tmp_path / "fig.svg").read_text().lstrip().startswith("<?xml")
    finally:
        plt.close(fig)


def test_output_lock_refuses_a_second_holder_and_names_the_first(tmp_path):
    out = tmp_path / "report"
    with output_lock(out, command="zigzag run --out report") as lock:
        assert lock == lock_file_of(out) and lock.parent == tmp_path
        held = json.loads(lock.read_text())
        assert held["pid"] == os.getpid() and held["command"] == "zigzag run --out report"
        with pytest.raises(OutputLockedError, match=rf"pid {os.getpid()} .*zigzag run --out report"):
            with output_lock(out):
                pass
    assert not lock.exists()
    with output_lock(out):  # free again
        pass


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_output_lock_of_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "ext"
    proc = _python("""
        import sys, time
        from zigzag._files import output_lock
        with output_lock(sys.argv[1], command="zigzag extract holder"):
            print("locked", flush=True)
            time.sleep(60)
        """, out)
    assert proc.stdout.readline().strip() == "locked"
    with pytest.raises(OutputLockedError, match=f"pid {proc.pid} .*zigzag extract holder"):
        with output_lock(out):
            pass
    proc.kill()  # SIGKILL: no cleanup, the lock file stays
    proc.wait(timeout=30)
    assert lock_file_of(out).exists()
    with output_lock(out, command="second") as lock:
        assert json.loads(lock.read_text())["command"] == "second"


# ---------------------------------------------------------------------- the command line's outputs
@pytest.fixture
def clouds_file(tmp_path):
    np.save(tmp_path / "c.npy", np.random.default_rng(0).normal(size=(3, 25, 2)).cumsum(axis=0))
    return tmp_path / "c.npy"


def _one_line_error(capsys, command):
    out = capsys.readouterr()
    assert out.err.startswith(f"zigzag {command}: error: ") and out.err.count("\n") == 1, out.err
    return out.err


def test_dash_output_writes_text_formats_to_stdout_and_the_summary_to_stderr(clouds_file, tmp_path, capsys):
    from zigzag import Barcode
    from zigzag.cli import main
    from zigzag.pipeline import compute

    expected = compute(np.load(clouds_file), k=4, progress=False)
    assert main(["compute", str(clouds_file), "-o", "-", "--k", "4", "-q"]) == 0
    out = capsys.readouterr()
    (tmp_path / "b.json").write_text(out.out)
    assert Barcode.load(tmp_path / "b.json").same_bars(expected, check_types=True)
    assert "-> standard output" in out.err and "beta_0" in out.err
    assert main(["compute", str(clouds_file), "-o", "-", "--format", "csv", "--k", "4", "-q"]) == 0
    assert capsys.readouterr().out == expected.dumps("csv")
    assert main(["describe", str(tmp_path / "b.json"), "-o", "-", "--dims", "0", "1"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["format"] == "zigzag-descriptors" and "peak of the average similarity" in out.err
    assert not (tmp_path / "-").exists() and not (Path.cwd() / "-").exists()
    for argv, command in [(["compute", str(clouds_file), "-o", "-", "--format", "npz"], "compute"),
                          (["plot", str(tmp_path / "b.json"), "--kind", "betti", "-o", "-"], "plot")]:
        assert main(argv) == 2
        assert "takes text formats only" in _one_line_error(capsys, command)


def test_bad_outputs_are_refused_before_any_work(clouds_file, tmp_path, capsys, monkeypatch):
    from zigzag.cli import main

    def no_work(*args, **kwargs):
        raise AssertionError("the computation ran before the output was checked")

    monkeypatch.setattr("zigzag.pipeline.compute", no_work)
    (tmp_path / "folder.json").mkdir()
    cases = [("folder.json", "is a folder"), ("bars", "Cannot tell the barcode format of"),
             ("bars.txt", "Cannot tell the barcode format")]
    for name, match in cases:
        assert main(["compute", str(clouds_file), "-o", str(tmp_path / name), "-q"]) == 2
        assert match in _one_line_error(capsys, "compute")
    monkeypatch.setattr("zigzag._files.os.access", lambda path, mode: False)  # a read-only folder, even for root
    assert main(["compute", str(clouds_file), "-o", str(tmp_path / "ro" / "b.json"), "-q"]) == 2
    assert "is not writable" in _one_line_error(capsys, "compute")


def test_plot_names_the_users_path_when_the_suffix_is_wrong(four_layer_bars, tmp_path, capsys):
    from zigzag.cli import main

    four_layer_bars.save(tmp_path / "b.json")
    for name in ("fig", "fig.docx"):
        assert main(["plot", str(tmp_path / "b.json"), "--kind", "betti", "-o", str(tmp_path / name)]) == 2
        err = _one_line_error(capsys, "plot")
        assert repr(str(tmp_path / name)) in err and ".tmp" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]


def test_cli_writes_through_a_symlinked_output(clouds_file, tmp_path):
    from zigzag import Barcode
    from zigzag.cli import main

    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "bars.csv").write_text("old")
    (tmp_path / "bars.csv").symlink_to(tmp_path / "store" / "bars.csv")
    assert main(["compute", str(clouds_file), "-o", str(tmp_path / "bars.csv"), "--k", "4", "-q"]) == 0
    assert (tmp_path / "bars.csv").is_symlink()
    assert len(Barcode.load(tmp_path / "store" / "bars.csv")) > 0


def test_overflowing_alpha_is_refused_and_large_finite_ones_give_valid_json(four_layer_bars, tmp_path, capsys):
    from zigzag.cli import main
    from zigzag.descriptors import describe

    four_layer_bars.save(tmp_path / "b.json")
    assert main(["describe", str(tmp_path / "b.json"), "-o", str(tmp_path / "d.json"), "--alpha", "1e308"]) == 2
    assert "alpha=1e+308 overflows float64" in _one_line_error(capsys, "describe")
    assert not (tmp_path / "d.json").exists()
    for alpha in (600.0, 1e5):
        with pytest.raises(ValueError, match="use an alpha of at most about"):
            describe(four_layer_bars, alpha=(alpha,))
    assert main(["describe", str(tmp_path / "b.json"), "-o", str(tmp_path / "d.json"), "--alpha", "0", "300"]) == 0
    json.loads((tmp_path / "d.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))


def test_errors_inside_a_write_name_the_users_path_not_the_temp_file(tmp_path):
    out = tmp_path / "fig.png"
    for fault in (lambda tmp: ValueError(f"Format of {tmp} is not supported"),
                  lambda tmp: OSError(28, "No space left on device", str(tmp))):
        with pytest.raises((ValueError, OSError)) as err:
            with atomic_path(out) as tmp:
                raise fault(tmp)
        assert str(out) in str(err.value) and ".tmp" not in str(err.value)
    assert os.listdir(tmp_path) == []


def test_format_and_suffix_must_agree_and_extract_refuses_a_file_as_folder(clouds_file, tmp_path, capsys):
    from zigzag.streaming import stream_to_folder
    from zigzag.cli import main

    assert main(["compute", str(clouds_file), "-o", str(tmp_path / "b.csv"), "--format", "json", "-q"]) == 2
    assert "--format json disagrees with the suffix" in _one_line_error(capsys, "compute")
    assert main(["compute", str(clouds_file), "-o", str(tmp_path / "b.out"), "--format", "json", "-q"]) == 0
    assert json.loads((tmp_path / "b.out").read_text())["format"] == "zigzag-barcode"
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ValueError, match="is a file; an extraction is written to a folder"):
        stream_to_folder(tmp_path / "file", ["a"], {"n_texts": 2}, lambda start: iter(()))
    assert (tmp_path / "file").read_text() == "mine"
