"""Key hierarchy, rotation, re-wrap, retirement, the GCM usage limit and crypto-shredding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault import (
    DATA_KEY,
    KeyStateConflict,
    KeyStatus,
    MemoryKeyringStore,
    RewrapProgress,
    UnknownKey,
    Vault,
    VaultAction,
    VaultEvent,
)
from rempart.vault.keyring import wrap_aad
from rempart.vault.records import KekRecord
from tests.vault.conftest import OTHER, TENANT, CountingProvider, VaultFactory, ctx


def raw_dek(vault: Vault, tenant: TenantId, key_id: str, version: int) -> bytes:
    """Unwrap a DEK straight from the provider (what an attacker with the KEK could do)."""
    dek = vault.keys.store.get_dek(tenant, key_id, version)
    assert dek is not None
    assert dek.wrapped is not None
    kek = next(k for k in vault.keys.store.list_keks(tenant) if k.version == dek.kek_version)
    return vault.keys.providers[kek.provider].unwrap(
        kek.key_ref, dek.wrapped, wrap_aad(tenant, key_id, version, kek.version)
    )


def test_tenant_creation_makes_a_kek_and_wrapped_data_and_index_keys(vault: Vault) -> None:
    keks = vault.keys.store.list_keks(TENANT)
    assert [(k.version, k.status) for k in keks] == [(1, KeyStatus.ACTIVE)]
    deks = vault.keys.store.list_deks(TENANT)
    assert [(d.key_id, d.version, d.kek_version) for d in deks] == [("data", 1, 1), ("index", 1, 1)]
    assert all(d.wrapped is not None and len(d.wrapped) == 12 + 32 + 16 for d in deks)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=4, unique=True))
def test_two_tenants_never_share_a_dek(make_vault: VaultFactory, names: list[str]) -> None:
    vault = make_vault()
    tenants = [TenantId(f"prop-{n}") for n in names]
    for t in tenants:
        if vault.keys.store.get_tenant(t) is None:
            vault.create_tenant(t)
    keys = [raw_dek(vault, t, k, 1) for t in tenants for k in ("data", "index")]
    assert len(set(keys)) == len(keys)


def test_a_wrapped_dek_does_not_unwrap_under_another_identity(vault: Vault) -> None:
    dek = vault.keys.store.get_dek(TENANT, DATA_KEY, 1)
    assert dek is not None
    assert dek.wrapped is not None
    kek = vault.keys.active_kek(TENANT)
    provider = vault.keys.providers["local"]
    for aad in (
        wrap_aad(OTHER, DATA_KEY, 1, 1),
        wrap_aad(TENANT, "index", 1, 1),
        wrap_aad(TENANT, DATA_KEY, 2, 1),
    ):
        with pytest.raises(CryptoError):
            provider.unwrap(kek.key_ref, dek.wrapped, aad)


def test_rotated_dek_encrypts_with_the_new_version_and_old_data_still_decrypts(
    vault: Vault,
) -> None:
    old = vault.encrypt_field(ctx(), b"before")
    vault.keys.rotate_dek(TENANT)
    new = vault.encrypt_field(ctx(), b"after")
    assert int.from_bytes(new[8:12], "big") == 2
    assert vault.decrypt_field(ctx(), old) == b"before"
    assert vault.decrypt_field(ctx(), new) == b"after"
    statuses = {d.version: d.status for d in vault.keys.store.list_deks(TENANT, DATA_KEY)}
    assert statuses == {1: KeyStatus.DECRYPT_ONLY, 2: KeyStatus.ACTIVE}


def test_retired_dek_version_no_longer_decrypts_and_its_wrapping_is_wiped(vault: Vault) -> None:
    old = vault.encrypt_field(ctx(), b"before")
    with pytest.raises(KeyStateConflict):
        vault.keys.retire_dek(TENANT, DATA_KEY, 1)  # the active version
    vault.keys.rotate_dek(TENANT)
    vault.keys.retire_dek(TENANT, DATA_KEY, 1)
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx(), old)
    record = vault.keys.store.get_dek(TENANT, DATA_KEY, 1)
    assert record is not None
    assert record.wrapped is None
    with pytest.raises(UnknownKey):
        vault.keys.retire_dek(TENANT, DATA_KEY, 42)


def test_kek_rotation_and_rewrap_keep_every_dek_usable(vault: Vault) -> None:
    cts = [vault.encrypt_field(ctx(str(i)), b"x", subject=f"s{i}") for i in range(30)]
    vault.keys.rotate_kek(TENANT)
    progress: list[RewrapProgress] = []
    report = vault.keys.rewrap(TENANT, batch_size=7, progress=progress.append)
    assert (report.rewrapped, report.remaining, report.target_kek) == (32, 0, 2)
    assert [p.done for p in progress] == [7, 14, 21, 28, 32]
    assert all(p.total == 32 for p in progress)
    assert {d.kek_version for d in vault.keys.store.list_deks(TENANT)} == {2}
    vault.keys.cache.clear()
    for i, ct in enumerate(cts):
        assert vault.decrypt_field(ctx(str(i)), ct) == b"x"
    vault.keys.retire_kek(TENANT, 1)
    assert vault.keys.store.list_keks(TENANT)[0].status is KeyStatus.RETIRED


def test_rewrap_resumes_after_a_crash_and_old_kek_cannot_retire_meanwhile(
    vault: Vault, provider: CountingProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    cts = [vault.encrypt_field(ctx(str(i)), b"v", subject=f"s{i}") for i in range(20)]
    vault.keys.rotate_kek(TENANT)
    real_wrap = provider.wrap
    calls = {"n": 0}

    def crashing_wrap(key_ref: str, dek: bytes, aad: bytes) -> bytes:
        calls["n"] += 1
        if calls["n"] == 13:
            raise OSError("process killed")
        return real_wrap(key_ref, dek, aad)

    monkeypatch.setattr(provider, "wrap", crashing_wrap)
    with pytest.raises(OSError, match="killed"):
        vault.keys.rewrap(TENANT, batch_size=5)
    monkeypatch.setattr(provider, "wrap", real_wrap)
    # Half done: 10 DEKs moved (two whole batches), the rest still under KEK 1, all usable.
    assert vault.keys.store.count_deks_under_kek(TENANT, 1) == 12
    with pytest.raises(KeyStateConflict):
        vault.keys.retire_kek(TENANT, 1)
    vault.keys.cache.clear()
    assert all(vault.decrypt_field(ctx(str(i)), c) == b"v" for i, c in enumerate(cts))
    report = vault.keys.rewrap(TENANT, batch_size=5)
    assert (report.rewrapped, report.remaining) == (12, 0)
    vault.keys.retire_kek(TENANT, 1)
    vault.keys.cache.clear()
    assert all(vault.decrypt_field(ctx(str(i)), c) == b"v" for i, c in enumerate(cts))


def test_max_batches_stops_a_job_that_a_later_run_finishes(vault: Vault) -> None:
    for i in range(10):
        vault.encrypt_field(ctx(), b"v", subject=f"s{i}")
    vault.keys.rotate_kek(TENANT)
    first = vault.keys.rewrap(TENANT, batch_size=4, max_batches=1)
    assert (first.rewrapped, first.remaining) == (4, 8)
    second = vault.keys.rewrap(TENANT, batch_size=4)
    assert (second.rewrapped, second.remaining) == (8, 0)


def test_encryptions_are_counted_and_the_key_rotates_before_the_gcm_limit(
    make_vault: VaultFactory,
) -> None:
    vault = make_vault(rotate_after_encryptions=10_000)
    vault.keys.reservation_block = 1000
    vault.create_tenant(TENANT)
    cts = [vault.encrypt_field(ctx(str(i)), b"v") for i in range(25_000)]
    versions = [int.from_bytes(c[8:12], "big") for c in cts]
    assert versions[0] == 1
    assert versions[-1] == 3
    for v in (1, 2):
        assert versions.count(v) <= 10_000
        record = vault.keys.store.get_dek(TENANT, DATA_KEY, v)
        assert record is not None
        assert record.encryptions <= 10_000 + 1000
    assert vault.decrypt_field(ctx("0"), cts[0]) == b"v"


def test_a_limit_smaller_than_the_reservation_block_is_honoured_exactly(
    make_vault: VaultFactory,
) -> None:
    vault = make_vault(rotate_after_encryptions=100)
    vault.create_tenant(TENANT)
    cts = [vault.encrypt_field(ctx(str(i)), b"v") for i in range(250)]
    versions = [int.from_bytes(c[8:12], "big") for c in cts]
    counts = [versions.count(v) for v in sorted(set(versions))]
    assert len(counts) == 3
    # Never past the limit; a failed budget check costs a count, so a few fewer is fine.
    assert all(95 <= n <= 100 for n in counts[:2])


def test_rotation_limit_must_stay_below_two_to_the_32(make_vault: VaultFactory) -> None:
    with pytest.raises(ValueError, match="2\\^32"):
        make_vault(rotate_after_encryptions=1 << 32)


def test_scheduled_rotation_rotates_only_what_is_due(make_vault: VaultFactory) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    vault = make_vault(clock=lambda: now[0])
    vault.create_tenant(TENANT)
    assert vault.keys.rotate_due(TENANT, dek_max_age=timedelta(days=30)) == []
    now[0] += timedelta(days=31)
    done = vault.keys.rotate_due(
        TENANT, dek_max_age=timedelta(days=30), kek_max_age=timedelta(days=365)
    )
    assert done == ["data"]
    now[0] += timedelta(days=365)
    assert vault.keys.rotate_due(
        TENANT, dek_max_age=timedelta(days=900), kek_max_age=timedelta(days=365)
    ) == ["kek"]
    assert vault.keys.active_kek(TENANT).version == 2
    assert vault.keys.store.count_deks_under_kek(TENANT, 1) == 0


def test_shredding_a_tenant_makes_its_data_provably_unreadable(
    vault: Vault, provider: CountingProvider, events: list[VaultEvent]
) -> None:
    ct = vault.encrypt_field(ctx(), b"secret")
    other = vault.encrypt_field(ctx(tenant=OTHER), b"kept")
    kek = vault.keys.active_kek(TENANT)
    stolen = vault.keys.store.get_dek(TENANT, DATA_KEY, 1)  # a backup copy of the wrapped DEK
    assert stolen is not None
    assert stolen.wrapped is not None
    vault.shred_tenant(TENANT, reason="off-boarding")
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx(), ct)
    # The wrapped DEKs are gone from the store...
    assert all(
        d.wrapped is None and d.status is KeyStatus.DESTROYED
        for d in vault.keys.store.list_deks(TENANT)
    )
    # ...and even a backup of them cannot be unwrapped: the KEK no longer exists.
    with pytest.raises(CryptoError):
        provider.unwrap(kek.key_ref, stolen.wrapped, wrap_aad(TENANT, DATA_KEY, 1, 1))
    assert f"{TENANT}/v1" not in provider.path.read_text()
    with pytest.raises(KeyStateConflict):
        vault.keys.rotate_kek(TENANT)
    assert vault.decrypt_field(ctx(tenant=OTHER), other) == b"kept"
    assert events[-1].action is VaultAction.TENANT_SHREDDED
    assert events[-1].details == {"reason": "off-boarding"}
    vault.shred_tenant(TENANT, reason="again")  # idempotent


def test_shredding_a_subject_leaves_the_rest_of_the_tenant_readable(
    vault: Vault, events: list[VaultEvent]
) -> None:
    mine = vault.encrypt_field(ctx("r1"), b"subject's", subject="cust-42")
    theirs = vault.encrypt_field(ctx("r2"), b"other's", subject="cust-7")
    shared = vault.encrypt_field(ctx("r3"), b"tenant's")
    assert vault.shred_subject(TENANT, "cust-42", reason="GDPR art. 17") == 1
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx("r1"), mine)
    assert vault.decrypt_field(ctx("r2"), theirs) == b"other's"
    assert vault.decrypt_field(ctx("r3"), shared) == b"tenant's"
    event = events[-1]
    assert (event.action, event.key_id, event.details["reason"]) == (
        VaultAction.SUBJECT_SHREDDED,
        "subject:cust-42",
        "GDPR art. 17",
    )
    # New data for a returning subject gets a new key version; the old data stays lost.
    again = vault.encrypt_field(ctx("r4"), b"new", subject="cust-42")
    assert int.from_bytes(again[4 + again[3] : 8 + again[3]], "big") == 2
    with pytest.raises(CryptoError):
        vault.decrypt_field(ctx("r1"), mine)


def test_key_changes_are_reported_to_the_audit_hook(vault: Vault, events: list[VaultEvent]) -> None:
    vault.keys.rotate_dek(TENANT)
    vault.keys.rotate_kek(TENANT)
    vault.keys.rewrap(TENANT)
    actions = [e.action for e in events if e.tenant == TENANT]
    assert actions[:4] == [
        VaultAction.KEK_CREATED,
        VaultAction.TENANT_CREATED,
        VaultAction.DEK_CREATED,
        VaultAction.DEK_CREATED,
    ]
    assert actions[4:] == [
        VaultAction.DEK_CREATED,
        VaultAction.KEK_CREATED,
        VaultAction.REWRAP_COMPLETED,
    ]
    assert all(b"\x00" not in repr(e).encode() for e in events)


def test_unknown_provider_and_unknown_tenant_are_precise_errors(vault: Vault) -> None:
    with pytest.raises(UnknownKey, match="provider"):
        vault.create_tenant(TenantId("t"), provider="nope")
    with pytest.raises(UnknownKey):
        vault.keys.rotate_dek(TenantId("nobody"))
    with pytest.raises(KeyStateConflict):
        vault.create_tenant(TENANT)


def test_store_is_the_only_state_a_second_vault_needs(
    vault: Vault, provider: CountingProvider
) -> None:
    ct = vault.encrypt_field(ctx(), b"persisted")
    store = vault.keys.store
    assert isinstance(store, MemoryKeyringStore)
    fresh = Vault(store, [CountingProvider(provider.path)])
    assert fresh.decrypt_field(ctx(), ct) == b"persisted"


def test_recovery_finishes_a_kek_rotation_interrupted_after_its_confirmation(
    vault: Vault, provider: CountingProvider
) -> None:
    ct = vault.encrypt_field(ctx(), b"before")
    # The crash: KEK v2 confirmed active, KEK v1 not yet demoted.
    ref = provider.create_kek(TENANT, 2)
    vault.keys.store.add_kek(
        KekRecord(TENANT, 2, provider.name, ref, KeyStatus.ACTIVE, datetime.now(UTC))
    )
    assert [k.status for k in vault.keys.store.list_keks(TENANT)] == [KeyStatus.ACTIVE] * 2
    assert vault.keys.recover(TENANT) == []
    statuses = {k.version: k.status for k in vault.keys.store.list_keks(TENANT)}
    assert statuses == {1: KeyStatus.DECRYPT_ONLY, 2: KeyStatus.ACTIVE}
    assert vault.keys.rewrap(TENANT).remaining == 0
    vault.keys.retire_kek(TENANT, 1)
    vault.keys.cache.clear()
    assert vault.decrypt_field(ctx(), ct) == b"before"
