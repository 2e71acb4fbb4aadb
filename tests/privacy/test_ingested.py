"""End to end through the real pipeline: interactions ingested with protection, a recording
uploaded through the media path, then exported and erased: nothing readable remains."""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial

import anyio
import pytest
from sqlalchemy import select

from rempart.audit import Ed25519Signer, audited, verifier_key
from rempart.contact import service
from rempart.contact.media import MediaStore
from rempart.contact.models import Customer, CustomerLookup, Interaction, Recording
from rempart.contact.policy import DataPolicy
from rempart.contact.recording_playback import open_rendition
from rempart.contact.recording_upload import plan_upload, receive_upload, record_stored
from rempart.contact.schemas import InteractionIn, RecordingIn, SegmentIn
from rempart.errors import CryptoError
from rempart.privacy import (
    DirectoryExportStore,
    Selector,
    StoredMedia,
    erase_subject,
    export_subject,
    find,
    verify_certificate,
)
from rempart.storage import Database, TenantContext
from rempart.types import TenantId
from rempart.vault import FieldContext, Vault
from tests.privacy.conftest import FAST_KDF, ORIGIN, PASSPHRASE
from tests.privacy.helpers import as_json, unseal

CARD = "4970 1012 3456 7890"


def _wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(struct.pack("<h", (i * 37) % 2000) for i in range(int(rate * seconds)))
        )
    return out.getvalue()


def _payload(n: int, customer: str) -> InteractionIn:
    return InteractionIn(
        external_id=f"ext-{customer}-{n}",
        channel="call",
        customer_id=customer,
        customer_phone="06 98 76 54 32",
        customer_email="Jeanne.Martin@example.test",
        started_at=datetime(2026, 11, 3, 10, n, tzinfo=UTC),
        segments=[
            SegmentIn(speaker="customer", text=f"ma carte est {CARD}", start_ms=0, end_ms=900),
            SegmentIn(speaker="agent", text="merci madame Martin", start_ms=1000, end_ms=1900),
        ],
        recordings=[RecordingIn(media_type="audio/wav", duration_ms=500)],
    )


async def _body(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), 4096):
        yield data[i : i + 4096]


def _ingest(db: Database, vault: Vault, ctx: TenantContext, payload: InteractionIn) -> str:
    with audited(db, ctx, ORIGIN, action="interaction.create", resource_type="interaction") as (
        session,
        note,
    ):
        interaction, _ = service.ingest(
            session,
            payload,
            created_by="machine:ccaas",
            vault=vault,
            policy=DataPolicy(protection="redacted+original"),
        )
        note.resource_id = interaction.id
        return interaction.id


def _upload(db: Database, vault: Vault, store: MediaStore, ctx: TenantContext, iid: str) -> str:
    with db.tenant_session(ctx) as session:
        rid = session.scalars(select(Recording.id).where(Recording.interaction_id == iid)).one()
        plan = plan_upload(session, vault, store, iid, rid)
    with store.write(plan.tenant, plan.recording_id) as pending:
        result = anyio.run(
            partial(
                receive_upload, plan, _body(_wav()), vault=vault, pending=pending, max_bytes=10**7
            )
        )
        with db.tenant_session(ctx) as session:
            record_stored(session, store, plan, pending, result)
    return rid


def _sealed_values(
    db: Database, ctx: TenantContext, customer: str
) -> list[tuple[FieldContext, bytes]]:
    """Every field ciphertext stored about the customer, with the context it was sealed in."""
    tenant = TenantId(ctx.tenant_id)
    out: list[tuple[FieldContext, bytes]] = []
    with db.tenant_session(ctx) as session:
        c = session.get(Customer, customer)
        assert c is not None
        assert c.external_id_ct is not None
        out.append((FieldContext(tenant, "customers", "external_id", c.id), c.external_id_ct))
        for lk in session.scalars(
            select(CustomerLookup).where(CustomerLookup.customer_id == customer)
        ):
            out.append((FieldContext(tenant, "customer_lookups", "value", lk.id), lk.value_ct))
        for r in session.scalars(select(Interaction).where(Interaction.customer_id == customer)):
            for s in r.segments:
                assert s.redacted_ct is not None
                assert s.original_ct is not None
                out.append(
                    (FieldContext(tenant, "transcript_segments", "redacted", s.id), s.redacted_ct)
                )
                out.append(
                    (FieldContext(tenant, "transcript_segments", "original", s.id), s.original_ct)
                )
    return out


def test_ingested_data_is_exported_then_erased_beyond_reading(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
    media_store: MediaStore,
) -> None:
    media = StoredMedia(media_store, vault)
    iids = [_ingest(db, vault, tenant_a, _payload(n, "C-7788")) for n in range(2)]
    other = _ingest(db, vault, tenant_a, _payload(9, "C-0001"))
    rids = [_upload(db, vault, media_store, tenant_a, iid) for iid in [*iids, other]]
    with db.tenant_session(tenant_a) as session:
        (jeanne,) = find(session, vault, Selector(customer_id="C-7788"))
        (someone,) = find(session, vault, Selector(customer_id="C-0001"))
    assert sorted(i.id for i in jeanne.interactions) == sorted(iids)

    out = io.BytesIO()
    export_subject(
        db,
        vault,
        tenant_a,
        jeanne.customer,
        out,
        passphrase=PASSPHRASE,
        origin=ORIGIN,
        store=store,
        media=media,
        log2_n=FAST_KDF,
    )
    files = unseal(out.getvalue())
    assert as_json(files["customer.json"])["customer_id"] == "C-7788"
    doc = as_json(files[f"interactions/{iids[0]}.json"])
    assert CARD not in doc["segments"][0]["text"]  # the redacted form...
    assert CARD in doc["segments"][0]["original"]  # ...and the original the tenant keeps
    (rec,) = doc["recordings"]
    assert files[rec["file"]][:4] == b"RIFF"

    sealed = _sealed_values(db, tenant_a, jeanne.customer)
    result = erase_subject(
        db,
        vault,
        tenant_a,
        jeanne.customer,
        reason="request 12",
        origin=ORIGIN,
        signer=signer,
        store=store,
        media=media,
    )
    assert result.complete
    assert result.counts["media_objects"] == 4  # original + redacted rendition, two calls
    assert result.certificate is not None
    verify_certificate(result.certificate, verifier_key(signer))
    for ctx, ct in sealed:
        with pytest.raises(CryptoError):
            vault.decrypt_field(ctx, ct)
    assert not any(media_store.exists(tenant_a.tenant_id, rid) for rid in rids[:2])
    with db.tenant_session(tenant_a) as session:
        assert find(session, vault, Selector(customer_id="C-7788")) == []
        assert find(
            session, vault, Selector(phone="+33698765432", email="jeanne.martin@example.test")
        ) == find(session, vault, Selector(customer_id="C-0001"))
        for iid in iids:
            assert session.get(Interaction, iid) is None
        # The other customer (same phone and e-mail, other id) still reads, recording included.
        interaction = session.get(Interaction, other)
        assert interaction is not None
        view = service.to_out(session, interaction, vault=vault, view="original")
        assert CARD in view.segments[0].text
        recording = session.get(Recording, rids[2])
        assert recording is not None
        audio = b"".join(open_rendition(vault, media_store, interaction, recording, original=True))
        assert audio[:4] == b"RIFF"
    assert someone.customer != jeanne.customer
