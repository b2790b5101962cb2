"""Extraction folders as written: locked, nothing left by a failed start, resumes recorded, user files untouched."""

import json

import numpy as np
import pytest

from zigzag.io import OutputLockedError, lock_file_of, output_lock
from zigzag.streaming import load_extraction, stream_to_folder

N, WIDTHS = 10, (3, 4)


def _batches(batch_size: int, *, fail_at: int | None = None, seed: int = 0):
    """``batches(start)`` as extract makes it: vectors of text i are the same whatever the batch."""
    data = [np.random.default_rng(seed + w).normal(size=(N, w)).astype(np.float32) for w in WIDTHS]

    def batches(start):
        for s in range(start, N, batch_size):
            if fail_at is not None and s >= fail_at:
                raise RuntimeError("the model failed")
            yield s, [d[s:s + batch_size] for d in data]

    return batches, data


def _meta(**extra):
    return {"model": "m", "n_texts": N, "texts_sha256": "abc", **extra}


def test_a_second_writer_is_refused_naming_the_first(tmp_path):
    batches, _ = _batches(4)
    with output_lock(tmp_path / "ext", command="zigzag extract first-run"):
        with pytest.raises(OutputLockedError, match=r"ext is being written by another run .*zigzag extract first-run"):
            stream_to_folder(tmp_path / "ext", ["a", "b"], _meta(), batches)
    assert not (tmp_path / "ext").exists()
    stream_to_folder(tmp_path / "ext", ["a", "b"], _meta(), batches)
    assert not lock_file_of(tmp_path / "ext").exists()  # released


def test_a_run_that_fails_before_writing_a_row_leaves_nothing(tmp_path):
    batches, _ = _batches(4, fail_at=0)
    with pytest.raises(RuntimeError):
        stream_to_folder(tmp_path / "ext", ["a", "b"], _meta(max_length=None), batches)
    assert not (tmp_path / "ext").exists() and list(tmp_path.iterdir()) == []
    # into a folder the user made: the folder stays, empty
    (tmp_path / "mine").mkdir()
    with pytest.raises(RuntimeError):
        stream_to_folder(tmp_path / "mine", ["a", "b"], _meta(), batches)
    assert list((tmp_path / "mine").iterdir()) == []
    # the corrected command (other options) then runs without --overwrite
    good, data = _batches(4)
    clouds = stream_to_folder(tmp_path / "ext", ["a", "b"], _meta(max_length=8), good)
    assert np.array_equal(clouds.layers[1], data[1])


def test_a_stub_with_no_rows_does_not_block_a_rerun(tmp_path):
    folder = tmp_path / "ext"
    folder.mkdir()
    stub = dict(_meta(max_length=None), format="zigzag-extraction/1", names=["a", "b"],
                files=["layer_000.npy", "layer_001.npy"], shapes=None, n_done=0, complete=False)
    (folder / "manifest.json").write_text(json.dumps(stub))  # what older versions left after a failed start
    batches, data = _batches(4)
    clouds = stream_to_folder(folder, ["a", "b"], _meta(max_length=8), batches)
    assert np.array_equal(clouds.layers[0], data[0])


def test_a_failure_after_some_rows_keeps_them_for_the_resume(tmp_path):
    batches, data = _batches(4, fail_at=8)
    with pytest.raises(RuntimeError):
        stream_to_folder(tmp_path / "ext", ["a", "b"], _meta(batch_size=4), batches)
    manifest = json.loads((tmp_path / "ext" / "manifest.json").read_text())
    assert manifest["n_done"] == 8 and not manifest["complete"] and manifest["batch_sizes"] == [[0, 4]]


def test_a_resume_with_another_batch_size_is_recorded_and_warned(tmp_path, caplog):
    batches, data = _batches(4, fail_at=4)
    with pytest.raises(RuntimeError):
        stream_to_folder(tmp_path / "ext", ["a", "b"], _meta(batch_size=4), batches)
    resume, _ = _batches(3)
    with caplog.at_level("WARNING", logger="zigzag"):
        clouds = stream_to_folder(tmp_path / "ext", ["a", "b"], _meta(batch_size=3), resume)
    assert "batch size 3 (texts before 4 used 4)" in caplog.text
    assert clouds.meta["batch_sizes"] == [[0, 4], [4, 3]] and clouds.meta["complete"]
    assert all(np.array_equal(layer, d) for layer, d in zip(clouds.layers, data))
    # same batch size: nothing new to record
    again, _ = _batches(5, fail_at=5)
    with pytest.raises(RuntimeError):
        stream_to_folder(tmp_path / "same", ["a", "b"], _meta(batch_size=5), again)
    done = stream_to_folder(tmp_path / "same", ["a", "b"], _meta(batch_size=5), _batches(5)[0])
    assert done.meta["batch_sizes"] == [[0, 5]]


def test_a_folder_with_other_files_is_not_written_into(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "layer_000.npy").write_bytes(b"not zigzag's")
    with pytest.raises(ValueError, match=r"holds files \(layer_000.npy\) but no manifest.json"):
        stream_to_folder(folder, ["a", "b"], _meta(), _batches(4)[0])
    assert (folder / "layer_000.npy").read_bytes() == b"not zigzag's"


def test_overwrite_removes_only_the_old_runs_own_files(tmp_path):
    folder = tmp_path / "ext"
    three = [np.zeros((N, 2), np.float32) + i for i in range(3)]
    stream_to_folder(folder, ["a", "b", "c"], _meta(hook="x"), lambda start: iter([(0, three)]))
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="different extraction"):
        stream_to_folder(folder, ["a", "b"], _meta(hook="y"), _batches(4)[0])
    clouds = stream_to_folder(folder, ["a", "b"], _meta(hook="y"), _batches(4)[0], overwrite=True)
    assert clouds.n_layers == 2
    assert sorted(p.name for p in folder.iterdir()) == ["layer_000.npy", "layer_001.npy", "manifest.json", "notes.txt"]
    assert load_extraction(folder).n_layers == 2
