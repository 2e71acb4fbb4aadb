"""Where access sends what it must report: the audit log and security events.

``AuditSink`` receives one ``AuditEvent`` per grant request, approval,
break-glass, review and unmask (success or refusal). ``SessionAuditSink``
appends to the tenant's tamper-evident log in the caller's transaction.
``DatabaseAuditSink`` does the same for successes and commits refusals on
their own, so they survive the rollback that follows. ``SecurityEvents``
feeds detection; ``urgent`` events (break-glass) must alert the security
team at once.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, append
from rempart.storage import Database, TenantContext
from rempart.types import TenantId


class AuditSink(Protocol):
    def record(self, event: AuditEvent) -> None: ...


class SecurityEvents(Protocol):
    def emit(
        self, tenant_id: TenantId, kind: str, details: dict[str, Any], *, urgent: bool
    ) -> None: ...


class SessionAuditSink:
    """Appends to the tenant's audit log in the session's transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def record(self, event: AuditEvent) -> None:
        append(self._session, event)


class DatabaseAuditSink:
    """Successes go in the request's transaction; refusals in a transaction of their own.

    A refusal is usually followed by an exception that rolls the request's
    transaction back; recording it separately keeps the trace of the refusal
    (an expired grant used again, a circular role definition...) in the log.
    """

    def __init__(self, db: Database, ctx: TenantContext, session: Session) -> None:
        self._db = db
        self._ctx = ctx
        self._session = session

    def record(self, event: AuditEvent) -> None:
        if event.outcome == "success":
            append(self._session, event)
            return
        with self._db.tenant_session(self._ctx) as own:
            append(own, event)


class MemorySink:
    """Keeps events in lists (tests, benchmarks, the demo)."""

    def __init__(self) -> None:
        self.audit: list[AuditEvent] = []
        self.events: list[tuple[TenantId, str, dict[str, Any], bool]] = []

    def record(self, event: AuditEvent) -> None:
        self.audit.append(event)

    def emit(
        self, tenant_id: TenantId, kind: str, details: dict[str, Any], *, urgent: bool
    ) -> None:
        self.events.append((tenant_id, kind, details, urgent))


__all__ = ["AuditSink", "DatabaseAuditSink", "MemorySink", "SecurityEvents", "SessionAuditSink"]
