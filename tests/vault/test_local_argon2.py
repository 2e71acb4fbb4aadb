"""Argon2id as the key file's passphrase derivation, beside scrypt: either file opens."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TypedDict

import pytest

from rempart.types import TenantId
from rempart.vault import KeyFileCorrupt, LocalKeyFileProvider, WrongPassphrase
from rempart.vault.hazmat import argon2id_derive

T = TenantId("t")


# OWASP's floor, the cheapest the provider accepts: keeps the tests fast.
class _FastArgon2(TypedDict):
    argon2_memory_kib: int
    argon2_iterations: int
    argon2_lanes: int


FAST_ARGON2: _FastArgon2 = {
    "argon2_memory_kib": 19 * 1024,
    "argon2_iterations": 2,
    "argon2_lanes": 1,
}


def make(path: Path, passphrase: str = "correct horse battery") -> LocalKeyFileProvider:
    return LocalKeyFileProvider(path, passphrase=passphrase, kdf="argon2id", **FAST_ARGON2)


def test_argon2id_matches_the_rfc_9106_test_vector() -> None:
    # RFC 9106, section 5.3 (Argon2id, version 0x13).
    tag = argon2id_derive(
        b"\x01" * 32,
        salt=b"\x02" * 16,
        secret=b"\x03" * 8,
        ad=b"\x04" * 12,
        memory_kib=32,
        iterations=3,
        lanes=4,
    )
    assert tag == bytes.fromhex("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")


def test_an_argon2id_file_records_its_parameters_and_reopens(tmp_path: Path) -> None:
    provider = make(tmp_path / "k.json")
    ref = provider.create_kek(T, 1)
    wrapped = provider.wrap(ref, b"d" * 32, b"aad")
    doc = json.loads((tmp_path / "k.json").read_text())
    assert doc["kdf"]["name"] == "argon2id"
    assert doc["kdf"]["memory_kib"] == 19 * 1024
    assert doc["kdf"]["iterations"] == 2
    assert doc["kdf"]["lanes"] == 1
    assert len(base64.b64decode(doc["kdf"]["salt"])) == 16
    assert b"t/v1" not in base64.b64decode(doc["payload"])
    assert provider.protection == "argon2id"
    # A provider configured for scrypt (the default) opens it: the file says argon2id.
    reopened = LocalKeyFileProvider(tmp_path / "k.json", passphrase="correct horse battery")
    assert reopened.unwrap(ref, wrapped, b"aad") == b"d" * 32
    assert reopened.protection == "argon2id"
    # And a new KEK written by it keeps the file's own derivation.
    reopened.create_kek(T, 2)
    assert json.loads((tmp_path / "k.json").read_text())["kdf"]["name"] == "argon2id"


def test_a_scrypt_file_opens_with_a_provider_configured_for_argon2id(tmp_path: Path) -> None:
    scrypt = LocalKeyFileProvider(tmp_path / "k.json", passphrase="pw-1234", scrypt_log2_n=14)
    ref = scrypt.create_kek(T, 1)
    wrapped = scrypt.wrap(ref, b"e" * 32, b"")
    argon = make(tmp_path / "k.json", "pw-1234")
    assert argon.unwrap(ref, wrapped, b"") == b"e" * 32
    assert argon.protection == "scrypt"


def test_wrong_or_missing_passphrase_on_an_argon2id_file_is_a_precise_error(
    tmp_path: Path,
) -> None:
    make(tmp_path / "k.json", "Tr0ub4dor&3").create_kek(T, 1)
    with pytest.raises(WrongPassphrase, match="wrong passphrase") as caught:
        make(tmp_path / "k.json", "xyzzy-guess").check()
    assert "Tr0ub4dor" not in str(caught.value)
    assert "xyzzy" not in str(caught.value)
    with pytest.raises(WrongPassphrase, match="needs a passphrase"):
        LocalKeyFileProvider(tmp_path / "k.json").check()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("memory_kib", 1 << 30),  # a planted file asking for a terabyte
        ("memory_kib", 1024),
        ("iterations", 0),
        ("iterations", 1000),
        ("lanes", 0),
        ("name", "argon2d"),
        ("salt", "c2hvcnQ="),
    ],
)
def test_argon2id_parameters_out_of_range_are_a_corrupt_file(
    tmp_path: Path, field: str, value: object
) -> None:
    from rempart.vault.providers.local import _checksum  # the file's own checksum

    path = tmp_path / "k.json"
    make(path).create_kek(T, 1)
    doc = json.loads(path.read_text())
    doc["kdf"][field] = value
    payload = base64.b64decode(doc["payload"])
    doc["checksum"] = _checksum(doc["kdf"], payload).hex()  # a consistent, hostile file
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyFileCorrupt):
        make(path).check()


def test_changing_the_recorded_parameters_without_the_checksum_is_detected(
    tmp_path: Path,
) -> None:
    path = tmp_path / "k.json"
    make(path).create_kek(T, 1)
    doc = json.loads(path.read_text())
    doc["kdf"]["iterations"] = 3
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyFileCorrupt, match="checksum"):
        make(path).check()


def test_weak_argon2id_parameters_and_unknown_derivations_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="argon2"):
        LocalKeyFileProvider(tmp_path / "k.json", passphrase="x", argon2_memory_kib=4096)
    with pytest.raises(ValueError, match="argon2"):
        LocalKeyFileProvider(tmp_path / "k.json", passphrase="x", argon2_iterations=1)
    with pytest.raises(ValueError, match="unknown passphrase key derivation"):
        LocalKeyFileProvider(tmp_path / "k.json", passphrase="x", kdf="pbkdf2")  # type: ignore[arg-type]


def test_an_unprotected_file_reports_no_protection(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k.json")
    provider.create_kek(T, 1)
    assert provider.protection == "none"


def test_a_scrypt_file_is_reprotected_with_argon2id_and_a_new_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    old = LocalKeyFileProvider(path, passphrase="old passphrase", scrypt_log2_n=14)
    ref = old.create_kek(T, 1)
    wrapped = old.wrap(ref, b"k" * 32, b"aad")
    salt_before = json.loads(path.read_text())["kdf"]["salt"]
    make(path, "old passphrase").reprotect("new passphrase", kdf="argon2id")
    doc = json.loads(path.read_text())
    assert doc["kdf"]["name"] == "argon2id"
    assert doc["kdf"]["salt"] != salt_before
    with pytest.raises(WrongPassphrase):
        make(path, "old passphrase").check()
    assert make(path, "new passphrase").unwrap(ref, wrapped, b"aad") == b"k" * 32


def test_reprotect_needs_the_current_passphrase_and_can_remove_it(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    ref = make(path, "current one").create_kek(T, 1)
    before = path.read_bytes()
    with pytest.raises(WrongPassphrase):
        make(path, "not the current one").reprotect("attacker's choice")
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match="empty"):
        make(path, "current one").reprotect("")
    provider = make(path, "current one")
    provider.reprotect(None)
    assert provider.protection == "none"
    assert json.loads(path.read_text())["kdf"] is None
    assert LocalKeyFileProvider(path).check() == 1
    with pytest.raises(WrongPassphrase, match="not passphrase-protected"):
        make(path, "current one").check()
    assert ref in json.loads(base64.b64decode(json.loads(path.read_text())["payload"]))["keks"]


def test_open_local_vault_follows_the_key_file_settings(tmp_path: Path) -> None:
    from rempart.config import load_settings
    from rempart.vault import open_local_vault

    settings = load_settings(
        data_dir=tmp_path / "data",
        vault_key_file=tmp_path / "elsewhere" / "keys.json",
        vault_passphrase="from the settings, long enough",
        vault_passphrase_kdf="scrypt",
    )
    vault = open_local_vault(settings)
    vault.create_tenant(T)
    doc = json.loads((tmp_path / "elsewhere" / "keys.json").read_text())
    assert doc["kdf"]["name"] == "scrypt"
    assert not (tmp_path / "data" / "vault-keys.json").exists()
    with pytest.raises(WrongPassphrase):
        open_local_vault(settings, passphrase="an explicit wrong one")
