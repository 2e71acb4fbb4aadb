"""Audit events as values: who did what to which resource of which tenant, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from rempart.types import TenantId

ActorType = Literal["machine", "user", "system"]
Outcome = Literal["success", "failure"]


@dataclass(frozen=True, slots=True)
class Actor:
    """The principal behind an act: a machine token, a person or the platform itself."""

    type: ActorType
    id: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One auditable act. Details must never carry secrets or message bodies.

    ``class_uid`` picks the OCSF class explicitly; left ``None`` it is derived
    from ``resource_type`` and ``action`` (see ``rempart.audit.schema``).
    ``before`` and ``after`` describe a change; secrets and personal data in
    them (and in ``details``) are masked before the event is encoded.
    """

    tenant_id: TenantId
    actor: Actor
    action: str
    resource_type: str
    resource_id: str | None
    outcome: Outcome
    time: datetime
    reason: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    class_uid: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


__all__ = ["Actor", "ActorType", "AuditEvent", "Outcome"]
