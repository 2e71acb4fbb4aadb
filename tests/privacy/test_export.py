"""Article 15: the export holds the person's data, sealed for delivery, and a stored copy
sealed under the subject's key; every export is audited without content."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

from rempart.errors import ValidationFailed
from rempart.privacy import (
    DirectoryExportStore,
    StoredMedia,
    SubjectNotFound,
    export_subject,
    read_archive,
    read_stored_export,
)
from rempart.privacy.models import PrivacyExport
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.privacy.conftest import FAST_KDF, ORIGIN, PASSPHRASE, seed_customer
from tests.privacy.helpers import as_json, audit_entries, unseal


def test_the_export_holds_identifiers_transcripts_originals_and_media(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    store: DirectoryExportStore,
    media: StoredMedia,
) -> None:
    alice = seed_customer(db, vault, tenant_a, media_store=media.store)
    out = io.BytesIO()
    result = export_subject(
        db,
        vault,
        tenant_a,
        alice.customer,
        out,
        passphrase=PASSPHRASE,
        origin=ORIGIN,
        store=store,
        media=media,
        log2_n=FAST_KDF,
    )
    blob = out.getvalue()
    assert result.sha256 == hashlib.sha256(blob).hexdigest()
    assert result.size_bytes == len(blob)
    files = unseal(blob)
    customer = as_json(files["customer.json"])
    assert customer["customer_id"] == alice.external_id
    assert {c["kind"]: c["value"] for c in customer["contacts"]} == {
        "phone": alice.phone,
        "email": alice.email,
    }
    docs = [as_json(files[f"interactions/{iid}.json"]) for iid in alice.interactions]
    texts = [s["text"] for d in docs for s in d["segments"]]
    assert texts == alice.texts
    assert all("original" in s for d in docs for s in d["segments"])
    assert {d["subject_original"] for d in docs} == {"Carte 4970 bloquée"}
    for d in docs:
        (rec,) = d["recordings"]
        assert files[rec["file"]] == alice.audio[rec["id"]]
        assert rec["file"].endswith(".original.wav")
    manifest = as_json(files["manifest.json"])
    assert manifest["counts"]["interactions"] == 2
    assert manifest["counts"]["media_files"] == 2
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["name"]]).hexdigest() == entry["sha256"]


def test_redacted_only_customers_get_no_original(
    db: Database, vault: Vault, tenant_a: TenantContext, store: DirectoryExportStore
) -> None:
    bob = seed_customer(db, vault, tenant_a, keep_original=False)
    out = io.BytesIO()
    export_subject(
        db,
        vault,
        tenant_a,
        bob.customer,
        out,
        passphrase=PASSPHRASE,
        origin=ORIGIN,
        store=store,
        log2_n=FAST_KDF,
    )
    files = unseal(out.getvalue())
    for iid in bob.interactions:
        doc = as_json(files[f"interactions/{iid}.json"])
        assert "subject_original" not in doc
        assert all("original" not in s for s in doc["segments"])
        assert [r["file"] for r in doc["recordings"]] == [None]  # no media store: metadata only


def test_the_stored_copy_is_recorded_and_opens_with_the_subject_key_only(
    db: Database, vault: Vault, tenant_a: TenantContext, store: DirectoryExportStore
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    out = io.BytesIO()
    result = export_subject(
        db,
        vault,
        tenant_a,
        alice.customer,
        out,
        passphrase=PASSPHRASE,
        origin=ORIGIN,
        store=store,
        log2_n=FAST_KDF,
    )
    with db.tenant_session(tenant_a) as session:
        row = session.scalars(select(PrivacyExport)).one()
        assert (row.id, row.customer_id, row.sha256) == (
            result.export_id,
            alice.customer,
            result.sha256,
        )
        assert row.location == result.location
        assert row.created_by == "user:dpo@example.test"
    stored_bytes = (store.root / result.location).read_bytes()
    assert row.stored_sha256 == hashlib.sha256(stored_bytes).hexdigest()
    assert alice.external_id.encode() not in stored_bytes
    plain = io.BytesIO()
    read_stored_export(vault, store, tenant_a.tenant_id, result.export_id, result.location, plain)
    plain.seek(0)
    assert read_archive(plain) == unseal(out.getvalue())
    assert (store.root / result.location).stat().st_mode & 0o077 == 0


def test_the_export_is_audited_with_counts_and_no_content(
    db: Database, vault: Vault, tenant_a: TenantContext, store: DirectoryExportStore
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    export_subject(
        db,
        vault,
        tenant_a,
        alice.customer,
        io.BytesIO(),
        passphrase=PASSPHRASE,
        origin=ORIGIN,
        store=store,
        log2_n=FAST_KDF,
    )
    (entry,) = audit_entries(db, tenant_a)
    assert entry["action"] == "privacy.export"
    assert entry["outcome"] == "success"
    assert entry["details"]["interactions"] == 2
    assert entry["details"]["segments"] == 4
    for secret in (alice.external_id, alice.email, PASSPHRASE, *alice.texts):
        assert secret not in entry["entry"]


def test_refusals_unknown_customer_other_tenant_short_passphrase(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    tenant_b: TenantContext,
    store: DirectoryExportStore,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    with pytest.raises(SubjectNotFound):
        export_subject(
            db,
            vault,
            tenant_b,
            alice.customer,
            io.BytesIO(),
            passphrase=PASSPHRASE,
            origin=ORIGIN,
            store=store,
            log2_n=FAST_KDF,
        )
    (failure,) = audit_entries(db, tenant_b)
    assert failure["outcome"] == "failure"
    assert failure["reason"] == "subject-not-found"
    with pytest.raises(ValidationFailed):
        export_subject(
            db,
            vault,
            tenant_a,
            alice.customer,
            io.BytesIO(),
            passphrase="too short",
            origin=ORIGIN,
            store=store,
            log2_n=FAST_KDF,
        )
    with db.tenant_session(tenant_a) as session:
        assert session.scalars(select(PrivacyExport)).all() == []
    assert not store.root.exists() or not any(store.root.rglob("*.rse"))
