"""Shared fixtures. Data the tests need comes from here, never from copied helpers."""

from pathlib import Path

import numpy as np
import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture
def reference_dir():
    """The authors' published barcodes (shared/reference beside the repository); skip when absent."""
    if not REFERENCE_DIR.is_dir():
        pytest.skip("the authors' reference barcodes (shared/reference) are not on this machine")
    return REFERENCE_DIR


@pytest.fixture
def llama2_csv(reference_dir):
    return reference_dir / "llama2-7b_pile10k_knn5_dim4.csv"


@pytest.fixture
def llama3_csv(reference_dir):
    return reference_dir / "llama3-8b_sst_knn5_dim4.csv"


@pytest.fixture
def rng():
    return np.random.default_rng(0)
