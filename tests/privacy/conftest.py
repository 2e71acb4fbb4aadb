"""Fixtures of the privacy tests: a real vault (local key file, SQL keyring), a real media
store, seeded customers written the way protected ingestion writes them."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from rempart.audit import Actor, Ed25519Signer, Origin, load_or_create_signer
from rempart.contact.media import MediaStore
from rempart.contact.models import (
    Customer,
    CustomerLookup,
    Interaction,
    Recording,
    TranscriptSegment,
)
from rempart.contact.subjects import LookupKind, index_of, subject_of
from rempart.privacy import DirectoryExportStore, StoredMedia
from rempart.privacy.media import recording_context
from rempart.storage import Database, TenantContext, new_id
from rempart.types import TenantId
from rempart.vault import FieldContext, LocalKeyFileProvider, Vault
from rempart.vault.sql_store import SqlKeyringStore

ORIGIN = Origin(Actor("user", "dpo@example.test"), request_id="req-privacy")
PASSPHRASE = "correct horse battery staple"
FAST_KDF = 14  # log2(N) for scrypt in tests: the floor the format accepts
T0 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def vault(db: Database, tmp_path: Path, tenant_a: TenantContext, tenant_b: TenantContext) -> Vault:
    v = Vault(SqlKeyringStore(db), [LocalKeyFileProvider(tmp_path / "vault-keys.json")])
    v.create_tenant(tenant_a.tenant_id)
    v.create_tenant(tenant_b.tenant_id)
    return v


@pytest.fixture
def signer(tmp_path: Path) -> Ed25519Signer:
    return load_or_create_signer(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> DirectoryExportStore:
    return DirectoryExportStore(tmp_path / "exports")


@pytest.fixture
def media_store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


@pytest.fixture
def media(media_store: MediaStore, vault: Vault) -> StoredMedia:
    return StoredMedia(media_store, vault)


@dataclass
class Seeded:
    """One customer as stored, and every ciphertext of theirs with its context."""

    tenant: TenantId
    customer: str
    external_id: str
    phone: str
    email: str
    interactions: list[str] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)
    ciphertexts: list[tuple[FieldContext, bytes]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    audio: dict[str, bytes] = field(default_factory=dict)


def _seal(vault: Vault, seeded: Seeded, table: str, column: str, row: str, value: str) -> bytes:
    ctx = FieldContext(seeded.tenant, table, column, row)
    sealed = vault.encrypt_field(ctx, value.encode(), subject=subject_of(seeded.customer))
    seeded.ciphertexts.append((ctx, sealed))
    return sealed


def seed_customer(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    *,
    media_store: MediaStore | None = None,
    external_id: str | None = None,
    phone: str = "+33 6 12 34 56 78",
    email: str | None = None,
    interactions: int = 2,
    segments: Sequence[str] = ("Bonjour, ma carte est bloquée", "Je vérifie votre dossier"),
    keep_original: bool = True,
    phone_region: str = "FR",
) -> Seeded:
    """A customer with lookups, interactions, segments and recordings, sealed under their key."""
    tenant = ctx.tenant_id
    external_id = external_id or f"CUST-{uuid.uuid4().hex[:8]}"
    email = email or f"{external_id.lower()}@example.test"
    seeded = Seeded(tenant, new_id(), external_id, phone, email)
    with db.tenant_session(ctx) as session:
        session.add(
            Customer(
                id=seeded.customer,
                tenant_id=tenant,
                id_index=index_of(vault, tenant, LookupKind.CUSTOMER_ID, external_id),
                external_id_ct=_seal(
                    vault, seeded, "customers", "external_id", seeded.customer, external_id
                ),
                created_at=T0,
            )
        )
        session.flush()
        for kind, value in ((LookupKind.PHONE, phone), (LookupKind.EMAIL, email)):
            row = new_id()
            session.add(
                CustomerLookup(
                    id=row,
                    tenant_id=tenant,
                    customer_id=seeded.customer,
                    kind=kind.value,
                    digest=index_of(vault, tenant, kind, value, phone_region=phone_region),
                    value_ct=_seal(vault, seeded, "customer_lookups", "value", row, value),
                )
            )
        for n in range(interactions):
            _add_interaction(session, vault, seeded, n, segments, keep_original)
    if media_store is not None:
        for rid in seeded.recordings:
            _store_media(media_store, vault, seeded, rid)
    return seeded


def _add_interaction(
    session: Session,
    vault: Vault,
    seeded: Seeded,
    n: int,
    segments: Sequence[str],
    keep_original: bool,
) -> None:
    iid = new_id()
    start = T0 + timedelta(days=n)
    interaction = Interaction(
        id=iid,
        tenant_id=seeded.tenant,
        external_id=f"call-{uuid.uuid4().hex[:12]}",
        channel="call",
        direction="inbound",
        language="fr",
        subject_ct=_seal(vault, seeded, "interactions", "subject", iid, "Carte bloquée"),
        subject_original_ct=_seal(
            vault, seeded, "interactions", "subject_original", iid, "Carte 4970 bloquée"
        )
        if keep_original
        else None,
        protection="redacted+original" if keep_original else "redacted",
        customer_id=seeded.customer,
        started_at=start,
        ended_at=start + timedelta(minutes=4),
        created_at=start,
        created_by="machine:ccaas",
        content_sha256=hashlib.sha256(iid.encode()).hexdigest(),
    )
    session.add(interaction)
    session.flush()
    for seq, text in enumerate(segments):
        sid = new_id()
        redacted = text.replace("carte", "[CARD]")
        seeded.texts.append(redacted)
        session.add(
            TranscriptSegment(
                id=sid,
                tenant_id=seeded.tenant,
                interaction_id=iid,
                seq=seq,
                speaker="customer" if seq % 2 == 0 else "agent",
                start_ms=seq * 1000,
                end_ms=seq * 1000 + 900,
                redacted_ct=_seal(vault, seeded, "transcript_segments", "redacted", sid, redacted),
                original_ct=_seal(vault, seeded, "transcript_segments", "original", sid, text)
                if keep_original
                else None,
                entities={"CARD_NUMBER": 1},
            )
        )
    rid = new_id()
    session.add(
        Recording(
            id=rid,
            tenant_id=seeded.tenant,
            interaction_id=iid,
            media_type="audio/wav",
            duration_ms=240_000,
            media_status="pending",
        )
    )
    seeded.interactions.append(iid)
    seeded.recordings.append(rid)


def _store_media(store: MediaStore, vault: Vault, seeded: Seeded, rid: str) -> None:
    audio = b"RIFF" + rid.encode() * 100
    seeded.audio[rid] = audio
    with store.write(seeded.tenant, rid) as pending:
        for kind in ("original", "redacted"):
            vault.encrypt_stream(
                recording_context(seeded.tenant, rid, kind),
                io.BytesIO(audio if kind == "original" else audio.replace(b"R", b"_")),
                pending.file(kind),
                subject=subject_of(seeded.customer),
            )
        pending.commit()
