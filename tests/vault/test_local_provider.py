"""The local key file provider: 0600 file, passphrase, precise errors without key material."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import TypedDict

import pytest

from rempart.config import load_settings
from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault import (
    KeyFileCorrupt,
    LocalKeyFileProvider,
    MemoryKeyringStore,
    WrongPassphrase,
    open_local_vault,
)
from tests.vault.conftest import TENANT, ctx


class _Fast(TypedDict):
    scrypt_log2_n: int


FAST: _Fast = {"scrypt_log2_n": 14}
T = TenantId("t")


def test_key_file_is_created_0600_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    vault = open_local_vault(settings)
    vault.create_tenant(TENANT)
    key_file = tmp_path / "data" / "vault-keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert vault.decrypt_field(ctx(), vault.encrypt_field(ctx(), b"x")) == b"x"


def test_keys_survive_a_new_provider_on_the_same_file(tmp_path: Path) -> None:
    first = LocalKeyFileProvider(tmp_path / "k.json")
    ref = first.create_kek(T, 1)
    wrapped = first.wrap(ref, b"k" * 32, b"aad")
    second = LocalKeyFileProvider(tmp_path / "k.json")
    assert second.unwrap(ref, wrapped, b"aad") == b"k" * 32
    with pytest.raises(CryptoError):
        second.unwrap(ref, wrapped, b"other aad")
    with pytest.raises(CryptoError):
        second.unwrap("t/v9", wrapped, b"aad")


def test_passphrase_protected_file_holds_no_key_in_clear(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k.json", passphrase="correct horse", **FAST)
    ref = provider.create_kek(T, 1)
    wrapped = provider.wrap(ref, b"d" * 32, b"")
    doc = json.loads((tmp_path / "k.json").read_text())
    assert doc["kdf"]["name"] == "scrypt"
    assert doc["kdf"]["log2_n"] == 14
    key = LocalKeyFileProvider(tmp_path / "k.json", passphrase="correct horse", **FAST)
    assert key.unwrap(ref, wrapped, b"") == b"d" * 32
    plain = LocalKeyFileProvider(tmp_path / "p.json")
    plain.create_kek(T, 1)
    kek = json.loads(base64.b64decode(json.loads((tmp_path / "p.json").read_text())["payload"]))
    assert "t/v1" in kek["keks"]
    assert b"t/v1" not in base64.b64decode(doc["payload"])


def test_wrong_or_missing_passphrase_is_a_precise_error(tmp_path: Path) -> None:
    LocalKeyFileProvider(tmp_path / "k.json", passphrase="Tr0ub4dor&3", **FAST).create_kek(T, 1)
    with pytest.raises(WrongPassphrase, match="wrong passphrase") as caught:
        LocalKeyFileProvider(tmp_path / "k.json", passphrase="xyzzy-guess", **FAST).check()
    assert "Tr0ub4dor" not in str(caught.value)
    assert "xyzzy" not in str(caught.value)
    with pytest.raises(WrongPassphrase, match="needs a passphrase"):
        LocalKeyFileProvider(tmp_path / "k.json").check()
    LocalKeyFileProvider(tmp_path / "p.json").create_kek(T, 1)
    with pytest.raises(WrongPassphrase, match="not passphrase-protected"):
        LocalKeyFileProvider(tmp_path / "p.json", passphrase="x", **FAST).check()


@pytest.mark.parametrize(
    "damage",
    ["not json", "{}", '{"format": "rempart-vault-keyfile", "version": 1}', "flip", "badkey"],
)
def test_corrupt_key_file_is_a_precise_error_without_key_material(
    tmp_path: Path, damage: str
) -> None:
    path = tmp_path / "k.json"
    provider = LocalKeyFileProvider(path)
    provider.create_kek(T, 1)
    original = path.read_text()
    secret = json.loads(base64.b64decode(json.loads(original)["payload"]))["keks"]["t/v1"]
    if damage == "flip":
        doc = json.loads(original)
        payload = bytearray(base64.b64decode(doc["payload"]))
        payload[-5] ^= 1
        doc["payload"] = base64.b64encode(bytes(payload)).decode()
        path.write_text(json.dumps(doc))
    elif damage == "badkey":
        doc = json.loads(original)
        body = json.dumps({"keks": {"t/v1": base64.b64encode(b"short").decode()}}).encode()
        from rempart.vault.providers.local import _checksum  # the file's own checksum

        doc["payload"] = base64.b64encode(body).decode()
        doc["checksum"] = _checksum(None, body).hex()
        path.write_text(json.dumps(doc))
    else:
        path.write_text(damage)
    with pytest.raises(KeyFileCorrupt) as caught:
        LocalKeyFileProvider(path).check()
    assert str(path) in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value.__cause__)


def test_destroyed_kek_is_gone_from_the_file(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k.json")
    ref = provider.create_kek(T, 1)
    wrapped = provider.wrap(ref, b"d" * 32, b"")
    provider.destroy_kek(ref)
    provider.destroy_kek(ref)  # idempotent
    assert "t/v1" not in (tmp_path / "k.json").read_text()
    assert LocalKeyFileProvider(tmp_path / "k.json").check() == 0
    with pytest.raises(CryptoError):
        LocalKeyFileProvider(tmp_path / "k.json").unwrap(ref, wrapped, b"")


def test_weak_scrypt_parameters_and_empty_passphrases_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scrypt"):
        LocalKeyFileProvider(tmp_path / "k.json", passphrase="x", scrypt_log2_n=10)
    with pytest.raises(ValueError, match="empty"):
        LocalKeyFileProvider(tmp_path / "k.json", passphrase="")


def test_provider_repr_shows_no_secret(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k.json", passphrase="hunter2", **FAST)
    assert "hunter2" not in repr(provider)
    assert MemoryKeyringStore() is not None
