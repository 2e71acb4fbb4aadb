"""Append audit events and read them back, always within one tenant's session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit.events import Actor, AuditEvent
from rempart.audit.models import AuditRecord
from rempart.errors import ValidationFailed
from rempart.storage.tenancy import session_tenant
from rempart.types import TenantId


def append(session: Session, event: AuditEvent) -> AuditRecord:
    """Add one event to the tenant's log in the session's transaction.

    Appending in the same transaction as the act means an act and its trace
    commit or roll back together.
    """
    tenant = session_tenant(session)
    if tenant is None or tenant != event.tenant_id:
        raise ValidationFailed("audit event does not belong to the session's tenant")
    record = AuditRecord(
        tenant_id=event.tenant_id,
        time=event.time,
        actor_type=event.actor.type,
        actor_id=event.actor.id,
        action=event.action,
        resource_type=event.resource_type,
        resource_id=event.resource_id,
        outcome=event.outcome,
        reason=event.reason,
        source_ip=event.source_ip,
        user_agent=(event.user_agent or None) and event.user_agent[:300],
        request_id=event.request_id,
        details=dict(event.details),
    )
    session.add(record)
    session.flush()
    return record


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
    stmt = stmt.order_by(AuditRecord.time.desc(), AuditRecord.id).limit(limit)
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
    )


__all__ = ["append", "query"]
