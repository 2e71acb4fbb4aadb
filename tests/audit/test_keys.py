"""The checkpoint signing key wrapped under the vault: creation, migration, tampering."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from rempart.audit import (
    Checkpoint,
    Ed25519Signer,
    NoteVerifier,
    checkpoint_signer,
    load_or_create_signer,
    load_or_create_wrapped_signer,
    verifier_key,
)
from rempart.audit.keys import KEY_FILE, PUBLIC_KEY_FILE, WRAPPED_KEY_FILE, unwrap_signer
from rempart.audit.note import sign_checkpoint
from rempart.config import load_settings
from rempart.errors import ConfigurationError
from rempart.vault import LocalKeyFileProvider


@pytest.fixture
def provider(tmp_path: Path) -> LocalKeyFileProvider:
    return LocalKeyFileProvider(tmp_path / "vault-keys.json")


def _doc(path: Path) -> dict[str, object]:
    doc = json.loads(path.read_text())
    assert isinstance(doc, dict)
    return doc


def _signs(signer: Ed25519Signer, vkey: str) -> bool:
    note = sign_checkpoint(Checkpoint("rempart/audit/platform", 1, b"\x01" * 32), signer)
    return NoteVerifier.from_vkey(vkey).verify(note).size == 1


def test_a_new_key_is_stored_wrapped_owner_only_and_reloads(
    tmp_path: Path, provider: LocalKeyFileProvider
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    signer = load_or_create_wrapped_signer(data, provider)
    wrapped = data / WRAPPED_KEY_FILE
    assert stat.S_IMODE(wrapped.stat().st_mode) == 0o600
    assert not (data / KEY_FILE).exists()
    vkey = (data / PUBLIC_KEY_FILE).read_text().strip()
    assert vkey == verifier_key(signer)
    # The file does not hold the private key in any plain encoding.
    text = wrapped.read_text()
    seed = signer.seed()
    for encoded in (seed.hex(), base64.b64encode(seed).decode(), signer.to_skey()):
        assert encoded not in text
    doc = _doc(wrapped)
    assert doc["format"] == "rempart-audit-signing-key"
    assert doc["provider"] == "local"
    again = load_or_create_wrapped_signer(data, provider)
    assert again.seed() == seed
    assert _signs(again, vkey)


def test_a_plain_key_file_is_migrated_then_removed(
    tmp_path: Path, provider: LocalKeyFileProvider
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = load_or_create_signer(data)
    assert (data / KEY_FILE).exists()
    signer = load_or_create_wrapped_signer(data, provider)
    assert signer.seed() == old.seed()
    assert signer.name == old.name
    assert not (data / KEY_FILE).exists()
    assert (data / WRAPPED_KEY_FILE).exists()
    assert (data / PUBLIC_KEY_FILE).read_text().strip() == verifier_key(old)
    assert load_or_create_wrapped_signer(data, provider).seed() == old.seed()


def test_an_interrupted_migration_finishes_and_a_different_plain_key_is_refused(
    tmp_path: Path, provider: LocalKeyFileProvider
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = load_or_create_signer(data)
    plain = (data / KEY_FILE).read_text()
    load_or_create_wrapped_signer(data, provider)
    # The plain file came back (say, the removal did not happen): it is removed now.
    (data / KEY_FILE).write_text(plain)
    (data / KEY_FILE).chmod(0o600)
    assert load_or_create_wrapped_signer(data, provider).seed() == old.seed()
    assert not (data / KEY_FILE).exists()
    # A plain file holding another key is not silently dropped.
    (data / KEY_FILE).write_text(Ed25519Signer.generate("rempart-audit").to_skey())
    (data / KEY_FILE).chmod(0o600)
    with pytest.raises(ConfigurationError, match="different audit signing keys"):
        load_or_create_wrapped_signer(data, provider)


def _tamper(path: Path, field: str, value: str) -> None:
    doc = _doc(path)
    doc[field] = value
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("field", ["wrapped", "public_key", "name", "key_ref"])
def test_a_tampered_wrapped_key_fails_clearly(
    tmp_path: Path, provider: LocalKeyFileProvider, field: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    load_or_create_wrapped_signer(data, provider)
    path = data / WRAPPED_KEY_FILE
    doc = _doc(path)
    original = doc[field]
    assert isinstance(original, str)
    if field == "wrapped":
        raw = bytearray(base64.b64decode(original))
        raw[len(raw) // 2] ^= 0x01
        value = base64.b64encode(bytes(raw)).decode()
    elif field == "public_key":
        other = Ed25519Signer.generate("rempart-audit").public_key()
        value = base64.b64encode(other).decode()
    elif field == "name":
        value = "someone-else"
    else:
        value = "platform-audit-checkpoint/v2"
    _tamper(path, field, value)
    with pytest.raises(ConfigurationError, match="does not unwrap"):
        load_or_create_wrapped_signer(data, provider)
    # Nothing was replaced: the altered file is still there for the operator to inspect.
    assert _doc(path)[field] == value


def test_every_single_bit_flip_of_the_wrapped_key_fails(
    tmp_path: Path, provider: LocalKeyFileProvider
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    load_or_create_wrapped_signer(data, provider)
    path = data / WRAPPED_KEY_FILE
    raw = base64.b64decode(str(_doc(path)["wrapped"]))
    providers = {"local": provider}
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        _tamper(path, "wrapped", base64.b64encode(bytes(flipped)).decode())
        with pytest.raises(ConfigurationError, match="does not unwrap"):
            unwrap_signer(path, providers)
    _tamper(path, "wrapped", base64.b64encode(raw[:-1]).decode())
    with pytest.raises(ConfigurationError, match="does not unwrap"):
        unwrap_signer(path, providers)


def test_another_vault_cannot_unwrap_the_key(
    tmp_path: Path, provider: LocalKeyFileProvider
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    load_or_create_wrapped_signer(data, provider)
    other = LocalKeyFileProvider(tmp_path / "other-vault-keys.json")
    with pytest.raises(ConfigurationError, match="does not unwrap"):
        load_or_create_wrapped_signer(data, other)


def test_malformed_wrapped_files_are_refused(
    tmp_path: Path, provider: LocalKeyFileProvider
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    load_or_create_wrapped_signer(data, provider)
    path = data / WRAPPED_KEY_FILE
    good = path.read_text()
    cases = {
        "not json": ("{", "not JSON"),
        "other format": (json.dumps({"format": "x", "version": 1}), "not a wrapped"),
        "bad base64": (good.replace('"wrapped": "', '"wrapped": "!!'), "base64"),
        "unknown provider": (good.replace('"provider": "local"', '"provider": "pkcs11"'), "pkcs11"),
    }
    for text, message in cases.values():
        path.write_text(text)
        with pytest.raises(ConfigurationError, match=message):
            load_or_create_wrapped_signer(data, provider)
    path.write_text(good)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        load_or_create_wrapped_signer(data, provider)


def test_checkpoint_signer_wraps_under_the_settings_vault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("REMPART_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    signer = checkpoint_signer(settings)
    assert (data / WRAPPED_KEY_FILE).exists()
    assert not (data / KEY_FILE).exists()
    assert (data / "vault-keys.json").exists()  # the KEK lives in the vault's key file
    assert checkpoint_signer(settings).seed() == signer.seed()
    # Losing the vault's keys loses the signing key: it is not recoverable from the data dir.
    (data / "vault-keys.json").unlink()
    with pytest.raises(ConfigurationError, match="does not unwrap"):
        checkpoint_signer(load_settings())


def test_an_existing_wrapped_key_is_never_replaced(
    tmp_path: Path, provider: LocalKeyFileProvider
) -> None:
    """Two processes creating the key at once: the second one gets the first one's key."""
    from rempart.audit.keys import wrap_signer

    data = tmp_path / "data"
    data.mkdir()
    first = load_or_create_wrapped_signer(data, provider)
    before = (data / WRAPPED_KEY_FILE).read_text()
    assert not wrap_signer(
        Ed25519Signer.generate("rempart-audit"), provider, data / WRAPPED_KEY_FILE
    )
    assert (data / WRAPPED_KEY_FILE).read_text() == before
    assert [p.name for p in data.iterdir() if p.name.endswith(".tmp")] == []
    assert load_or_create_wrapped_signer(data, provider).seed() == first.seed()
