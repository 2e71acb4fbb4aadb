"""Article 17: after erasure nothing about the subject is readable or findable, other
people's data is intact, the run is resumable and idempotent, and legal holds refuse it."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rempart.audit import AuditRecord, Ed25519Signer, verifier_key
from rempart.contact.models import (
    Customer,
    CustomerLookup,
    Interaction,
    Recording,
    TranscriptSegment,
)
from rempart.contact.subjects import LookupKind, find_customers
from rempart.errors import CryptoError
from rempart.privacy import (
    DirectoryExportStore,
    LegalHoldActive,
    Selector,
    StoredMedia,
    SubjectNotFound,
    erase_subject,
    export_subject,
    find,
    inventory,
    read_stored_export,
    verify_certificate,
)
from rempart.privacy.erasure import CERTIFIED, SHREDDED, ErasureResult
from rempart.privacy.export import stored_context
from rempart.privacy.models import ErasureRequest, PrivacyExport
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.privacy.conftest import FAST_KDF, ORIGIN, PASSPHRASE, Seeded, seed_customer
from tests.privacy.helpers import audit_entries


def _erase(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    who: Seeded,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
    media: StoredMedia | None = None,
    **kwargs: object,
) -> ErasureResult:
    return erase_subject(
        db,
        vault,
        ctx,
        who.customer,
        reason="GDPR art. 17 request #42",
        origin=ORIGIN,
        signer=signer,
        store=store,
        media=media,
        **kwargs,  # type: ignore[arg-type]
    )


def _export(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    who: Seeded,
    store: DirectoryExportStore,
    media: StoredMedia | None = None,
) -> tuple[str, str]:
    result = export_subject(
        db,
        vault,
        ctx,
        who.customer,
        io.BytesIO(),
        passphrase=PASSPHRASE,
        origin=ORIGIN,
        store=store,
        media=media,
        log2_n=FAST_KDF,
    )
    return result.export_id, result.location


def _all_decrypt(vault: Vault, who: Seeded) -> bool:
    return all(vault.decrypt_field(ctx, ct) for ctx, ct in who.ciphertexts)


def _nothing_decrypts(vault: Vault, who: Seeded) -> None:
    for ctx, ct in who.ciphertexts:
        with pytest.raises(CryptoError):
            vault.decrypt_field(ctx, ct)


def _rows_of(session: Session, customer: str) -> dict[str, int]:
    interactions = select(Interaction.id).where(Interaction.customer_id == customer)
    return {
        "interactions": session.scalar(select(func.count()).select_from(interactions.subquery()))
        or 0,
        "segments": session.scalar(
            select(func.count()).where(TranscriptSegment.interaction_id.in_(interactions))
        )
        or 0,
        "recordings": session.scalar(
            select(func.count()).where(Recording.interaction_id.in_(interactions))
        )
        or 0,
        "lookups": session.scalar(
            select(func.count()).where(CustomerLookup.customer_id == customer)
        )
        or 0,
    }


def test_after_erasure_nothing_of_the_subject_is_readable_or_findable(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
    media: StoredMedia,
) -> None:
    alice = seed_customer(db, vault, tenant_a, media_store=media.store)
    bob = seed_customer(db, vault, tenant_a, phone="+33 7 11 22 33 44", media_store=media.store)
    export_id, location = _export(db, vault, tenant_a, alice, store, media)
    stored_copy = (store.root / location).read_bytes()  # what a backup would still hold
    media_copies = {
        rid: media.store.paths(alice.tenant, rid).original.read_bytes() for rid in alice.recordings
    }

    result = _erase(db, vault, tenant_a, alice, signer, store, media)

    assert result.complete
    assert result.counts == {
        "interactions": 2,
        "segments": 4,
        "originals": 2 * 2 + 2,
        "recordings": 2,
        "media_objects": 4,
        "payment_captures": 0,
        "lookups": 2,
        "exports": 1,
        "customer_records": 1,
    }
    # Every ciphertext of theirs, and copies a backup kept, fail to decrypt.
    _nothing_decrypts(vault, alice)
    with pytest.raises(CryptoError):
        vault.decrypt_stream(
            stored_context(tenant_a.tenant_id, export_id), io.BytesIO(stored_copy), io.BytesIO()
        )
    for rid, copy in media_copies.items():
        with pytest.raises(CryptoError):
            vault.decrypt_stream(
                media.context_of(alice.tenant, rid, "original"), io.BytesIO(copy), io.BytesIO()
            )
    # The files are gone.
    assert not (store.root / location).exists()
    assert not any(media.store.exists(alice.tenant, rid) for rid in alice.recordings)
    with pytest.raises(FileNotFoundError):
        read_stored_export(vault, store, tenant_a.tenant_id, export_id, location, io.BytesIO())
    # Nothing finds them, nothing is left in their rows.
    with db.tenant_session(tenant_a) as session:
        for kind, value in (
            (LookupKind.CUSTOMER_ID, alice.external_id),
            (LookupKind.PHONE, alice.phone),
            (LookupKind.EMAIL, alice.email),
        ):
            assert find_customers(session, vault, kind, value) == []
        assert find(session, vault, Selector(phone=alice.phone)) == []
        assert find(session, vault, Selector(ref=alice.customer)) == []
        assert _rows_of(session, alice.customer) == {
            "interactions": 0,
            "segments": 0,
            "recordings": 0,
            "lookups": 0,
        }
        row = session.get(Customer, alice.customer)
        assert row is not None
        assert row.erased_at is not None
        assert (row.id_index, row.external_id_ct, row.external_id) == (None, None, None)
        export_row = session.get(PrivacyExport, export_id)
        assert export_row is not None
        assert (export_row.location, export_row.erased_at is not None) == (None, True)
        left = inventory(session, alice.customer)
        assert left.totals() == {
            "interactions": 0,
            "segments": 0,
            "originals": 0,
            "recordings": 0,
            "identifiers": 0,
            "exports": 0,
        }
    # Bob, in the same tenant, is untouched.
    assert _all_decrypt(vault, bob)
    assert all(media.store.exists(bob.tenant, rid) for rid in bob.recordings)
    with db.tenant_session(tenant_a) as session:
        assert [i.customer for i in find(session, vault, Selector(phone=bob.phone))] == [
            bob.customer
        ]
        assert _rows_of(session, bob.customer) == {
            "interactions": 2,
            "segments": 4,
            "recordings": 2,
            "lookups": 2,
        }


def test_the_certificate_verifies_and_names_nobody(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    result = _erase(db, vault, tenant_a, alice, signer, store)
    assert result.certificate is not None
    cert = verify_certificate(result.certificate, verifier_key(signer))
    assert cert["tenant"] == tenant_a.tenant_id
    assert cert["request_id"] == result.request_id
    assert cert["subject"] == result.subject
    assert cert["subject"].startswith("psn_")
    assert cert["counts"] == result.counts
    assert cert["key_versions_destroyed"] == [1]
    for clear in (
        alice.external_id,
        alice.email,
        alice.phone,
        "12 34 56 78",
        alice.customer,
        "GDPR art. 17 request #42",
    ):
        assert clear not in result.certificate
    # It names the audit entry of the completion, which is in the tenant's log.
    with db.tenant_session(tenant_a) as session:
        record = session.get(AuditRecord, cert["audit_entry"]["id"])
        assert record is not None
        assert record.action == "privacy.erasure.complete"
        assert record.seq == cert["audit_entry"]["seq"]
        assert record.resource_id == result.request_id


def test_tampered_certificates_fail(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    from rempart.privacy import CertificateInvalid

    alice = seed_customer(db, vault, tenant_a)
    text = _erase(db, vault, tenant_a, alice, signer, store).certificate
    assert text is not None
    key = verifier_key(signer)
    doc = json.loads(text)
    for path, value in (
        (("counts", "interactions"), 0),
        (("subject",), "psn_AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        (("key_versions_destroyed",), []),
        (("completed_at",), "2020-01-01T00:00:00Z"),
        (("audit_entry", "seq"), 0),
    ):
        tampered = json.loads(text)
        target = tampered["certificate"]
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        with pytest.raises(CertificateInvalid):
            verify_certificate(json.dumps(tampered), key)
    # Re-indenting changes nothing; another key fails; garbage fails.
    assert verify_certificate(json.dumps(doc, indent=7), key) == doc["certificate"]
    with pytest.raises(CertificateInvalid):
        verify_certificate(text, verifier_key(Ed25519Signer.generate("rempart-audit")))
    with pytest.raises(CertificateInvalid):
        verify_certificate("not json", key)
    with pytest.raises(CertificateInvalid):
        verify_certificate(text, "not a key")


def test_erasure_is_idempotent(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    first = _erase(db, vault, tenant_a, alice, signer, store)
    entries = len(audit_entries(db, tenant_a))
    again = _erase(db, vault, tenant_a, alice, signer, store)
    assert again == first
    assert len(audit_entries(db, tenant_a)) == entries
    with db.tenant_session(tenant_a) as session:
        assert session.scalar(select(func.count()).select_from(ErasureRequest)) == 1


def test_a_stopped_erasure_resumes_to_the_same_result(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
    media: StoredMedia,
) -> None:
    alice = seed_customer(db, vault, tenant_a, interactions=5, media_store=media.store)
    _export(db, vault, tenant_a, alice, store, media)
    # Stopped right after shredding: already unreadable, rows still there.
    stopped = _erase(db, vault, tenant_a, alice, signer, store, media, max_batches=0)
    assert stopped.status == SHREDDED
    assert stopped.certificate is None
    _nothing_decrypts(vault, alice)
    with db.tenant_session(tenant_a) as session:
        assert _rows_of(session, alice.customer)["interactions"] == 5
    # Two interactions per batch, one batch per call, until done.
    calls = 0
    result = stopped
    while not result.complete:
        result = _erase(
            db, vault, tenant_a, alice, signer, store, media, batch_size=2, max_batches=1
        )
        calls += 1
        assert calls < 20
    assert calls == 3 + 1 + 1 + 1  # interactions 2+2+1, lookups, exports, then certify
    assert result.status == CERTIFIED
    assert result.counts["interactions"] == 5
    assert result.counts["segments"] == 10
    assert result.counts["media_objects"] == 10
    assert result.counts["lookups"] == 2
    assert result.counts["exports"] == 1
    assert result.key_versions == [1]
    assert result.certificate is not None
    verify_certificate(result.certificate, verifier_key(signer))
    actions = [e["action"] for e in audit_entries(db, tenant_a, "privacy.erasure")]
    assert actions[0] == "privacy.erasure.start"
    assert actions[1] == "privacy.erasure.shred"
    assert actions[-1] == "privacy.erasure.complete"
    assert actions.count("privacy.erasure.delete") == 5


class Holds:
    """A legal-hold check holding whatever it is told to (a real implementation of the port)."""

    def __init__(self, held: Sequence[str]) -> None:
        self.held = list(held)
        self.asked: list[tuple[str, list[str]]] = []

    def holds_for(
        self, session: Session, *, customer_id: str, interaction_ids: Sequence[str]
    ) -> Sequence[str]:
        self.asked.append((customer_id, sorted(interaction_ids)))
        return self.held


def test_a_legal_hold_refuses_erasure_and_changes_nothing(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    holds = Holds(["hold-7"])
    with pytest.raises(LegalHoldActive) as info:
        _erase(db, vault, tenant_a, alice, signer, store, holds=holds)
    assert "17(3)(e)" in info.value.detail
    assert info.value.extensions == {"holds": ["hold-7"]}
    assert holds.asked == [(alice.customer, sorted(alice.interactions))]
    assert _all_decrypt(vault, alice)
    with db.tenant_session(tenant_a) as session:
        assert session.scalars(select(ErasureRequest)).all() == []
        assert [
            i.customer for i in find(session, vault, Selector(customer_id=alice.external_id))
        ] == [alice.customer]
    (failure,) = audit_entries(db, tenant_a)
    assert failure["action"] == "privacy.erasure.start"
    assert failure["outcome"] == "failure"
    assert failure["reason"] == "legal-hold-active"
    # Once the hold is released, the erasure goes through.
    holds.held = []
    assert _erase(db, vault, tenant_a, alice, signer, store, holds=holds).complete


def test_another_tenant_cannot_erase_this_ones_customer(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    tenant_b: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    with pytest.raises(SubjectNotFound):
        _erase(db, vault, tenant_b, alice, signer, store)
    assert _all_decrypt(vault, alice)
    with db.tenant_session(tenant_a) as session:
        assert _rows_of(session, alice.customer)["interactions"] == 2


def test_erasure_audit_entries_carry_counts_never_content(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    _erase(db, vault, tenant_a, alice, signer, store)
    entries = audit_entries(db, tenant_a, "privacy.erasure")
    assert entries
    complete = entries[-1]
    assert complete["details"]["interactions"] == 2
    assert complete["details"]["key_versions"] == 1
    for entry in entries:
        for clear in (alice.external_id, alice.email, "12 34 56 78", *alice.texts):
            assert clear not in entry["entry"]


def test_certificate_files_survive_in_the_request_row(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
    tmp_path: Path,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    result = _erase(db, vault, tenant_a, alice, signer, store)
    with db.tenant_session(tenant_a) as session:
        row = session.scalars(select(ErasureRequest)).one()
        assert row.certificate == result.certificate
        assert row.status == CERTIFIED
        assert row.audit_record_id is not None


def test_every_version_of_a_rotated_subject_key_is_destroyed(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    from rempart.contact.subjects import subject_of
    from rempart.vault.records import subject_key_id

    alice = seed_customer(db, vault, tenant_a)
    vault.keys.rotate_dek(tenant_a.tenant_id, subject_key_id(subject_of(alice.customer)))
    later = seed_customer(db, vault, tenant_a)  # another customer: keys of their own
    result = _erase(db, vault, tenant_a, alice, signer, store)
    assert result.key_versions == [1, 2]
    assert result.certificate is not None
    assert verify_certificate(result.certificate, verifier_key(signer))[
        "key_versions_destroyed"
    ] == [1, 2]
    _nothing_decrypts(vault, alice)
    assert _all_decrypt(vault, later)


def test_a_customer_being_erased_cannot_be_exported(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    assert _erase(db, vault, tenant_a, alice, signer, store, max_batches=0).status == SHREDDED
    with pytest.raises(SubjectNotFound):
        _export(db, vault, tenant_a, alice, store)


def test_payment_captures_of_the_subjects_calls_are_erased_and_counted(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    from rempart.contact.payments.config import PaymentConfig
    from rempart.contact.payments.models import PaymentCapture
    from rempart.contact.payments.service import cancel, open_capture

    alice = seed_customer(db, vault, tenant_a)
    bob = seed_customer(db, vault, tenant_a, phone="+33 7 55 55 55 55")
    for who in (alice, bob):
        with db.tenant_session(tenant_a) as session:
            capture = open_capture(
                session, vault, PaymentConfig(), interaction_id=who.interactions[0], opened_by="t"
            )
            cancel(session, capture.id)
    result = _erase(db, vault, tenant_a, alice, signer, store)
    assert result.counts["payment_captures"] == 1
    with db.tenant_session(tenant_a) as session:
        left = session.scalars(select(PaymentCapture.interaction_id)).all()
    assert left == [bob.interactions[0]]


def test_privacy_tables_are_tenant_scoped(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    tenant_b: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    from sqlalchemy import text

    alice = seed_customer(db, vault, tenant_a)
    _export(db, vault, tenant_a, alice, store)
    bob = seed_customer(db, vault, tenant_a, phone="+33 7 66 66 66 66")
    _erase(db, vault, tenant_a, bob, signer, store)
    with db.tenant_session(tenant_b) as session:
        assert session.scalars(select(PrivacyExport)).all() == []
        assert session.scalars(select(ErasureRequest)).all() == []
        if db.is_postgres:  # row-level security: raw SQL that forgets the tenant sees nothing
            for table in ("privacy_exports", "privacy_erasures"):
                assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0
    with db.tenant_session(tenant_a) as session:
        assert len(session.scalars(select(PrivacyExport)).all()) == 1
        assert len(session.scalars(select(ErasureRequest)).all()) == 1
