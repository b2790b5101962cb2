"""Every reader of zigzag's formats against damaged files: a clear error naming the file, or the very same data.

Table-driven: each good file is cut short at several offsets and has bytes flipped at several
places; JSON files also get keys removed and values of the wrong type. A reader must then either
refuse with a ValueError that names the file (the command line: one line, exit 2) or, where the
damage touched nothing the format holds (a zip timestamp), return exactly the original data.
"""

import json
import os
import tracemalloc

import numpy as np
import pytest

from zigzag import Barcode
from zigzag.streaming import load_extraction, stream_to_folder
from zigzag.cli import main
from zigzag.descriptors import Descriptors, describe
from zigzag.io import load_clouds
from zigzag.pipeline import compute

CUTS = [0, 1, 9, 0.25, 0.5, 0.8, -2, -1]  # bytes kept: an offset, a fraction of the size, or all but the last |n|
FLIPS = [0, 3, 0.2, 0.45, 0.7, -3]  # where one byte is replaced by its complement


def _at(size: int, where) -> int:
    if isinstance(where, float):
        return int(size * where)
    return size + where if where < 0 else where


def cut(data: bytes, where) -> bytes:
    return data[:_at(len(data), where)]


def flip(data: bytes, where) -> bytes:
    i = _at(len(data), where)
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """Good files of every format, and the objects they hold."""
    folder = tmp_path_factory.mktemp("good")
    x = np.random.default_rng(0).normal(size=(4, 30, 3)).cumsum(axis=0)
    bars = compute(x, k=4, max_dim=1, progress=False)
    files = {f"bars.{s}": bars.save(folder / f"bars.{s}") for s in ("csv", "json", "npz")}
    desc = describe(bars, dims=(0, 1))
    files["desc.json"] = desc.save(folder / "desc.json")
    np.save(folder / "clouds.npy", x)
    files["clouds.npy"] = folder / "clouds.npy"
    stream_to_folder(folder / "ext", ["a", "b", "c"], {"n_texts": 30},
                     lambda start: iter([(0, [layer.astype(np.float32) for layer in x[:3]])]))
    files["ext"] = folder / "ext"
    return {"files": files, "bars": bars, "desc": desc, "clouds": x}


def _same_bars(a, b) -> bool:
    return a.same_bars(b, check_types=True) and a.n_layers == b.n_layers


READERS = {  # name -> (read, equal to the original, command line that reads it)
    "bars.csv": (Barcode.load, lambda got, g: got.same_bars(g["bars"]) and got.n_layers == g["bars"].n_layers,
                 "describe"),
    "bars.json": (Barcode.load, lambda got, g: _same_bars(got, g["bars"]), "describe"),
    "bars.npz": (Barcode.load, lambda got, g: _same_bars(got, g["bars"]), "describe"),
    "desc.json": (Descriptors.load, lambda got, g: got.to_dict() == g["desc"].to_dict(), None),
    "clouds.npy": (load_clouds, lambda got, g: np.array_equal(got.to_array(), g["clouds"]), "compute"),
}


def _cli(command: str, path, tmp_path) -> list:
    if command == "describe":
        return ["describe", str(path), "-o", str(tmp_path / "out.json"), "-q"]
    return ["compute", str(path), "-o", str(tmp_path / "out.json"), "--k", "4", "-q"]


def check_reader(name, path, good, tmp_path, capsys, *, must_refuse: bool) -> str:
    """Read a damaged copy: a ValueError naming the file, or exactly the original. Returns which."""
    read, equal, command = READERS[name]
    try:
        got = read(path)
    except ValueError as err:
        assert path.name in str(err), f"the error does not name the file: {err}"
        outcome = "refused"
    else:
        assert not must_refuse, f"{path.name}: damage not detected"
        assert equal(got, good), f"{path.name}: damaged file read as different data without an error"
        outcome = "same"
    if command:
        capsys.readouterr()
        rc = main(_cli(command, path, tmp_path))
        err = capsys.readouterr().err
        if outcome == "refused":
            assert rc == 2 and err.startswith(f"zigzag {command}: error: ") and err.count("\n") == 1, err
        else:
            assert rc == 0, err
    return outcome


