"""The report folder: zigzag removes only files it wrote itself and recorded, and never two runs at once."""

import json
import logging

import pytest

from zigzag.io import OutputLockedError
from zigzag.errors import OutputExistsError
from zigzag.report.folder import MARKER, ReportFolder, read_manifest


def _make(out, files=None, *, overwrite=False):
    """A report at ``out`` holding ``files`` (name -> text) through ReportFolder, as run_report writes one."""
    files = files if files is not None else {"report.md": "# report\n", "plans.json": "{}\n"}
    with ReportFolder(out, overwrite=overwrite) as folder:
        for name, text in files.items():
            folder.path(name).write_text(text)
        folder.finish({"config": {"k": 5}})
    return out


def _tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_a_new_report_lists_its_files(tmp_path):
    out = _make(tmp_path / "r")
    assert _tree(tmp_path) == ["r", "r/plans.json", "r/report.md", "r/run.json"]
    files = read_manifest(out)
    assert set(files) == {"report.md", "plans.json"} and files["report.md"]["bytes"] == 9
    assert json.loads((out / "run.json").read_text())["config"] == {"k": 5}


def test_an_earlier_report_needs_overwrite_and_only_its_files_go(tmp_path):
    out = _make(tmp_path / "r", {"report.md": "old\n", "old-only.png": "x"})
    with pytest.raises(OutputExistsError, match="--overwrite"):
        _make(out)
    assert (out / "old-only.png").exists()  # refused before anything was touched
    _make(out, {"report.md": "new\n"}, overwrite=True)
    assert _tree(tmp_path) == ["r", "r/report.md", "r/run.json"]
    assert (out / "report.md").read_text() == "new\n"


def test_a_file_of_yours_in_the_report_is_never_removed(tmp_path):
    out = _make(tmp_path / "r")
    (out / "notes.txt").write_text("mine")
    (out / "figures").mkdir()
    with pytest.raises(OutputExistsError, match=r"figures, notes\.txt.*will not remove them"):
        _make(out, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine" and (out / "report.md").exists()
    assert not out.with_name("r.partial").exists()


def test_an_edited_report_file_is_never_removed(tmp_path):
    out = _make(tmp_path / "r")
    (out / "report.md").write_text("# report\n\nmy notes\n")
    with pytest.raises(OutputExistsError, match="report.md in .* changed after zigzag wrote it"):
        _make(out, overwrite=True)
    assert "my notes" in (out / "report.md").read_text()


@pytest.mark.parametrize("content, words", [
    ({"notes.txt": "mine"}, "not a zigzag report"),
    ({"run.json": '{"config": {}}'}, "without a list of its files"),
    ({"run.json": "not json"}, "not a zigzag report"),
])
def test_a_folder_that_is_not_a_report_is_never_replaced(tmp_path, content, words):
    out = tmp_path / "r"
    out.mkdir()
    for name, text in content.items():
        (out / name).write_text(text)
    with pytest.raises(OutputExistsError, match=words):
        _make(out, overwrite=True)
    assert {p.name: p.read_text() for p in out.iterdir()} == content


def test_an_empty_folder_or_a_file_as_out(tmp_path):
    (tmp_path / "empty").mkdir()
    _make(tmp_path / "empty")
    assert (tmp_path / "empty" / "run.json").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputExistsError, match="is a file"):
        _make(tmp_path / "file", overwrite=True)
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    with pytest.raises(OutputExistsError, match="symbolic link"):
        _make(tmp_path / "link", overwrite=True)
    assert (tmp_path / "file").read_text() == "x" and (tmp_path / "empty" / "run.json").exists()


def test_a_failed_run_removes_its_own_files_only(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(RuntimeError, match="stage failed"):
        with ReportFolder(out) as folder:
            folder.path("barcode.csv").write_text("1,1,3\n")
            (folder.partial / "yours.txt").write_text("dropped in meanwhile")
            raise RuntimeError("stage failed")
    assert _tree(tmp_path) == ["r.partial", "r.partial/yours.txt"]  # only what zigzag did not write is left
    assert not out.exists()


def test_a_partial_folder_of_yours_is_refused_and_kept(tmp_path):
    partial = tmp_path / "r.partial"
    partial.mkdir()
    (partial / "draft.md").write_text("mine")
    with pytest.raises(OutputExistsError, match="r.partial exists and holds files zigzag did not write"):
        _make(tmp_path / "r")
    assert (partial / "draft.md").read_text() == "mine"
    (partial / "draft.md").unlink()
    (partial / MARKER).write_text(json.dumps({"files": ["report.md"]}))
    (partial / "report.md").write_text("half")
    (partial / "draft.md").write_text("mine")  # a marker does not make a stranger's file ours
    with pytest.raises(OutputExistsError, match="draft.md"):
        _make(tmp_path / "r")
    assert (partial / "draft.md").exists() and (partial / "report.md").exists()


def test_the_leftover_of_a_killed_run_is_reused_and_said(tmp_path, caplog):
    partial = tmp_path / "r.partial"
    partial.mkdir()
    (partial / MARKER).write_text(json.dumps({"files": ["report.md", "barcode.npz"], "started": "yesterday"}))
    (partial / "report.md").write_text("half")
    (partial / ".barcode.npz.a1b2c3.tmp.npz").write_text("temporary of an atomic write")
    (partial / ".barcode.x7y8z9.npz").write_text("temporary, older naming")
    with caplog.at_level(logging.WARNING, logger="zigzag.report.folder"):
        _make(tmp_path / "r")
    assert "unfinished report of an earlier run that was stopped (yesterday)" in caplog.text
    assert _tree(tmp_path) == ["r", "r/plans.json", "r/report.md", "r/run.json"]


def test_two_runs_on_one_folder(tmp_path):
    out = tmp_path / "r"
    with ReportFolder(out) as first:
        with pytest.raises(OutputLockedError, match="being written by another run"):
            ReportFolder(out).__enter__()
        assert first.partial.is_dir()  # the refused second run touched nothing
        first.path("report.md").write_text("x")
        first.finish({})
    assert not (tmp_path / ".r.lock").exists()
    _make(out, overwrite=True)  # the lock is free again


def test_report_file_names_are_plain(tmp_path):
    with ReportFolder(tmp_path / "r") as folder:
        for bad in ("run.json", MARKER, "../x.md", "sub/x.md"):
            with pytest.raises(ValueError):
                folder.path(bad)
        folder.finish({})

