"""Append audit events and read them back, always within one tenant's (or the platform's) session.

``append`` keeps the signature of the first cut; ``append_batch`` appends
many events under one lock; ``append_platform`` writes to the platform's
own log from a platform session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, make_transient_to_detached

from rempart.audit.events import Actor, AuditEvent
from rempart.audit.models import AuditRecord
from rempart.audit.store import Appended, append_events, log_of
from rempart.errors import ValidationFailed
from rempart.storage.tenancy import session_tenant
from rempart.types import Clock, TenantId, utc_now


def append(session: Session, event: AuditEvent, *, clock: Clock = utc_now) -> AuditRecord:
    """Add one event to the tenant's log in the session's transaction.

    Appending in the same transaction as the act means an act and its trace
    commit or roll back together.
    """
    tenant = session_tenant(session)
    if tenant is None or tenant != event.tenant_id:
        raise ValidationFailed("audit event does not belong to the session's tenant")
    rows: list[dict[str, Any]] = []
    append_events(session, [event], clock=clock, rows_out=rows)
    # Built from the inserted row rather than read back: one round trip less per act.
    record = AuditRecord(**rows[0])
    make_transient_to_detached(record)
    return record


def append_batch(
    session: Session, events: Sequence[AuditEvent], *, clock: Clock = utc_now
) -> list[Appended]:
    """Append several events under one lock of the log head (tenant or platform session)."""
    return append_events(session, events, clock=clock)


def append_platform(session: Session, event: AuditEvent, *, clock: Clock = utc_now) -> Appended:
    """Add one event to the platform's log (a platform session is required)."""
    if not log_of(session).is_platform:
        raise ValidationFailed("the platform log is written from a platform session")
    (appended,) = append_events(session, [event], clock=clock)
    return appended


def query(
    session: Session,
    *,
    actor_id: str | None = None,
    action: str | None = None,
    resource_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Events of the session's tenant, newest first, filtered by the given fields."""
    stmt = select(AuditRecord)
    if actor_id is not None:
        stmt = stmt.where(AuditRecord.actor_id == actor_id)
    if action is not None:
        stmt = stmt.where(AuditRecord.action == action)
    if resource_id is not None:
        stmt = stmt.where(AuditRecord.resource_id == resource_id)
    if since is not None:
        stmt = stmt.where(AuditRecord.time >= since)
    if until is not None:
        stmt = stmt.where(AuditRecord.time < until)
    stmt = stmt.order_by(AuditRecord.time.desc(), AuditRecord.seq.desc()).limit(limit)
    return [_to_event(r) for r in session.scalars(stmt)]


def _to_event(r: AuditRecord) -> AuditEvent:
    return AuditEvent(
        tenant_id=TenantId(r.tenant_id),
        actor=Actor(type=r.actor_type, id=r.actor_id),  # type: ignore[arg-type]
        action=r.action,
        resource_type=r.resource_type,
        resource_id=r.resource_id,
        outcome=r.outcome,  # type: ignore[arg-type]
        time=r.time,
        reason=r.reason,
        source_ip=r.source_ip,
        user_agent=r.user_agent,
        request_id=r.request_id,
        details=dict(r.details),
        class_uid=r.class_uid,
    )


__all__ = ["append", "append_batch", "append_platform", "query"]
