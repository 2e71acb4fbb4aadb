"""Field encryption: round trips, binding to context, tampering, batches, the DEK cache."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault import DATA_KEY, Vault
from tests.vault.conftest import OTHER, TENANT, CountingProvider, ctx


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plaintext=st.binary(max_size=4096),
    row=st.text(max_size=40),
    column=st.text(min_size=1, max_size=20),
)
def test_decrypt_of_encrypt_is_the_identity_for_any_bytes(
    vault: Vault, plaintext: bytes, row: str, column: str
) -> None:
    c = ctx(row, column=column)
    assert vault.decrypt_field(c, vault.encrypt_field(c, plaintext)) == plaintext


def test_two_encryptions_of_one_value_differ(vault: Vault) -> None:
    assert vault.encrypt_field(ctx(), b"same") != vault.encrypt_field(ctx(), b"same")


def test_ciphertext_records_key_id_and_version(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"x")
    assert ct[:3] == b"RV\x02"
    assert ct[4 : 4 + ct[3]] == DATA_KEY.encode()
    assert int.from_bytes(ct[4 + ct[3] : 8 + ct[3]], "big") == 1


@pytest.mark.parametrize(
    "moved",
    [
        ctx(tenant=OTHER),
        ctx(table="agents"),
        ctx(column="email"),
        ctx("row-2"),
    ],
    ids=["other tenant", "other table", "other column", "other row"],
)
def test_a_ciphertext_moved_elsewhere_does_not_decrypt(vault: Vault, moved: object) -> None:
    ct = vault.encrypt_field(ctx(), b"+33612345678")
    with pytest.raises(CryptoError):
        vault.decrypt_field(moved, ct)  # type: ignore[arg-type]


def test_every_single_bit_flip_raises_the_same_opaque_error(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"card 4111")
    messages = set()
    for i in range(len(ct) * 8):
        tampered = bytearray(ct)
        tampered[i // 8] ^= 1 << (i % 8)
        with pytest.raises(CryptoError) as caught:
            vault.decrypt_field(ctx(), bytes(tampered))
        messages.add((type(caught.value), str(caught.value), caught.value.detail))
    assert messages == {
        (CryptoError, "Cryptographic operation failed", "Cryptographic operation failed")
    }


def test_every_truncation_fails(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"abc")
    for n in range(len(ct)):
        with pytest.raises(CryptoError):
            vault.decrypt_field(ctx(), ct[:n])


def test_unknown_tenant_cannot_decrypt(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"x")
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx(tenant=TenantId("nobody")), ct)


def test_provider_is_called_once_per_dek_not_once_per_field(
    vault: Vault, provider: CountingProvider
) -> None:
    vault.keys.cache.clear()
    before = provider.unwraps
    cts = [vault.encrypt_field(ctx(str(i)), b"v" * 64) for i in range(500)]
    for i, ct in enumerate(cts):
        vault.decrypt_field(ctx(str(i)), ct)
    assert provider.unwraps - before == 1


def test_batch_apis_round_trip_and_fail_as_a_whole(vault: Vault) -> None:
    items = [(ctx(str(i)), f"value {i}".encode()) for i in range(50)]
    cts = vault.encrypt_many(items)
    assert vault.decrypt_many(zip((c for c, _ in items), cts, strict=True)) == [v for _, v in items]
    bad = list(zip((c for c, _ in items), cts, strict=True))
    bad[7] = (bad[8][0], bad[7][1])
    with pytest.raises(CryptoError):
        vault.decrypt_many(bad)


def test_reencrypt_moves_a_value_to_the_active_version(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"old")
    vault.keys.rotate_dek(TENANT)
    new = vault.reencrypt_field(ctx(), ct)
    assert int.from_bytes(new[8:12], "big") == 2
    assert vault.decrypt_field(ctx(), new) == b"old"


def test_subject_key_is_separate_from_the_tenant_data_key(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"subject data", subject="cust-42")
    assert b"subject:cust-42" in ct[:30]
    assert vault.decrypt_field(ctx(), ct) == b"subject data"
    assert {d.key_id for d in vault.keys.store.list_deks(TENANT)} == {
        "data",
        "index",
        "subject:cust-42",
    }


def test_a_ciphertext_claiming_the_index_key_is_refused(vault: Vault) -> None:
    ct = vault.encrypt_field(ctx(), b"x")
    forged = ct[:3] + b"\x05index" + ct[8:]
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx(), forged)
