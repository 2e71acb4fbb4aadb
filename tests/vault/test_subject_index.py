"""Blind indexes of data subjects go with the subject's key (GDPR erasure)."""

from __future__ import annotations

import pytest

from rempart.types import TenantId
from rempart.vault import Vault, VaultAction, VaultEvent, normalize_email, normalize_phone
from rempart.vault.lookup import subject_verifier
from rempart.vault.records import SubjectIndexRecord, subject_key_id
from tests.vault.conftest import OTHER, TENANT, ctx

PHONE_WAYS = ("+33 6 12 34 56 78", "06.12.34.56.78", "0033612345678")


class OwnerIndex:
    """A data owner's own table of blind indexes (e.g. customers.phone_index)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[TenantId, str], bytes] = {}
        self.fail = False

    def purge_subject(self, tenant: TenantId, subject: str) -> int:
        if self.fail:
            raise RuntimeError("owner store unreachable")
        return int(self.rows.pop((tenant, subject), None) is not None)


def index_alice(vault: Vault) -> None:
    vault.index_subject(TENANT, "alice", "phone", PHONE_WAYS[0], normalizer=normalize_phone)
    vault.index_subject(TENANT, "alice", "email", "Alice@Example.com", normalizer=normalize_email)
    vault.index_subject(TENANT, "bob", "phone", "+33 7 00 00 00 01", normalizer=normalize_phone)


def test_a_subject_is_found_by_a_phone_number_written_any_way(vault: Vault) -> None:
    index_alice(vault)
    for way in PHONE_WAYS:
        assert vault.find_subjects(TENANT, "phone", way, normalizer=normalize_phone) == ["alice"]
    assert vault.find_subjects(
        TENANT, "email", "alice@example.com", normalizer=normalize_email
    ) == ["alice"]
    assert (
        vault.find_subjects(TENANT, "phone", "+33 6 99 99 99 99", normalizer=normalize_phone) == []
    )
    # Another tenant finds nothing with the same value.
    assert vault.find_subjects(OTHER, "phone", PHONE_WAYS[0], normalizer=normalize_phone) == []


def test_shredding_a_subject_removes_its_blind_indexes(
    vault: Vault, events: list[VaultEvent]
) -> None:
    index_alice(vault)
    owner = OwnerIndex()
    owner.rows[(TENANT, "alice")] = vault.blind_index(
        TENANT, "phone", PHONE_WAYS[0], normalizer=normalize_phone
    )
    vault.register_subject_index(owner)
    ct = vault.encrypt_field(ctx(), b"+33612345678", subject="alice")
    stored = vault.keys.store.find_subject_index(
        TENANT,
        "phone",
        "exact",
        vault.blind_index(TENANT, "phone", PHONE_WAYS[0], normalizer=normalize_phone),
    )
    assert [e.subject for e in stored] == ["alice"]
    old = stored[0]

    vault.shred_subject(TENANT, "alice", reason="GDPR art. 17")

    for way in PHONE_WAYS:
        assert vault.find_subjects(TENANT, "phone", way, normalizer=normalize_phone) == []
    assert (
        vault.find_subjects(TENANT, "email", "alice@example.com", normalizer=normalize_email) == []
    )
    assert owner.rows == {}  # the registered holder purged its entry
    (shredded,) = [e for e in events if e.action is VaultAction.SUBJECT_SHREDDED]
    assert shredded.details["indexes_purged"] == "3"  # two of the vault's, one of the owner's
    # Other subjects are untouched.
    assert vault.find_subjects(TENANT, "phone", "07 00 00 00 01", normalizer=normalize_phone) == [
        "bob"
    ]

    # A copy of the entry restored from a backup matches nothing: its verifier was
    # made under the destroyed key and cannot be recomputed.
    vault.keys.store.add_subject_index(old)
    assert vault.find_subjects(TENANT, "phone", PHONE_WAYS[1], normalizer=normalize_phone) == []
    # The subject coming back gets a new key: the old verifier is not what it gives.
    vault.index_subject(TENANT, "alice", "phone", PHONE_WAYS[0], normalizer=normalize_phone)
    new_key = vault.keys.active_key(TENANT, subject_key_id("alice"))
    assert new_key.version == old.key_version + 1
    again = subject_verifier(
        new_key, "phone", PHONE_WAYS[0], index="exact", normalizer=normalize_phone
    )
    assert again != old.verifier
    assert vault.find_subjects(TENANT, "phone", PHONE_WAYS[2], normalizer=normalize_phone) == [
        "alice"
    ]  # the new entry only
    # And the old value stays unreadable.
    with pytest.raises(Exception, match="Cryptographic operation failed"):
        vault.decrypt_field(ctx(), ct)


def test_a_holder_that_fails_stops_the_shredding_before_any_key_is_destroyed(
    vault: Vault,
) -> None:
    index_alice(vault)
    ct = vault.encrypt_field(ctx(), b"x", subject="alice")
    owner = OwnerIndex()
    owner.fail = True
    vault.register_subject_index(owner)
    with pytest.raises(RuntimeError, match="unreachable"):
        vault.shred_subject(TENANT, "alice", reason="GDPR")
    assert vault.decrypt_field(ctx(), ct) == b"x"  # nothing destroyed: repeat later
    owner.fail = False
    assert vault.shred_subject(TENANT, "alice", reason="GDPR") == 1
    assert vault.find_subjects(TENANT, "phone", PHONE_WAYS[0], normalizer=normalize_phone) == []


def test_an_entry_with_a_forged_verifier_is_not_found(vault: Vault) -> None:
    index_alice(vault)
    tag = vault.blind_index(TENANT, "phone", PHONE_WAYS[0], normalizer=normalize_phone)
    (entry,) = vault.keys.store.find_subject_index(TENANT, "phone", "exact", tag)
    vault.keys.store.add_subject_index(
        SubjectIndexRecord(
            TENANT, "mallory", "phone", "exact", tag, entry.verifier, 1, entry.created_at
        )
    )
    # mallory's key (created for the lookup) does not give alice's verifier.
    vault.encrypt_field(ctx(), b"m", subject="mallory")
    assert vault.find_subjects(TENANT, "phone", PHONE_WAYS[0], normalizer=normalize_phone) == [
        "alice"
    ]


def test_shredding_the_tenant_removes_every_subject_index(vault: Vault) -> None:
    index_alice(vault)
    tag = vault.blind_index(TENANT, "phone", PHONE_WAYS[0], normalizer=normalize_phone)
    assert vault.keys.store.find_subject_index(TENANT, "phone", "exact", tag)
    vault.shred_tenant(TENANT, reason="off-boarding")
    assert vault.keys.store.find_subject_index(TENANT, "phone", "exact", tag) == []
