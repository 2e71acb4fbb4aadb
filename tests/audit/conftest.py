"""Shared fixtures of the audit tests: the Merkle vectors and a migrated SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MERKLE_VECTORS = REPO_ROOT.parent / "shared" / "data" / "merkle"


@pytest.fixture(scope="session")
def merkle_vectors() -> Path:
    if not MERKLE_VECTORS.is_dir():
        pytest.skip(f"Merkle test vectors absent: expected them in {MERKLE_VECTORS}")
    return MERKLE_VECTORS
