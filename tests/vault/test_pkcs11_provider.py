"""The PKCS#11 provider against a real SoftHSM2 token created in a temp directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault import KeyStatus, MemoryKeyringStore, ProviderUnavailable, Vault
from rempart.vault.providers.local import LocalKeyFileProvider
from rempart.vault.providers.pkcs11 import Pkcs11Provider
from rempart.vault.records import KekRecord
from tests.vault.conftest import OTHER, TENANT, ctx
from tests.vault.softhsm import SoftHsm, init_token, missing_reason

T = TenantId("hsm-tenant")


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    reason = missing_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs it: a skip there would hide a broken setup
        pytest.skip(reason)
    previous = os.environ.get("SOFTHSM2_CONF")
    yield init_token(tmp_path_factory.mktemp("softhsm"))
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def provider(hsm: SoftHsm) -> Iterator[Pkcs11Provider]:
    p = Pkcs11Provider(hsm.library, token_label=hsm.token_label, user_pin=hsm.user_pin)
    yield p
    p.close()


def test_wrap_and_unwrap_inside_the_hsm(provider: Pkcs11Provider) -> None:
    ref = provider.create_kek(T, 1)
    assert provider.create_kek(T, 1) == ref  # idempotent after a crash
    wrapped = provider.wrap(ref, b"k" * 32, b"context")
    assert len(wrapped) == 12 + 32 + 16
    assert provider.unwrap(ref, wrapped, b"context") == b"k" * 32
    with pytest.raises(CryptoError):
        provider.unwrap(ref, wrapped, b"other context")
    tampered = bytearray(wrapped)
    tampered[20] ^= 1
    with pytest.raises(CryptoError):
        provider.unwrap(ref, bytes(tampered), b"context")


def test_the_kek_is_not_extractable(provider: Pkcs11Provider) -> None:
    import pkcs11

    ref = provider.create_kek(T, 2)

    def inspect(session: pkcs11.Session) -> None:
        key = session.get_key(object_class=pkcs11.ObjectClass.SECRET_KEY, label=ref)
        assert key[pkcs11.Attribute.EXTRACTABLE] is False
        assert key[pkcs11.Attribute.SENSITIVE] is True
        with pytest.raises(pkcs11.PKCS11Error):
            key[pkcs11.Attribute.VALUE]  # reading it must fail

    provider._call(inspect)  # the provider's own logged-in session


def test_a_tenant_with_its_kek_in_the_hsm_encrypts_with_one_hsm_call_per_dek(
    provider: Pkcs11Provider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = LocalKeyFileProvider(tmp_path / "k.json")
    vault = Vault(MemoryKeyringStore(), [local, provider])
    vault.create_tenant(TENANT, provider="pkcs11")
    vault.create_tenant(OTHER)  # the default, local provider
    calls = {"n": 0}
    real = provider.unwrap

    def counting(key_ref: str, wrapped: bytes, aad: bytes) -> bytes:
        calls["n"] += 1
        return real(key_ref, wrapped, aad)

    monkeypatch.setattr(provider, "unwrap", counting)
    vault.keys.cache.clear()
    cts = [vault.encrypt_field(ctx(str(i)), b"hsm-protected") for i in range(200)]
    assert all(vault.decrypt_field(ctx(str(i)), c) == b"hsm-protected" for i, c in enumerate(cts))
    assert calls["n"] == 1
    assert vault.keys.tenant(TENANT).provider == "pkcs11"
    assert vault.decrypt_field(ctx(tenant=OTHER), vault.encrypt_field(ctx(tenant=OTHER), b"x"))


def test_kek_rotation_rewrap_and_shredding_in_the_hsm(
    provider: Pkcs11Provider, tmp_path: Path
) -> None:
    vault = Vault(MemoryKeyringStore(), [provider])
    tenant = TenantId("hsm-rotation")
    vault.create_tenant(tenant)
    ct = vault.encrypt_field(ctx(tenant=tenant), b"v")
    vault.keys.rotate_kek(tenant)
    assert vault.keys.rewrap(tenant).remaining == 0
    vault.keys.retire_kek(tenant, 1)
    vault.keys.cache.clear()
    assert vault.decrypt_field(ctx(tenant=tenant), ct) == b"v"
    wrapped = vault.keys.store.get_dek(tenant, "data", 1)
    assert wrapped is not None
    assert wrapped.wrapped is not None
    vault.shred_tenant(tenant, reason="test")
    with pytest.raises(CryptoError):
        provider.unwrap(f"rempart-kek:{tenant}:v2", wrapped.wrapped, b"")


def test_an_unreachable_hsm_is_a_precise_error(hsm: SoftHsm) -> None:
    wrong_token = Pkcs11Provider(hsm.library, token_label="no-such-token", user_pin="x")
    with pytest.raises(ProviderUnavailable, match="HSM not reachable") as caught:
        wrong_token.create_kek(T, 1)
    assert "x" not in caught.value.detail.replace("token", "").replace("reachable", "")
    missing_lib = Pkcs11Provider("/nonexistent/libpkcs11.so", token_label="t", user_pin="1")
    with pytest.raises(ProviderUnavailable):
        missing_lib.wrap("k", b"d" * 32, b"")
    wrong_pin = Pkcs11Provider(hsm.library, token_label=hsm.token_label, user_pin="0000")
    with pytest.raises(ProviderUnavailable):
        wrong_pin.create_kek(T, 1)
    assert "0000" not in repr(wrong_pin)


def test_an_unconfirmed_hsm_kek_is_found_and_swept(provider: Pkcs11Provider) -> None:
    tenant = TenantId("hsm-crash")
    store = MemoryKeyringStore()
    vault = Vault(store, [provider])
    vault.create_tenant(tenant)
    # What a crash between the HSM's key generation and the confirmation leaves.
    store.add_kek(KekRecord(tenant, 2, provider.name, "", KeyStatus.PENDING, datetime.now(UTC)))
    label = provider.create_kek(tenant, 2)
    assert provider.find_keks(tenant, 2) == [label]
    assert vault.keys.recover(tenant, older_than=timedelta(0)) == [2]
    assert provider.find_keks(tenant, 2) == []
    assert provider.find_keks(tenant, 1) != []  # the confirmed KEK stays
