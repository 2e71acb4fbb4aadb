"""Ingest interactions for a tenant and read them back.

Every function works inside a tenant-scoped session: the tenant is never a
parameter that a caller could get wrong, it is the session's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.contact.models import Customer, Interaction, Queue, Recording, TranscriptSegment
from rempart.contact.schemas import (
    AgentRef,
    InteractionIn,
    InteractionOut,
    InteractionPage,
    InteractionSummary,
    RecordingOut,
    SegmentOut,
)
from rempart.errors import BadRequest, Conflict, NotFound, ValidationFailed
from rempart.identity.models import User
from rempart.storage.base import new_id
from rempart.storage.tenancy import session_tenant
from rempart.types import Clock, utc_now

MAX_PAGE = 200


def _content_hash(payload: InteractionIn) -> str:
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def ingest(
    session: Session, payload: InteractionIn, *, created_by: str, clock: Clock = utc_now
) -> tuple[Interaction, bool]:
    """Store an interaction; returns it and whether it was created.

    Pushing the same interaction again (same ``external_id``, same content)
    returns the stored one unchanged; the same id with other content is a
    conflict. Either everything is stored or nothing is.
    """
    tenant = session_tenant(session)
    if tenant is None:
        raise ValidationFailed("no tenant in context")
    digest = _content_hash(payload)
    existing = session.scalar(
        select(Interaction).where(Interaction.external_id == payload.external_id)
    )
    if existing is not None:
        if existing.content_sha256 != digest:
            raise Conflict("an interaction with this external_id exists with other content")
        return existing, False

    now = clock()
    agent_id = None
    if payload.agent is not None:
        agent_id = session.scalar(
            select(User.id).where(
                User.issuer == payload.agent.issuer, User.subject == payload.agent.subject
            )
        )
        if agent_id is None:
            raise ValidationFailed("agent is not a known user of this tenant")
    interaction = Interaction(
        id=new_id(),
        tenant_id=tenant,
        external_id=payload.external_id,
        channel=payload.channel,
        direction=payload.direction,
        language=payload.language,
        subject=payload.subject,
        queue_id=_queue_id(session, payload.queue) if payload.queue else None,
        customer_id=_customer_id(session, payload.customer_id, now)
        if payload.customer_id
        else None,
        agent_id=agent_id,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        created_at=now,
        created_by=created_by,
        content_sha256=digest,
    )
    interaction.segments = [
        TranscriptSegment(
            id=new_id(),
            tenant_id=tenant,
            seq=i,
            speaker=seg.speaker,
            start_ms=seg.start_ms,
            end_ms=seg.end_ms,
            sent_at=seg.sent_at,
            text=seg.text,
        )
        for i, seg in enumerate(payload.segments)
    ]
    interaction.recordings = [
        Recording(
            id=new_id(),
            tenant_id=tenant,
            media_type=rec.media_type,
            duration_ms=rec.duration_ms,
            size_bytes=rec.size_bytes,
            sha256=rec.sha256,
            channels=rec.channels,
        )
        for rec in payload.recordings
    ]
    session.add(interaction)
    try:
        session.flush()
    except IntegrityError as exc:
        # Another request stored the same external_id between our check and
        # our insert; the client's retry will get the stored one.
        raise Conflict("the same interaction is being stored concurrently; retry") from exc
    return interaction, True


def _get_or_create(
    session: Session,
    model: type[Queue] | type[Customer],
    key: dict[str, str],
    extra: dict[str, Any],
) -> str:
    """Id of the tenant's row with ``key``, inserting it if absent, safe under concurrency.

    ``INSERT ... ON CONFLICT DO NOTHING`` then ``SELECT``: two requests that
    both see the row missing do not fail, the second simply finds the first's.
    """
    tenant = session_tenant(session)
    where = [getattr(model, k) == v for k, v in key.items()]
    found = session.scalar(select(model.id).where(*where))
    if found is not None:
        return found
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(model).values(id=new_id(), tenant_id=tenant, **key, **extra).on_conflict_do_nothing()
    )
    return session.scalars(select(model.id).where(*where)).one()


def _queue_id(session: Session, name: str) -> str:
    return _get_or_create(session, Queue, {"name": name}, {})


def _customer_id(session: Session, external_id: str, now: datetime) -> str:
    return _get_or_create(session, Customer, {"external_id": external_id}, {"created_at": now})


def get(session: Session, interaction_id: str) -> InteractionOut:
    """One interaction of the session's tenant; another tenant's id is simply not found."""
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("no such interaction")
    return to_out(session, interaction)


def list_page(
    session: Session,
    *,
    limit: int = 50,
    cursor: str | None = None,
    channel: str | None = None,
) -> InteractionPage:
    """Interactions of the session's tenant, newest first, with keyset pagination."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    stmt = select(Interaction)
    if channel is not None:
        stmt = stmt.where(Interaction.channel == channel)
    if cursor is not None:
        created_at, last_id = decode_cursor(cursor)
        stmt = stmt.where(
            tuple_(Interaction.created_at, Interaction.id) < tuple_(created_at, last_id)
        )
    stmt = stmt.order_by(Interaction.created_at.desc(), Interaction.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    names = _queue_names(session, {r.queue_id for r in rows if r.queue_id})
    customers = _customer_refs(session, {r.customer_id for r in rows if r.customer_id})
    items = [_summary(r, names, customers) for r in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return InteractionPage(items=items, next_cursor=next_cursor)


def encode_cursor(row: Interaction) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        when = datetime.fromisoformat(created)
        if when.tzinfo is None or not isinstance(row_id, str):
            raise ValueError("bad cursor")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid cursor") from exc
    return when, row_id


def _queue_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {q.id: q.name for q in session.scalars(select(Queue).where(Queue.id.in_(ids)))}


def _customer_refs(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    stmt = select(Customer).where(Customer.id.in_(ids))
    return {c.id: c.external_id or "" for c in session.scalars(stmt)}


def _summary(
    r: Interaction, queues: dict[str, str], customers: dict[str, str]
) -> InteractionSummary:
    return InteractionSummary(
        id=r.id,
        external_id=r.external_id,
        channel=r.channel,
        direction=r.direction,
        language=r.language,
        queue=queues.get(r.queue_id) if r.queue_id else None,
        customer_id=customers.get(r.customer_id) if r.customer_id else None,
        started_at=r.started_at,
        ended_at=r.ended_at,
        created_at=r.created_at,
    )


def to_out(session: Session, r: Interaction) -> InteractionOut:
    queues = _queue_names(session, {r.queue_id} if r.queue_id else set())
    customers = _customer_refs(session, {r.customer_id} if r.customer_id else set())
    agent = session.get(User, r.agent_id) if r.agent_id else None
    summary = _summary(r, queues, customers)
    return InteractionOut(
        **summary.model_dump(),
        subject=r.subject,
        agent=AgentRef(issuer=agent.issuer, subject=agent.subject) if agent else None,
        segments=[
            SegmentOut(
                seq=s.seq,
                speaker=s.speaker,
                text=s.text,
                start_ms=s.start_ms,
                end_ms=s.end_ms,
                sent_at=s.sent_at,
            )
            for s in r.segments
        ],
        recordings=[
            RecordingOut(
                id=x.id,
                media_type=x.media_type,
                duration_ms=x.duration_ms,
                size_bytes=x.size_bytes,
                sha256=x.sha256,
                channels=x.channels,
            )
            for x in r.recordings
        ],
    )


__all__ = ["decode_cursor", "encode_cursor", "get", "ingest", "list_page", "to_out"]
