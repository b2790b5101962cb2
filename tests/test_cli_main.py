"""What `zigzag` does with errors, Ctrl-C and slips, whatever the command."""

import pytest

from zigzag import cli
from zigzag.cli import main
from zigzag.errors import InputError, InputTypeError, OutputExistsError, ZigzagError


@pytest.fixture
def bars_file(four_layer_bars, tmp_path):
    return four_layer_bars.save(tmp_path / "bars.json")


def _fail_with(monkeypatch, error):
    """Make `zigzag prune-plan` raise ``error`` from inside the command."""
    from zigzag.cli import analysis

    def boom(args):
        raise error

    monkeypatch.setattr(analysis, "_cmd_prune_plan", boom)


@pytest.mark.parametrize("error", [InputTypeError("blocks must be ints"), InputError("q is 2"), ValueError("bad value"),
                                   OutputExistsError("out is in the way"), FileNotFoundError(2, "No such file", "x.csv"),
                                   PermissionError(13, "Permission denied", "/ro/out")])
def test_user_errors_are_one_line_and_exit_2(bars_file, monkeypatch, capsys, error):
    _fail_with(monkeypatch, error)
    assert main(["prune-plan", str(bars_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zigzag prune-plan: error: ") and err.count("\n") == 1 and "Traceback" not in err
    if isinstance(error, OSError) and error.filename:
        assert error.filename in err


@pytest.mark.parametrize("error", [TypeError("unsupported operand type(s) for +: 'int' and 'str'"),
                                   KeyError("n_blocks"), AttributeError("no attribute 'blocks'")])
def test_library_bugs_keep_their_traceback(bars_file, monkeypatch, error):
    _fail_with(monkeypatch, error)
    with pytest.raises(type(error)):
        main(["prune-plan", str(bars_file)])


def test_error_types_are_also_builtin_types():
    assert issubclass(InputError, ValueError) and issubclass(InputTypeError, TypeError)
    assert issubclass(OutputExistsError, FileExistsError)
    assert all(issubclass(t, ZigzagError) for t in (InputError, InputTypeError, OutputExistsError))


def test_validation_type_errors_are_user_errors():
    import numpy as np

    from zigzag import compute

    with pytest.raises(InputTypeError, match="'k' parameter of compute must be an int"):
        compute(np.zeros((2, 5, 2)), k="3")


@pytest.mark.parametrize("command, resume", [("prune-plan", "run the same command again"),
                                             ("run", "run the same command again to start over"),
                                             ("extract", "resume from the last finished batch")])
def test_ctrl_c_is_one_line_saying_how_to_resume_and_exit_130(bars_file, monkeypatch, capsys, command, resume):
    from zigzag.cli import analysis, extract, run

    def interrupted(args):
        raise KeyboardInterrupt

    module = {"prune-plan": analysis, "run": run, "extract": extract}[command]
    monkeypatch.setattr(module, f"_cmd_{command.replace('-', '_')}", interrupted)
    argv = {"prune-plan": ["prune-plan", str(bars_file)], "run": ["run", "-q"],
            "extract": ["extract", "embedded", "--builtin", "10", "--out", "x"]}[command]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.startswith(f"zigzag {command}: interrupted; ") and resume in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["run", "-q", "0.9"], ["run", "--n-texts", "50", "-q", "0.85"], ["run", "-q0.9"]])
def test_dash_q_with_a_number_is_answered_with_the_option_meant(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "-q is --quiet" in err and "did you mean --q 0." in err and err.count("\n") == 1


def test_dash_q_alone_is_still_quiet(bars_file, capsys):
    assert main(["prune-plan", str(bars_file), "-q"]) == 0
    assert main(["compute", "-q", "0.9", "-o", "x.csv"]) == 2  # no --q there: argparse's own error about 0.9
    assert "did you mean" not in capsys.readouterr().err


def test_cuda_on_a_cpu_build_of_torch_is_one_line(monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.version, "cuda", None)
    assert main(["run", "--device", "cuda", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zigzag run: error: ") and "CPU build" in err and "--device cpu" in err
    assert err.count("\n") == 1


def test_check_device():
    torch = pytest.importorskip("torch")
    from zigzag.models import check_device

    assert check_device(None) is None and check_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="not a torch device"):
        check_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            check_device("cuda:0")


def test_quiet_hint_only_for_commands_with_q():
    assert cli._quiet_hint(["describe", "b.json", "-q", "0.9", "-o", "x"]) is None
    assert cli._quiet_hint(["prune-plan", "b.json", "-q", "bars.csv"]) is None
    assert "--q 1" in cli._quiet_hint(["prune-plan", "b.json", "--quiet", "1"])


def test_the_executable_makes_full_collections_rarer_freezes_at_the_end_and_exits_with_mains_code(monkeypatch):
    import gc

    calls = []
    monkeypatch.setattr(cli, "main", lambda argv=None: calls.append(gc.get_threshold()) or 3)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    before = gc.get_threshold()
    try:
        with pytest.raises(SystemExit) as exited:
            cli.entry()
    finally:
        gc.set_threshold(*before)
    assert exited.value.code == 3
    assert calls == [before[:2] + (cli.FULL_COLLECTION_THRESHOLD,), "freeze"]


def test_python_m_zigzag_cli_runs_the_command_and_exits_with_its_code(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "zigzag.cli", "describe", str(tmp_path / "missing.csv"), "-o",
                           str(tmp_path / "d.json")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("zigzag describe: error:") and done.stderr.count("\n") == 1