@pytest.mark.parametrize("name", sorted(READERS))
@pytest.mark.parametrize("where", CUTS)
def test_cut_short_files_are_refused(good, tmp_path, capsys, name, where):
    full = good["files"][name].read_bytes()
    data = cut(full, where)
    path = tmp_path / name
    path.write_bytes(data)
    if name == "bars.csv" and data.endswith(b"\r\n") and data.count(b"\n") > 1:
        # the authors' CSV has no count: a cut right after a line end reads as the rows before it
        rows = np.array([line.split(",") for line in data.decode().split()[1:]], dtype=int)
        got = Barcode.load(path, n_layers=4)
        assert got.birth_step.tolist() == (rows[:, 1] - 1).tolist() and len(got) < len(good["bars"])
        return
    # JSON ignores trailing white space: losing only the final newline loses nothing
    check_reader(name, path, good, tmp_path, capsys, must_refuse=bool(full[len(data):].strip()) or name == "bars.csv")


@pytest.mark.parametrize("name", sorted(READERS))
@pytest.mark.parametrize("where", FLIPS)
def test_flipped_bytes_are_refused_or_harmless(good, tmp_path, capsys, name, where):
    data = good["files"][name].read_bytes()
    if name == "clouds.npy" and _at(len(data), where) >= 128:
        pytest.skip("numpy's .npy format has no checksum: a flipped byte in the data cannot be detected")
    path = tmp_path / name
    path.write_bytes(flip(data, where))
    outcome = check_reader(name, path, good, tmp_path, capsys, must_refuse=name.endswith((".json", ".csv")))
    assert outcome == "refused" or name == "bars.npz"  # only zip metadata (e.g. a timestamp) may take a flip


