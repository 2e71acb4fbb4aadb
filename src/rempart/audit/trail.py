"""Run a unit of work for a tenant so that it leaves an audit record either way.

On success the record commits in the same transaction as the work. On
failure the work rolls back (nothing partial is stored) and a failure record
is committed in a transaction of its own, then the error propagates.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from rempart.audit.events import Actor, AuditEvent
from rempart.audit.log import append
from rempart.errors import RempartError
from rempart.storage import Database, TenantContext
from rempart.types import Clock, utc_now


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an act comes from: the actor and the request it arrived in."""

    actor: Actor
    source_ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(slots=True)
class AuditNote:
    """Filled in by the work: which resource it touched, extra details and, for a
    change of settings, the values before and after it (masked like the details)."""

    resource_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@contextmanager
def audited(
    db: Database,
    ctx: TenantContext,
    origin: Origin,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    clock: Clock = utc_now,
) -> Iterator[tuple[Session, AuditNote]]:
    note = AuditNote(resource_id=resource_id)
    try:
        with db.tenant_session(ctx) as session:
            yield session, note
            append(session, _event(ctx, origin, action, resource_type, note, "success", clock))
    except RempartError as exc:
        with db.tenant_session(ctx) as session:
            event = _event(ctx, origin, action, resource_type, note, "failure", clock)
            append(session, _with_reason(event, exc.slug))
        raise


def _event(
    ctx: TenantContext,
    origin: Origin,
    action: str,
    resource_type: str,
    note: AuditNote,
    outcome: str,
    clock: Clock,
) -> AuditEvent:
    return AuditEvent(
        tenant_id=ctx.tenant_id,
        actor=origin.actor,
        action=action,
        resource_type=resource_type,
        resource_id=note.resource_id,
        outcome="success" if outcome == "success" else "failure",
        time=clock(),
        source_ip=origin.source_ip,
        user_agent=origin.user_agent,
        request_id=origin.request_id,
        details=dict(note.details),
        before=None if note.before is None else dict(note.before),
        after=None if note.after is None else dict(note.after),
    )


def _with_reason(event: AuditEvent, reason: str) -> AuditEvent:
    return replace(event, reason=reason)


__all__ = ["AuditNote", "Origin", "audited"]
