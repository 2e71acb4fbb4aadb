"""The directory export store: private modes, atomic writes, idempotent deletion, and
locations from the database that cannot leave its root."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from rempart.errors import ValidationFailed
from rempart.privacy import DirectoryExportStore
from rempart.types import TenantId

TENANT = TenantId("3f1c0c1e-6a53-4c7a-9a2b-0d1e2f3a4b5c")


def test_put_open_delete(tmp_path: Path) -> None:
    store = DirectoryExportStore(tmp_path / "exports")
    location = store.put(TENANT, "0b6f7c3e-1d2a-4e5f-8a9b-0c1d2e3f4a5b", io.BytesIO(b"sealed"))
    assert location == f"{TENANT}/0b6f7c3e-1d2a-4e5f-8a9b-0c1d2e3f4a5b.rse"
    path = store.root / location
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    with store.open(location) as f:
        assert f.read() == b"sealed"
    assert store.delete(location) is True
    assert store.delete(location) is False
    with pytest.raises(FileNotFoundError):
        store.open(location)


@pytest.mark.parametrize(
    "location",
    [
        "../x.rse",
        f"{TENANT}/../../etc.rse",
        "/etc/passwd",
        f"{TENANT}/a.txt",
        f"{TENANT}/a/b.rse",
        "",
        f"{TENANT}/.rse",
    ],
)
def test_hostile_locations_are_refused(tmp_path: Path, location: str) -> None:
    store = DirectoryExportStore(tmp_path / "exports")
    with pytest.raises(ValidationFailed):
        store.open(location)
    with pytest.raises(ValidationFailed):
        store.delete(location)
