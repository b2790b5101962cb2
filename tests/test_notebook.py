"""examples/paper_figures.ipynb: stored without outputs, public API only, and runs headless on the authors' barcodes.

The notebook's own cells check the paper's pruning result (blocks 20-27 and 18-29 of Llama 2 7B),
so running it is the test; here we also check it drew every figure.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

import zigzag  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "paper_figures.ipynb"


def _code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in _code_cells(nb):
        assert cell.outputs == [] and cell.execution_count is None, f"strip the outputs of cell {cell.id}"


def test_notebook_uses_only_the_public_api():
    source = "\n".join(cell.source for cell in _code_cells(nbformat.read(NOTEBOOK, as_version=4)))
    imports = re.findall(r"^\s*(?:from|import)\s+(\S+)", source, flags=re.MULTILINE)
    assert set(imports) <= {"os", "pathlib", "matplotlib.pyplot", "zigzag"}, imports
    used = set(re.findall(r"\bzigzag\.(\w+)", source))
    assert used and used <= set(zigzag.__all__), used - set(zigzag.__all__)


def test_notebook_runs_headless_on_the_authors_barcodes(reference_dir, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("ZIGZAG_REFERENCE_DIR", str(reference_dir))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # figures as outputs
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if any cell fails
    outputs = [out for cell in _code_cells(nb) for out in cell.outputs]
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "IProgress" not in text and "TqdmWarning" not in text, "tqdm.auto's warning in a notebook"
    assert "Llama 2 7B (Pile-10k): Barcode(193985 bars over 33 layers" in text
    assert "remove" in text and "20-27" in text and "18-29" in text
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) == 5, f"expected 5 figures (Betti, histogram, S-bar, profile, ILP and BRF), got {len(images)}"
    tables = [out for out in outputs if "text/html" in out.get("data", {})]
    assert len(tables) == 2 and "birth_layer" in tables[0]["data"]["text/html"]

