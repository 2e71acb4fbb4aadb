"""The field cipher's hot path (cached DEK) keeps every check of the long way."""

from __future__ import annotations

import copy
import pickle
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault import INDEX_KEY, FieldContext, Vault
from rempart.vault.format import FIELD_AAD_DOMAIN, FIELD_AAD_DOMAIN_V1, lp
from rempart.vault.hazmat import random_bytes
from tests.vault.conftest import OTHER, TENANT, VaultFactory, ctx


def test_a_context_binds_the_documented_associated_data() -> None:
    c = FieldContext(TENANT, "customers", "phone", "row-1")
    assert c.aad == FIELD_AAD_DOMAIN_V1 + b"".join(
        lp(part.encode()) for part in (TENANT, "customers", "phone", "row-1")
    )
    assert (c.tenant, c.table, c.column, c.row_id) == (TENANT, "customers", "phone", "row-1")
    # Format 2: the context alone, the row id last without a length prefix.
    assert (
        c.field_aad
        == FIELD_AAD_DOMAIN
        + b"".join(lp(part.encode()) for part in (TENANT, "customers", "phone"))
        + b"row-1"
    )
    assert c.aad.startswith(FIELD_AAD_DOMAIN_V1)


def test_a_context_is_immutable_and_survives_copy_and_pickle() -> None:
    c = ctx()
    with pytest.raises(AttributeError):
        c.row_id = "row-2"  # type: ignore[misc]
    assert copy.copy(c) == c
    restored = pickle.loads(pickle.dumps(c))
    assert restored == c
    assert restored.aad == c.aad
    assert "row-1" in repr(c)
    assert "FieldContext(" in repr(c)


def test_a_context_refuses_non_strings_and_oversized_parts() -> None:
    with pytest.raises(TypeError):
        FieldContext(TENANT, "customers", "phone", 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        FieldContext(TENANT, None, "phone", "r")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="65535"):
        FieldContext(TENANT, "customers", "phone", "r" * 70_000)


def test_a_valid_ciphertext_under_the_cached_index_key_is_refused(vault: Vault) -> None:
    # The index key is in the cache after a blind index; a ciphertext correctly sealed
    # under it must still fail: only data and subject keys seal fields.
    vault.blind_index(TENANT, "phone", "0612345678")
    material = vault.keys.active_key(TENANT, INDEX_KEY)
    c = ctx()
    nonce = random_bytes(12)
    header = material.field_header + nonce
    forged = header + material.field.seal(nonce, b"secret", c.field_aad)
    assert material.field.open(nonce, forged[len(header) :], c.field_aad) == b"secret"
    with pytest.raises(CryptoError):
        vault.decrypt_field(c, forged)
    for entry in vault.keys.cache.index.get(TENANT, {}).values():
        assert entry.material.encrypts_fields


def test_the_cached_key_of_one_tenant_never_opens_another_tenants_value(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"a")
    vault.encrypt_field(ctx(tenant=OTHER), b"b")  # both tenants' keys are now cached
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx(tenant=OTHER), ct)


def test_shredding_stops_the_cached_key_at_once(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"a")
    assert vault.decrypt_field(ctx(), ct) == b"a"
    vault.shred_tenant(TENANT, reason="off-boarding")
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx(), ct)
    assert TENANT not in vault.keys.cache.index


def test_retiring_a_version_stops_its_cached_key_at_once(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"a")
    assert vault.decrypt_field(ctx(), ct) == b"a"
    vault.keys.rotate_dek(TENANT)
    assert vault.decrypt_field(ctx(), ct) == b"a"
    vault.keys.retire_dek(TENANT, "data", 1)
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx(), ct)


def test_a_subject_key_shredded_while_cached_no_longer_decrypts(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"a", subject="cust-1")
    assert vault.decrypt_field(ctx(), ct) == b"a"
    vault.shred_subject(TENANT, "cust-1", reason="GDPR art. 17")
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx(), ct)


def test_bytes_like_ciphertexts_decrypt_and_other_types_fail_opaquely(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"value")
    assert vault.decrypt_field(ctx(), bytearray(ct)) == b"value"  # type: ignore[arg-type]
    assert vault.decrypt_field(ctx(), memoryview(ct)) == b"value"  # type: ignore[arg-type]
    for bad in ("RV\x01\x04data", None, 12345, [1, 2, 3]):
        with pytest.raises(CryptoError):
            vault.decrypt_field(ctx(), bad)  # type: ignore[arg-type]


def test_the_hot_path_never_encrypts_past_the_gcm_usage_limit(make_vault: VaultFactory) -> None:
    vault = make_vault(rotate_after_encryptions=5_000)
    tenant = TenantId("t-budget")
    vault.create_tenant(tenant)
    c = FieldContext(tenant, "t", "c", "r")
    versions = Counter(
        int.from_bytes(vault.encrypt_field(c, b"x")[8:12], "big") for _ in range(7_000)
    )
    # Never past the limit (a budget check that fails spends its count, so a few
    # encryptions short of it is the safe side), then the next version takes over.
    assert 5_000 - 16 <= versions[1] <= 5_000
    assert versions[1] + versions[2] == 7_000


def test_fields_are_sealed_only_under_data_or_subject_keys(vault: Vault) -> None:
    with pytest.raises(ValueError, match="data key or a subject key"):
        vault.fields.encrypt(ctx(), b"x", key_id=INDEX_KEY)


@settings(max_examples=200)
@given(parts=st.lists(st.text(max_size=30), min_size=4, max_size=4))
def test_both_formats_associated_data_follow_the_documented_encoding(parts: list[str]) -> None:
    tenant, table, column, row = parts
    c = FieldContext(TenantId(tenant), table, column, row)
    location = b"".join(lp(p.encode()) for p in (tenant, table, column))
    assert c.field_aad == FIELD_AAD_DOMAIN + location + row.encode()
    assert c.aad == FIELD_AAD_DOMAIN_V1 + location + lp(row.encode())
