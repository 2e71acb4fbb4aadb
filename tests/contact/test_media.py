"""The media store: layout, modes, atomic writes, idempotent deletion, hostile ids."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from rempart.contact.media import MediaStore
from rempart.errors import Conflict, NotFound, ValidationFailed

TENANT = "3f1c0c1e-6a53-4c7a-9a2b-0d1e2f3a4b5c"
OTHER = "8a9b0c1d-2e3f-4a5b-8c7d-6e5f4a3b2c1d"
REC = "0b6f7c3e-1d2a-4e5f-8a9b-0c1d2e3f4a5b"


def _store_both(store: MediaStore, tenant: str = TENANT, rec: str = REC) -> None:
    with store.write(tenant, rec) as pending:
        pending.file("original").write(b"ciphertext-original")
        pending.file("redacted").write(b"ciphertext-redacted")
        pending.commit()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_committed_files_are_in_the_tenant_directory_with_private_modes(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store)
    paths = store.paths(TENANT, REC)
    assert paths.original.read_bytes() == b"ciphertext-original"
    assert paths.redacted.read_bytes() == b"ciphertext-redacted"
    assert paths.original.parent == tmp_path / "media" / TENANT
    assert _mode(paths.original) == 0o600
    assert _mode(paths.redacted) == 0o600
    assert _mode(tmp_path / "media") == 0o700
    assert _mode(tmp_path / "media" / TENANT) == 0o700
    assert store.exists(TENANT, REC)
    assert not store.exists(OTHER, REC)
    assert store.size(TENANT, REC) == len(b"ciphertext-original") + len(b"ciphertext-redacted")
    assert sorted(p.name for p in (tmp_path / "media" / TENANT).iterdir()) == [
        f"{REC}.original",
        f"{REC}.redacted",
    ]


def test_for_settings_roots_the_store_in_the_data_dir(tmp_path: Path) -> None:
    from rempart.config import Settings

    store = MediaStore.for_settings(Settings(data_dir=tmp_path))
    assert store.root == tmp_path / "media"


def test_a_write_that_is_not_committed_leaves_nothing(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")

    def broken_upload() -> None:
        with store.write(TENANT, REC) as pending:
            pending.file("original").write(b"half")
            raise RuntimeError("upload broke")

    with pytest.raises(RuntimeError):
        broken_upload()
    assert not store.exists(TENANT, REC)
    assert list((tmp_path / "media" / TENANT).iterdir()) == []


def test_a_write_without_commit_leaves_nothing(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    with store.write(TENANT, REC) as pending:
        pending.file("original").write(b"x")
        pending.file("redacted").write(b"y")
    assert list((tmp_path / "media" / TENANT).iterdir()) == []


def test_commit_needs_both_files(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")

    def half_write() -> None:
        with store.write(TENANT, REC) as pending:
            pending.file("original").write(b"x")
            pending.commit()

    with pytest.raises(ValueError, match="redacted"):
        half_write()
    assert list((tmp_path / "media" / TENANT).iterdir()) == []


def test_stored_media_is_never_overwritten(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store)
    with pytest.raises(Conflict):
        _store_both(store)
    assert store.paths(TENANT, REC).original.read_bytes() == b"ciphertext-original"
    assert len(list((tmp_path / "media" / TENANT).iterdir())) == 2


def test_a_racing_second_writer_loses_and_leaves_the_first_intact(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")

    def late_writer() -> None:
        with store.write(TENANT, REC) as late:
            late.file("original").write(b"late")
            late.file("redacted").write(b"late")
            _store_both(store)  # the other writer commits first
            late.commit()

    with pytest.raises(Conflict):
        late_writer()
    assert store.paths(TENANT, REC).original.read_bytes() == b"ciphertext-original"
    assert store.paths(TENANT, REC).redacted.read_bytes() == b"ciphertext-redacted"
    assert len(list((tmp_path / "media" / TENANT).iterdir())) == 2


def test_delete_removes_both_files_and_is_idempotent(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store)
    store.delete(TENANT, REC)
    assert not store.paths(TENANT, REC).original.exists()
    assert not store.paths(TENANT, REC).redacted.exists()
    assert not store.exists(TENANT, REC)
    store.delete(TENANT, REC)
    store.delete(OTHER, REC)


def test_delete_of_one_tenant_leaves_the_other(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store, TENANT)
    _store_both(store, OTHER)
    store.delete(TENANT, REC)
    assert store.exists(OTHER, REC)


def test_open_reads_the_ciphertext_and_missing_media_is_not_found(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    with pytest.raises(NotFound):
        store.open(TENANT, REC, "redacted")
    _store_both(store)
    with store.open(TENANT, REC, "redacted") as handle:
        assert handle.read() == b"ciphertext-redacted"
    with pytest.raises(NotFound):
        store.open(OTHER, REC, "redacted")


@pytest.mark.parametrize(
    "bad",
    ["", "..", "../x", "a/b", "a\\b", "/etc/passwd", "a.b", "x" * 65, "a\x00b", "-a", " a"],
)
def test_ids_that_could_escape_the_directory_are_refused(tmp_path: Path, bad: str) -> None:
    store = MediaStore(tmp_path / "media")
    for call in (
        lambda: store.paths(TENANT, bad),
        lambda: store.paths(bad, REC),
        lambda: store.delete(TENANT, bad),
        lambda: store.exists(bad, REC),
        lambda: store.write(bad, REC).__enter__(),
    ):
        with pytest.raises(ValidationFailed):
            call()
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*"))


def test_sweep_removes_partials_left_by_a_crash(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store)
    directory = store.tenant_dir(TENANT)
    (directory / ".partial-abc").write_bytes(b"junk")
    assert store.sweep_partials(TENANT) == 1
    assert store.exists(TENANT, REC)
    assert store.sweep_partials(OTHER) == 0
