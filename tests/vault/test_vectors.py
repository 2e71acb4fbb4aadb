"""Known-answer vectors of the field and stream formats (tests/vault/vectors/*.json)."""

from __future__ import annotations

import io
import json
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault import FieldContext, LocalKeyFileProvider, MemoryKeyringStore, Vault
from rempart.vault.format import seal
from rempart.vault.hazmat import random_bytes
from rempart.vault.keyring import wrap_aad
from rempart.vault.records import DekRecord, KekRecord, KeyStatus, TenantKeyring

VECTORS = Path(__file__).parent / "vectors"


def load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((VECTORS / name).read_text())
    return data


def lp(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">H", len(raw)) + raw


def hkdf(key: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def independent_field_ciphertext(v: dict[str, Any]) -> bytes:
    """The field format rebuilt from docs/vault.md with pyca/cryptography alone."""
    fmt = v["format"]
    kid = v["key_id"].encode()
    version = struct.pack(">I", v["key_version"])
    nonce = bytes.fromhex(v["nonce"])
    header: bytes = b"RV" + bytes([fmt, len(kid)]) + kid + version + nonce
    subkey = hkdf(
        bytes.fromhex(v["dek"]),
        b"rempart/vault/v1/field-encryption" + lp(v["tenant"]) + lp(v["key_id"]) + version,
    )
    location = lp(v["tenant"]) + lp(v["table"]) + lp(v["column"])
    if fmt == 1:
        aad = b"rempart/vault/field/v1" + location + lp(v["row_id"]) + header
    else:  # format 2: the context alone, the row id last and unprefixed
        assert fmt == 2
        aad = b"rempart/vault/field/v2" + location + v["row_id"].encode()
    sealed: bytes = AESGCM(subkey).encrypt(nonce, bytes.fromhex(v["plaintext"]), aad)
    return header + sealed


def vault_holding(vectors: list[dict[str, Any]], tmp_path: Path) -> Vault:
    """A real vault whose store holds each vector's DEK, wrapped by a real local KEK."""
    provider = LocalKeyFileProvider(tmp_path / "keys.json")
    store = MemoryKeyringStore()
    now = datetime.now(UTC)
    for tenant in {TenantId(v["tenant"]) for v in vectors}:
        store.add_tenant(TenantKeyring(tenant, provider.name, now))
        key_ref = provider.create_kek(tenant, 1)
        store.add_kek(KekRecord(tenant, 1, provider.name, key_ref, KeyStatus.ACTIVE, now))
    for v in vectors:
        tenant, key_id, version = TenantId(v["tenant"]), v["key_id"], v["key_version"]
        wrapped = provider.wrap(
            f"{tenant}/v1", bytes.fromhex(v["dek"]), wrap_aad(tenant, key_id, version, 1)
        )
        store.add_dek(DekRecord(tenant, key_id, version, 1, wrapped, KeyStatus.DECRYPT_ONLY, now))
    return Vault(store, [provider])


def test_field_vectors_match_an_independent_construction_of_the_documented_format() -> None:
    vectors = load("field_valid.json")
    assert {v["format"] for v in vectors} == {1, 2}
    for v in vectors:
        assert independent_field_ciphertext(v).hex() == v["ciphertext"], v["name"]


def test_the_vault_writes_format_2_and_still_reads_format_1(tmp_path: Path) -> None:
    vault = Vault(MemoryKeyringStore(), [LocalKeyFileProvider(tmp_path / "keys.json")])
    tenant = TenantId("t-formats")
    vault.create_tenant(tenant)
    ctx = FieldContext(tenant, "customers", "phone", "row-1")
    new = vault.encrypt_field(ctx, b"+33612345678")
    assert new[:3] == b"RV\x02"
    material = vault.keys.decryption_key(tenant, "data", 1)
    old = seal(material.field, ctx, "data", 1, random_bytes(12), b"+33612345678", version=1)
    assert old[:3] == b"RV\x01"
    for ciphertext in (old, new, old):  # format 1 takes the long way, cached key or not
        assert vault.decrypt_field(ctx, ciphertext) == b"+33612345678"
    moved = vault.reencrypt_field(ctx, old)
    assert moved[:3] == b"RV\x02"
    assert vault.decrypt_field(ctx, moved) == b"+33612345678"
    # A format-1 value relabelled as format 2 (and the reverse) fails.
    for forged in (old[:2] + b"\x02" + old[3:], new[:2] + b"\x01" + new[3:]):
        with pytest.raises(CryptoError):
            vault.decrypt_field(ctx, forged)


def test_valid_field_vectors_decrypt_to_their_plaintext(tmp_path: Path) -> None:
    vectors = load("field_valid.json")
    vault = vault_holding(vectors, tmp_path)
    for v in vectors:
        ctx = FieldContext(TenantId(v["tenant"]), v["table"], v["column"], v["row_id"])
        plain = vault.decrypt_field(ctx, bytes.fromhex(v["ciphertext"]))
        assert plain.hex() == v["plaintext"], v["name"]


def test_every_invalid_field_vector_raises_the_one_opaque_error(tmp_path: Path) -> None:
    valid = {v["name"]: v for v in load("field_valid.json")}
    invalid = load("field_invalid.json")
    based = [valid[name] for name in {c["based_on"] for c in invalid}]
    # Version 2 of the data key exists too, so "another existing version" is a real key.
    vault = vault_holding(
        [*based, valid["second key version"], valid["v2 second key version"]], tmp_path
    )
    assert len(invalid) >= 30
    assert {valid[c["based_on"]]["format"] for c in invalid} == {1, 2}
    for case in invalid:
        v = valid[case["based_on"]]
        fields = {
            "tenant": v["tenant"],
            "table": v["table"],
            "column": v["column"],
            "row_id": v["row_id"],
            **case["context"],
        }
        ctx = FieldContext(
            TenantId(fields["tenant"]), fields["table"], fields["column"], fields["row_id"]
        )
        with pytest.raises(CryptoError) as caught:
            vault.decrypt_field(ctx, bytes.fromhex(case["ciphertext"]))
        assert str(caught.value) == "Cryptographic operation failed", case["name"]


def test_stream_vectors_match_an_independent_construction(tmp_path: Path) -> None:
    for v in load("stream_valid.json"):
        dek, chunk_size = bytes.fromhex(v["dek"]), v["chunk_size"]
        salt, prefix = bytes.fromhex(v["salt"]), bytes.fromhex(v["nonce_prefix"])
        header = b"RS\x01\x04data" + struct.pack(">II", 1, chunk_size) + salt + prefix
        stream_root = hkdf(
            dek, b"rempart/vault/v1/stream" + lp(v["tenant"]) + lp("data") + struct.pack(">I", 1)
        )
        context = (
            b"rempart/vault/field/v1"
            + lp(v["tenant"])
            + lp(v["table"])
            + lp(v["column"])
            + lp(v["row_id"])
        )
        key = AESGCM(hkdf(stream_root, b"rempart/vault/stream/v1" + context + header, salt))
        plain = bytes.fromhex(v["plaintext"])
        chunks = [plain[i : i + chunk_size] for i in range(0, len(plain), chunk_size)] or [b""]
        body = b"".join(
            key.encrypt(prefix + struct.pack(">I", i) + bytes([i == len(chunks) - 1]), c, b"")
            for i, c in enumerate(chunks)
        )
        assert (header + body).hex() == v["ciphertext"], v["name"]


def test_stream_vectors_decrypt_and_invalid_streams_fail(tmp_path: Path) -> None:
    valid = load("stream_valid.json")
    invalid = load("stream_invalid.json")
    assert len(invalid) >= 10
    for i, v in enumerate(valid):
        vault = vault_holding([v], tmp_path / str(i))
        ctx = FieldContext(TenantId(v["tenant"]), v["table"], v["column"], v["row_id"])
        out = io.BytesIO()
        vault.decrypt_stream(ctx, io.BytesIO(bytes.fromhex(v["ciphertext"])), out)
        assert out.getvalue().hex() == v["plaintext"], v["name"]
        for case in invalid:
            if case["based_on"] != v["name"]:
                continue
            with pytest.raises(CryptoError):
                vault.decrypt_stream(
                    ctx, io.BytesIO(bytes.fromhex(case["ciphertext"])), io.BytesIO()
                )
