"""A vault over the test database, on each lane."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rempart.storage import Database
from rempart.vault import Vault
from tests.ingest.support import build_vault

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def ivault(db: Database, tmp_path: Path) -> Vault:
    return build_vault(db, tmp_path)
