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

from rempart.audit import Actor, AuditEvent, append
from rempart.storage import Database, TenantContext
from rempart.types import Clock, TenantId, utc_now


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


class AuditFindings:
    """Security events as Detection Finding entries (OCSF 2004) of the tenant's audit log.

    The detection engine reads the audit stream, so a finding written here
    reaches the security team's rules and SIEM forwarding like any event;
    ``urgent`` is carried as the finding's severity (``high``, else ``info``).
    """

    def __init__(self, session: Session, *, clock: Clock = utc_now) -> None:
        self._session = session
        self._clock = clock

    def emit(
        self, tenant_id: TenantId, kind: str, details: dict[str, Any], *, urgent: bool
    ) -> None:
        append(
            self._session,
            AuditEvent(
                tenant_id=tenant_id,
                actor=Actor("system", "rempart-access"),
                action="create",
                resource_type="finding",
                resource_id=_first(details, "grant_id", "interaction_id"),
                outcome="success",
                time=self._clock(),
                reason=kind,
                details={**details, "kind": kind, "severity": "high" if urgent else "info"},
            ),
        )


def _first(details: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        if details.get(key):
            return str(details[key])
    return None


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


__all__ = [
    "AuditFindings",
    "AuditSink",
    "DatabaseAuditSink",
    "MemorySink",
    "SecurityEvents",
    "SessionAuditSink",
]