def test_csv_cut_at_a_line_end_reads_what_it_holds(good, tmp_path):
    """The authors' CSV has no count: a cut exactly after a line end cannot be detected, only fewer bars read."""
    data = good["files"]["bars.csv"].read_bytes()
    path = tmp_path / "short.csv"
    path.write_bytes(data[:data.index(b"\r\n", len(data) // 2) + 2])
    got = Barcode.load(path, n_layers=4)
    assert 0 < len(got) < len(good["bars"])


def _v1(data: dict, **changes) -> dict:
    """A version-1 file (no count, no checksum) with some values changed: what the bar checks alone catch."""
    return {**{k: v for k, v in data.items() if k not in ("n_bars", "sha256")}, "format_version": 1, **changes}


def _bars_json(good) -> dict:
    return json.loads(good["files"]["bars.json"].read_text())


BAD_BARCODE_JSON = [
    ("top-level list", lambda d: [d], "not a zigzag barcode object"),
    ("future version", lambda d: {**d, "format_version": 3}, r"format_version 3.*reads versions 1, 2"),
    ("version as text", lambda d: {**d, "format_version": "2"}, r"format_version '2'"),
    ("no version", lambda d: {k: v for k, v in d.items() if k != "format_version"}, "format_version None"),
    ("other format", lambda d: {**d, "format": "something"}, "not a zigzag barcode"),
    ("n_layers text", lambda d: {**d, "n_layers": "4"}, "'n_layers' must be an integer"),
    ("n_layers float", lambda d: {**d, "n_layers": 4.5}, "'n_layers' must be an integer"),
    ("n_layers bool", lambda d: {**d, "n_layers": True}, "'n_layers' must be an integer"),
    ("n_layers huge", lambda d: {**d, "n_layers": 10**9}, "bound of 100,000 layers"),
    ("dimension text", lambda d: {**d, "dimension": "0"}, "'dimension' must be a list"),
    ("dimension nested", lambda d: {**d, "dimension": [[p] for p in d["dimension"]]}, "'dimension' must be a list"),
    ("dimension strings", lambda d: {**d, "dimension": [str(p) for p in d["dimension"]]}, "'dimension' must be"),
    ("dimension object", lambda d: {**d, "dimension": {"0": 1}}, "'dimension' must be a list"),
    ("birth beyond int64", lambda d: {**d, "birth_step": [2**70] + d["birth_step"][1:]}, "'birth_step' must be"),
    ("types numbers", lambda d: {**d, "interval_type": [1] * len(d["interval_type"])}, "'interval_type' must be"),
    ("types long", lambda d: _v1(d, interval_type=["ccc"] * len(d["interval_type"])), "Unknown interval types"),
    ("params list", lambda d: {**d, "params": []}, "'params' must be a JSON object"),
    ("count wrong", lambda d: {**d, "n_bars": d["n_bars"] - 1}, "damaged or cut short"),
    ("one bar fewer", lambda d: {**d, **{k: d[k][:-1] for k in ("dimension", "birth_step", "death_step",
                                                                 "interval_type")}}, "damaged or cut short"),
    ("a step edited", lambda d: {**d, "death_step": [d["death_step"][0] - 1] + d["death_step"][1:]}, "SHA-256"),
    ("death before birth", lambda d: _v1(d, death_step=[0] * len(d["death_step"])), "not after its birth"),
    ("step beyond n", lambda d: _v1(d, death_step=[99] * len(d["death_step"])), "Is n_layers right"),
] + [(f"no {key}", lambda d, key=key: {k: v for k, v in d.items() if k != key}, f"lacks '{key}'")
     for key in ("n_layers", "n_bars", "sha256", "params", "dimension", "birth_step", "death_step", "interval_type")]


@pytest.mark.parametrize("label, change, match", BAD_BARCODE_JSON, ids=[c[0] for c in BAD_BARCODE_JSON])
def test_barcode_json_of_the_wrong_shape_is_a_clear_error(good, tmp_path, capsys, label, change, match):
    path = tmp_path / "bars.json"
    path.write_text(json.dumps(change(_bars_json(good))))
    with pytest.raises(ValueError, match=match):
        Barcode.load(path)
    assert main(["describe", str(path), "-o", str(tmp_path / "d.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zigzag describe: error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_version_1_files_without_checksum_still_read(good, tmp_path):
    data = _bars_json(good)
    old = {k: v for k, v in data.items() if k not in ("n_bars", "sha256")}
    (tmp_path / "v1.json").write_text(json.dumps({**old, "format_version": 1}))
    assert _same_bars(Barcode.load(tmp_path / "v1.json"), good["bars"])


def test_npz_with_a_future_version_or_edited_bars_is_refused(good, tmp_path):
    with np.load(good["files"]["bars.npz"]) as npz:
        data = {k: npz[k] for k in npz.files}
    np.savez(tmp_path / "future.npz", **{**data, "format_version": np.array(7)})
    with pytest.raises(ValueError, match=r"format_version 7.*reads versions 1, 2"):
        Barcode.load(tmp_path / "future.npz")
    edited = data["death_step"].copy()
    edited[0] -= 1
    np.savez(tmp_path / "edited.npz", **{**data, "death_step": edited})
    with pytest.raises(ValueError, match="SHA-256"):
        Barcode.load(tmp_path / "edited.npz")


@pytest.mark.parametrize("key", ["n_layers", "dims", "alpha", "threshold", "brf_index", "normalization",
                                 "betti", "histogram", "similarity", "average_similarity", "ilp", "brf"])
def test_descriptors_json_with_a_missing_or_wrong_key_is_refused(good, tmp_path, key):
    data = json.loads(good["files"]["desc.json"].read_text())
    for label, changed in [("missing", {k: v for k, v in data.items() if k != key}),
                           ("wrong type", {**data, key: "x"}),
                           ("null", {**data, key: None})]:
        path = tmp_path / "desc.json"
        path.write_text(json.dumps(changed))
        with pytest.raises(ValueError, match="desc.json"):
            Descriptors.load(path)


def test_descriptors_json_with_a_wrong_shape_or_future_version_is_refused(good, tmp_path):
    data = json.loads(good["files"]["desc.json"].read_text())
    for changed, match in [({**data, "format_version": 2}, r"format_version 2 .*versions 1"),
                           ({**data, "betti": {**data["betti"], "1": data["betti"]["1"][:-1]}}, r"betti\[1\].*shape"),
                           ({**data, "similarity": {"0": data["similarity"]["0"]}}, "'similarity' must map"),
                           ({**data, "ilp": {p: [["a"] * 4] * 2 for p in data["ilp"]}}, r"ilp\[0\]")]:
        path = tmp_path / "desc.json"
        path.write_text(json.dumps(changed))
        with pytest.raises(ValueError, match=match):
            Descriptors.load(path)
    assert Descriptors.load(good["files"]["desc.json"]).to_dict() == good["desc"].to_dict()


# ---------------------------------------------------------------------- the authors' CSV
@pytest.mark.parametrize("text, match", [
    ("dimension,birth,death\r\n0,1,8\r\n1,2,4", r"ends in the middle of line 3.*cut short"),
    ("dimension,birth,death\r\n0,1,8\r\n1,2,99999999999999999999\r\n", r"line 3.*beyond the int64 range"),
    ("dimension,birth,death\r\n0,1,8\r\n1,2\r\n", r"line 3: expected three integers"),
    ("dimension,birth,death\r\n0,1,8\r\n\r\n1,2,x\r\n", r"line 4: expected three integers"),
    ("dimension,birth,death\r\n0,1,8\r\n1,5,3\r\n", r"line 3 \(1,5,3\): the bar dies at 3, not after its birth"),
    ("dimension,birth,death\r\n0,1,8\r\n1,0,3\r\n", r"line 3 .*steps start at 1"),
    ("dimension,birth,death\r\n0,1,8\r\n1,2,300000\r\n", r"line 3 .*more than the 100,000"),
    ("dimension,birth,death\r\n0,1,8\r\n999,2,3\r\n", r"dimensions must lie in 0..255"),
    ("", "is empty"),
    ("dimension,birth,death\r\n\xff\r\n", "not UTF-8"),
])
def test_bad_csv_rows_are_named_by_line(tmp_path, capsys, text, match):
    path = tmp_path / "bars.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError, match=match):
        Barcode.load(path)
    assert main(["prune-plan", str(path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_layers_that_disagree_with_the_file_are_refused(good, tmp_path, capsys):
    files = good["files"]
    for suffix in ("json", "npz"):
        assert Barcode.load(files[f"bars.{suffix}"], n_layers=4).n_layers == 4
        for layers in (0, 3, 5):
            with pytest.raises(ValueError, match="n_layers|--layers"):
                Barcode.load(files[f"bars.{suffix}"], n_layers=layers)
        assert main(["prune-plan", str(files[f"bars.{suffix}"]), "--layers", "0"]) == 2
        assert "--layers" in capsys.readouterr().err
    csv = files["bars.csv"]
    assert Barcode.load(csv, n_layers=4).n_layers == 4
    for layers in (3, 5):  # H0 bars end at step 2n, so n is known
        with pytest.raises(ValueError, match=r"disagrees .*largest death step 8 means 4 layers"):
            Barcode.load(csv, n_layers=layers)
    h1_only = tmp_path / "h1.csv"
    good["bars"].select(1).save(h1_only)  # no H0 bar: n may be larger than the deaths show
    assert Barcode.load(h1_only, n_layers=6).n_layers == 6


def test_a_huge_death_step_is_refused_before_allocating(tmp_path, capsys):
    path = tmp_path / "huge.csv"
    path.write_text("dimension,birth,death\r\n0,1,20000\r\n1,2,5\r\n1,3,9\r\n")
    bars = Barcode.load(path)  # 10,000 layers: a valid barcode, but its descriptors would need n x n matrices
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"10,000 layers need n x n matrices: about 6.4 GB"):
            describe(bars)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6
    assert main(["describe", str(path), "-o", str(tmp_path / "d.json")]) == 2
    assert "GB" in capsys.readouterr().err


# ---------------------------------------------------------------------- extraction folders
def _copy_extraction(good, tmp_path):
    src = good["files"]["ext"]
    dst = tmp_path / "ext"
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


@pytest.mark.parametrize("damage", [("cut", w) for w in CUTS] + [("flip", w) for w in FLIPS])
def test_damaged_manifest_is_refused(good, tmp_path, capsys, damage):
    folder = _copy_extraction(good, tmp_path)
    manifest = folder / "manifest.json"
    kind, where = damage
    full = manifest.read_bytes()
    manifest.write_bytes((cut if kind == "cut" else flip)(full, where))
    if kind == "cut" and not full[_at(len(full), where):].strip():
        assert load_extraction(folder).n_layers == 3  # only the final newline lost: nothing lost
        return
    with pytest.raises(ValueError, match="manifest.json"):
        load_extraction(folder)
    assert main(["compute", str(folder), "-o", str(tmp_path / "b.json"), "-q"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("where", [0, 50, 0.5, -1])
def test_cut_short_layer_file_is_refused(good, tmp_path, where):
    folder = _copy_extraction(good, tmp_path)
    layer = folder / "layer_001.npy"
    layer.write_bytes(cut(layer.read_bytes(), where))
    with pytest.raises(ValueError, match="layer_001.npy"):
        load_extraction(folder)


@pytest.mark.parametrize("change, match", [
    (lambda m: {**m, "format": "zigzag-extraction/2"}, r"format version '2'.*reads versions 1"),
    (lambda m: {**m, "format": "something"}, "not a zigzag extraction manifest"),
    (lambda m: {**m, "n_done": "30"}, "'n_done' must be an integer"),
    (lambda m: {**m, "complete": 1}, "'complete' must be true or false"),
    (lambda m: {k: v for k, v in m.items() if k != "files"}, "'files' must be a list of file names, found missing"),
    (lambda m: {**m, "shapes": m["shapes"][:2]}, "3 layer names, 3 files and 2 shapes"),
    (lambda m: {**m, "shapes": [[30, "x"]] * 3}, "'shapes' must be"),
    (lambda m: {**m, "files": ["../outside.npy"] + m["files"][1:]}, "only name files inside its folder"),
    (lambda m: {**m, "files": ["/etc/passwd"] + m["files"][1:]}, "only name files inside its folder"),
    (lambda m: {**m, "files": ["sub/layer.npy"] + m["files"][1:]}, "only name files inside its folder"),
    (lambda m: {**m, "files": [".."] + m["files"][1:]}, "only name files inside its folder"),
    (lambda m: {**m, "files": [7] + m["files"][1:]}, "only name files inside its folder"),
])
def test_manifest_that_lies_is_refused(good, tmp_path, change, match):
    folder = _copy_extraction(good, tmp_path)
    (tmp_path / "outside.npy").write_bytes((folder / "layer_000.npy").read_bytes())
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(change(manifest)))
    with pytest.raises(ValueError, match=match):
        load_extraction(folder)


def test_layer_file_linking_out_of_the_folder_is_refused(good, tmp_path):
    folder = _copy_extraction(good, tmp_path)
    outside = tmp_path / "elsewhere.npy"
    (folder / "layer_002.npy").rename(outside)
    os.symlink(outside, folder / "layer_002.npy")
    with pytest.raises(ValueError, match=r"'layer_002.npy', a link to .*outside the folder"):
        load_extraction(folder)
    os.remove(folder / "layer_002.npy")
    os.symlink("layer_001.npy", folder / "layer_002.npy")  # a link that stays inside is fine
    assert load_extraction(folder).n_layers == 3


def test_missing_layer_file_is_refused(good, tmp_path):
    folder = _copy_extraction(good, tmp_path)
    (folder / "layer_000.npy").unlink()
    with pytest.raises(ValueError, match="layer_000.npy is missing"):
        load_extraction(folder)


def test_every_flipped_header_byte_of_a_npy_is_refused_or_harmless(good, tmp_path):
    data = good["files"]["clouds.npy"].read_bytes()
    refused = 0
    for i in range(128):  # the header; numpy's format has no checksum of the data after it
        path = tmp_path / f"c{i}.npy"
        path.write_bytes(flip(data, i))
        try:
            got = load_clouds(path)
        except ValueError as err:
            assert path.name in str(err)
            refused += 1
        else:
            assert np.array_equal(got.to_array(), good["clouds"]), f"byte {i}: read as different clouds"
    assert refused > 64
