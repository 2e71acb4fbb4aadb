"""Test data for retention, inserted through the ORM models directly."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from rempart.audit import Actor, AuditEvent, Origin, query
from rempart.contact.media import MediaStore
from rempart.contact.models import Customer, Interaction, Recording, TranscriptSegment
from rempart.retention.models import PurgeRun
from rempart.storage import Database, TenantContext

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ACTOR = Actor("user", "dpo@example.test")
ORIGIN = Origin(ACTOR)


def clock() -> datetime:
    return NOW


@dataclass
class Stored:
    """What one seeded interaction holds, by id."""

    id: str
    segments: list[str] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)


def add_customer(db: Database, ctx: TenantContext) -> str:
    with db.tenant_session(ctx) as session:
        customer = Customer(created_at=NOW)
        session.add(customer)
        session.flush()
        return customer.id


def add_interaction(
    db: Database,
    ctx: TenantContext,
    media: MediaStore,
    *,
    age_days: float,
    started_days: float | None = None,
    ended: bool = True,
    customer_id: str | None = None,
    segments: int = 2,
    originals: bool = True,
    recordings: int = 1,
) -> Stored:
    """An interaction that ended ``age_days`` ago (or started then, if ``ended`` is False)."""
    ended_at = NOW - timedelta(days=age_days)
    started_at = NOW - timedelta(days=started_days if started_days is not None else age_days)
    if started_days is None:
        started_at -= timedelta(minutes=10)
    with db.tenant_session(ctx) as session:
        interaction = Interaction(
            external_id=f"call-{uuid.uuid4().hex}",
            channel="voice",
            direction="inbound",
            subject_ct=b"redacted-subject-ct",
            subject_original_ct=b"original-subject-ct" if originals else None,
            protection="redacted+original" if originals else "redacted",
            customer_id=customer_id,
            started_at=started_at,
            ended_at=ended_at if ended else None,
            created_at=started_at,
            created_by="test",
            content_sha256=hashlib.sha256(b"x").hexdigest(),
        )
        session.add(interaction)
        session.flush()
        stored = Stored(interaction.id)
        for seq in range(segments):
            segment = TranscriptSegment(
                interaction_id=interaction.id,
                seq=seq,
                speaker="agent",
                redacted_ct=b"redacted-ct",
                original_ct=b"original-ct" if originals else None,
            )
            session.add(segment)
            session.flush()
            stored.segments.append(segment.id)
        for _ in range(recordings):
            recording = Recording(
                interaction_id=interaction.id,
                media_type="audio/wav",
                duration_ms=1000,
                media_status="stored",
            )
            session.add(recording)
            session.flush()
            stored.recordings.append(recording.id)
    for recording_id in stored.recordings:
        with media.write(str(ctx.tenant_id), recording_id) as pending:
            pending.file("original").write(b"ciphertext-original")
            pending.file("redacted").write(b"ciphertext-redacted")
            pending.commit()
    return stored


@dataclass(frozen=True)
class State:
    """One interaction as the database (and media store) now hold it."""

    exists: bool
    segments: int = 0
    originals: int = 0
    subject: bool = False
    subject_original: bool = False
    recordings: int = 0
    media: int = 0


def state(db: Database, ctx: TenantContext, media: MediaStore, stored: Stored) -> State:
    files = sum(media.exists(str(ctx.tenant_id), r) for r in stored.recordings)
    with db.tenant_session(ctx) as session:
        row = session.get(Interaction, stored.id)
        if row is None:
            return State(exists=False, media=files)
        segments = list(
            session.scalars(
                select(TranscriptSegment).where(TranscriptSegment.interaction_id == stored.id)
            )
        )
        recordings = session.scalar(
            select(func.count(Recording.id)).where(Recording.interaction_id == stored.id)
        )
        return State(
            exists=True,
            segments=len(segments),
            originals=sum(s.original_ct is not None for s in segments),
            subject=row.subject_ct is not None,
            subject_original=row.subject_original_ct is not None,
            recordings=recordings or 0,
            media=files,
        )


INTACT = State(True, 2, 2, True, True, 1, 1)


def audit_events(db: Database, ctx: TenantContext, prefix: str = "retention.") -> list[AuditEvent]:
    """The tenant's audit events whose action starts with ``prefix``, oldest first."""
    with db.tenant_session(ctx) as session:
        events = query(session, limit=10_000)
    return [e for e in reversed(events) if e.action.startswith(prefix)]


def runs(db: Database, ctx: TenantContext) -> list[PurgeRun]:
    with db.tenant_session(ctx) as session:
        return list(session.scalars(select(PurgeRun).order_by(PurgeRun.started_at)))
