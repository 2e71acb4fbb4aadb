"""Rows stored before protection on ingest (identifiers and text in clear) are found,
exported and erased too: crypto-shredding cannot reach them, deletion does."""

from __future__ import annotations

import hashlib
import io

from sqlalchemy import select

from rempart.audit import Ed25519Signer
from rempart.contact.models import Customer, Interaction, TranscriptSegment
from rempart.privacy import DirectoryExportStore, Selector, erase_subject, export_subject, find
from rempart.storage import Database, TenantContext, new_id
from rempart.vault import Vault
from tests.privacy.conftest import FAST_KDF, ORIGIN, PASSPHRASE, T0
from tests.privacy.helpers import as_json, unseal


def _legacy(db: Database, ctx: TenantContext) -> tuple[str, str]:
    customer, interaction = new_id(), new_id()
    with db.tenant_session(ctx) as session:
        session.add(
            Customer(id=customer, tenant_id=ctx.tenant_id, external_id="OLD-991", created_at=T0)
        )
        session.flush()
        session.add(
            Interaction(
                id=interaction,
                tenant_id=ctx.tenant_id,
                external_id="old-call",
                channel="chat",
                direction="inbound",
                subject="vieux dossier",
                customer_id=customer,
                started_at=T0,
                created_at=T0,
                created_by="machine:old",
                content_sha256=hashlib.sha256(b"old").hexdigest(),
            )
        )
        session.flush()
        session.add(
            TranscriptSegment(
                id=new_id(),
                tenant_id=ctx.tenant_id,
                interaction_id=interaction,
                seq=0,
                speaker="customer",
                text="texte en clair d'avant",
            )
        )
    return customer, interaction


def test_legacy_clear_rows_are_found_exported_and_deleted(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    customer, interaction = _legacy(db, tenant_a)
    with db.tenant_session(tenant_a) as session:
        (found,) = find(session, vault, Selector(customer_id="OLD-991"))
    assert found.customer == customer
    assert found.identifiers == {"customer_id_legacy": 1}
    out = io.BytesIO()
    export_subject(
        db,
        vault,
        tenant_a,
        customer,
        out,
        passphrase=PASSPHRASE,
        origin=ORIGIN,
        store=store,
        log2_n=FAST_KDF,
    )
    files = unseal(out.getvalue())
    assert as_json(files["customer.json"])["customer_id"] == "OLD-991"
    doc = as_json(files[f"interactions/{interaction}.json"])
    assert doc["subject"] == "vieux dossier"
    assert doc["segments"][0]["text"] == "texte en clair d'avant"

    result = erase_subject(
        db,
        vault,
        tenant_a,
        customer,
        reason="request 1",
        origin=ORIGIN,
        signer=signer,
        store=store,
    )
    assert result.complete
    assert result.key_versions == [1]  # the export's stored copy created the subject key
    with db.tenant_session(tenant_a) as session:
        row = session.get(Customer, customer)
        assert row is not None
        assert row.external_id is None
        assert session.get(Interaction, interaction) is None
        assert session.scalars(select(TranscriptSegment.text)).all() == []
        assert find(session, vault, Selector(customer_id="OLD-991")) == []
