"""The SQL keyring store on both storage lanes (SQLite, and PostgreSQL with RLS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rempart.errors import CryptoError
from rempart.storage import Database, TenantContext
from rempart.types import TenantId
from rempart.vault import FieldContext, KeyStateConflict, KeyStatus, Vault, normalize_email
from rempart.vault.records import KekRecord
from rempart.vault.sql_store import SqlKeyringStore
from rempart.vault.store import Rewrap
from tests.conftest import make_tenant
from tests.vault.conftest import CountingProvider


def fctx(tenant: TenantContext, row: str = "r1") -> FieldContext:
    return FieldContext(tenant.tenant_id, "customers", "email", row)


@pytest.fixture
def sql_vault(db: Database, provider: CountingProvider) -> Vault:
    return Vault(SqlKeyringStore(db), [provider], rotate_after_encryptions=5000)


def test_keys_persist_in_the_database_for_a_new_vault(
    db: Database, sql_vault: Vault, provider: CountingProvider, tenant_a: TenantContext
) -> None:
    sql_vault.create_tenant(tenant_a.tenant_id)
    ct = sql_vault.encrypt_field(fctx(tenant_a), b"alice@example.com")
    fresh = Vault(SqlKeyringStore(db), [CountingProvider(provider.path)])
    assert fresh.decrypt_field(fctx(tenant_a), ct) == b"alice@example.com"
    index = sql_vault.blind_index(tenant_a.tenant_id, "email", "Alice@example.com")
    assert fresh.blind_index(tenant_a.tenant_id, "email", "alice@example.com") == index


def test_tenants_do_not_see_each_others_keys(
    sql_vault: Vault, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    sql_vault.create_tenant(tenant_a.tenant_id)
    sql_vault.create_tenant(tenant_b.tenant_id)
    store = sql_vault.keys.store
    a_keys = store.list_deks(tenant_a.tenant_id)
    b_keys = store.list_deks(tenant_b.tenant_id)
    assert {d.tenant for d in a_keys} == {tenant_a.tenant_id}
    assert {d.tenant for d in b_keys} == {tenant_b.tenant_id}
    assert {d.wrapped for d in a_keys}.isdisjoint({d.wrapped for d in b_keys})
    ct = sql_vault.encrypt_field(fctx(tenant_a), b"x")
    with pytest.raises(CryptoError):
        sql_vault.decrypt_field(fctx(tenant_b), ct)


def test_a_keyring_needs_a_registered_tenant(sql_vault: Vault) -> None:
    with pytest.raises(KeyStateConflict):
        sql_vault.create_tenant(TenantId("00000000-0000-4000-8000-00000000dead"))


def test_rewrap_batches_are_atomic_and_resumable(
    sql_vault: Vault,
    provider: CountingProvider,
    tenant_a: TenantContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t = tenant_a.tenant_id
    sql_vault.create_tenant(t)
    cts = [sql_vault.encrypt_field(fctx(tenant_a, str(i)), b"v", subject=f"s{i}") for i in range(8)]
    sql_vault.keys.rotate_kek(t)
    real = provider.wrap
    calls = {"n": 0}

    def crash_on_seventh(key_ref: str, dek: bytes, aad: bytes) -> bytes:
        calls["n"] += 1
        if calls["n"] == 7:
            raise OSError("killed")
        return real(key_ref, dek, aad)

    monkeypatch.setattr(provider, "wrap", crash_on_seventh)
    with pytest.raises(OSError, match="killed"):
        sql_vault.keys.rewrap(t, batch_size=4)
    monkeypatch.setattr(provider, "wrap", real)
    store = sql_vault.keys.store
    assert store.count_deks_under_kek(t, 1) == 6  # one whole batch of 4 moved, not 6
    report = sql_vault.keys.rewrap(t, batch_size=4)
    assert (report.rewrapped, report.remaining) == (6, 0)
    sql_vault.keys.retire_kek(t, 1)
    sql_vault.keys.cache.clear()
    assert [sql_vault.decrypt_field(fctx(tenant_a, str(i)), c) for i, c in enumerate(cts)] == [
        b"v"
    ] * 8


def test_a_rewrap_batch_never_touches_another_tenants_keys_or_moved_ones(
    sql_vault: Vault, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    a, b = tenant_a.tenant_id, tenant_b.tenant_id
    sql_vault.create_tenant(a)
    sql_vault.create_tenant(b)
    store = sql_vault.keys.store
    sql_vault.encrypt_field(fctx(tenant_b), b"v", subject="only-b")  # a key A does not have
    b_before = {(d.key_id, d.version): d.wrapped for d in store.list_deks(b)}
    forged = [Rewrap("subject:only-b", 1, 1, 2, b"x" * 60)]
    assert store.apply_rewraps(a, forged) == 0  # B's key, issued for A: nothing
    assert {(d.key_id, d.version): d.wrapped for d in store.list_deks(b)} == b_before
    sql_vault.keys.rotate_kek(a)
    assert sql_vault.keys.rewrap(a).rewrapped == 2
    stale = [Rewrap(d.key_id, d.version, 1, 2, b"y" * 60) for d in store.list_deks(a)]
    assert store.apply_rewraps(a, stale) == 0  # compare-and-set: already under KEK 2
    assert all(d.wrapped != b"y" * 60 for d in store.list_deks(a))


def test_encryption_counter_is_persisted_and_triggers_rotation(
    sql_vault: Vault, tenant_a: TenantContext
) -> None:
    t = tenant_a.tenant_id
    sql_vault.keys.reservation_block = 1000
    sql_vault.create_tenant(t)
    for i in range(6000):
        sql_vault.encrypt_field(fctx(tenant_a, str(i)), b"v")
    deks = {d.version: d for d in sql_vault.keys.store.list_deks(t, "data")}
    assert deks[1].status is KeyStatus.DECRYPT_ONLY
    assert 5000 <= deks[1].encryptions <= 6000
    assert deks[2].status is KeyStatus.ACTIVE


def test_shredding_and_tokens_in_the_database(
    sql_vault: Vault, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    a, b = tenant_a.tenant_id, tenant_b.tenant_id
    sql_vault.create_tenant(a)
    sql_vault.create_tenant(b)
    later = datetime.now(UTC) + timedelta(days=365)
    token = sql_vault.tokenize_card(a, "5555 5555 5555 4444", expires_at=later, keep_last_four=True)
    assert sql_vault.tokenize_card(a, "5555555555554444", expires_at=later).token == token.token
    found = sql_vault.cards.find(a, "5555-5555-5555-4444")
    assert found is not None
    assert found.last_four == "4444"
    assert sql_vault.detokenize_card(a, token.token, actor="u", reason="r") == "5555555555554444"
    mine = sql_vault.encrypt_field(fctx(tenant_a, "s"), b"subject", subject="c1")
    assert sql_vault.shred_subject(a, "c1", reason="erasure") == 1
    with pytest.raises(CryptoError):
        sql_vault.decrypt_field(fctx(tenant_a, "s"), mine)
    kept = sql_vault.encrypt_field(fctx(tenant_b), b"kept")
    sql_vault.shred_tenant(a, reason="off-boarding")
    store = sql_vault.keys.store
    assert all(d.wrapped is None for d in store.list_deks(a))
    assert store.get_token(a, token.token) is None
    keyring = store.get_tenant(a)
    assert keyring is not None
    assert keyring.shredded
    assert sql_vault.decrypt_field(fctx(tenant_b), kept) == b"kept"


def test_another_registered_tenant_is_needed_per_keyring(db: Database, sql_vault: Vault) -> None:
    t = make_tenant(db, "v")
    sql_vault.create_tenant(t.tenant_id)
    with pytest.raises(KeyStateConflict):
        sql_vault.create_tenant(t.tenant_id)


def test_a_kek_intent_is_settled_once_by_compare_and_set(
    sql_vault: Vault, provider: CountingProvider, tenant_a: TenantContext
) -> None:
    tenant = tenant_a.tenant_id
    sql_vault.create_tenant(tenant)
    store = sql_vault.keys.store
    # A crash right after the local provider made KEK v2: only the intent is recorded.
    store.add_kek(KekRecord(tenant, 2, provider.name, "", KeyStatus.PENDING, datetime.now(UTC)))
    provider.create_kek(tenant, 2)
    assert store.settle_kek(tenant, 1, KeyStatus.DESTROYED) is False  # not pending
    assert sql_vault.keys.recover(tenant, older_than=timedelta(0)) == [2]
    assert provider.find_keks(tenant, 2) == []  # the orphan left the key file
    assert store.settle_kek(tenant, 2, KeyStatus.ACTIVE, "late") is False  # swept first
    statuses = {k.version: (k.status, k.key_ref) for k in store.list_keks(tenant)}
    assert statuses[2] == (KeyStatus.DESTROYED, "")
    assert statuses[1][0] is KeyStatus.ACTIVE
    assert sql_vault.keys.rotate_kek(tenant).version == 3


def test_subject_indexes_persist_and_go_with_the_subject(
    db: Database, sql_vault: Vault, provider: CountingProvider, tenant_a: TenantContext
) -> None:
    tenant = tenant_a.tenant_id
    sql_vault.create_tenant(tenant)
    sql_vault.index_subject(
        tenant, "cust-1", "email", "Ann@example.com", normalizer=normalize_email
    )
    sql_vault.index_subject(
        tenant, "cust-2", "email", "bob@example.com", normalizer=normalize_email
    )
    sql_vault.index_subject(
        tenant, "cust-1", "email", "ann@example.com", normalizer=normalize_email
    )
    fresh = Vault(SqlKeyringStore(db), [CountingProvider(provider.path)])
    find = fresh.find_subjects
    assert find(tenant, "email", "ANN@example.com", normalizer=normalize_email) == ["cust-1"]
    tag = fresh.blind_index(tenant, "email", "ann@example.com", normalizer=normalize_email)
    (entry,) = fresh.keys.store.find_subject_index(tenant, "email", "exact", tag)
    assert fresh.shred_subject(tenant, "cust-1", reason="GDPR") == 1
    assert fresh.keys.store.find_subject_index(tenant, "email", "exact", tag) == []
    fresh.keys.store.add_subject_index(entry)  # restored from a backup
    assert find(tenant, "email", "ann@example.com", normalizer=normalize_email) == []
    assert find(tenant, "email", "bob@example.com", normalizer=normalize_email) == ["cust-2"]
