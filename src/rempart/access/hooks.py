"""Where access sends what it must report: the audit log and security events.

``AuditSink`` receives one ``AuditEvent`` per grant request, approval,
break-glass, review and unmask (success or refusal). ``SessionAuditSink``
appends to the tenant's tamper-evident log in the caller's transaction.
``SecurityEvents`` feeds detection; ``urgent`` events (break-glass) must
alert the security team at once.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, append
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


__all__ = ["AuditSink", "MemorySink", "SecurityEvents", "SessionAuditSink"]
