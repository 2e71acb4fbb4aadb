"""Just-in-time grants and break-glass: values and the policy that shapes them.

A grant gives one user some permissions on one interaction (or, for
break-glass only, on every interaction of the tenant) until it expires. A
``jit`` grant may need an approver; a ``break_glass`` grant never does, but
alerts the security team at once and stays flagged until someone reviews it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from rempart.access.errors import InvalidReason
from rempart.access.permissions import Permission

REASON_MIN = 10
REASON_MAX = 500


class GrantKind(StrEnum):
    JIT = "jit"
    BREAK_GLASS = "break_glass"


class GrantStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REFUSED = "refused"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class UnmaskRule:
    """Policy for grants of one permission (data, per tenant)."""

    requires_approver: bool = True
    min_assurance: int = 2
    max_duration: timedelta = timedelta(minutes=30)
    approver_scope: Literal["any", "team_supervisor"] = "any"
    """``any``: any other holder of ``grant:approve``; ``team_supervisor``: one who
    supervises a team the requester is a member of."""


DEFAULT_UNMASK_RULES: dict[Permission, UnmaskRule] = {
    Permission.INTERACTION_UNMASK: UnmaskRule(requires_approver=True, min_assurance=2),
    Permission.RECORDING_UNMASK: UnmaskRule(requires_approver=True, min_assurance=2),
    Permission.INTERACTION_READ: UnmaskRule(requires_approver=True, min_assurance=2),
    Permission.TRANSCRIPT_READ: UnmaskRule(requires_approver=True, min_assurance=2),
    Permission.RECORDING_PLAY: UnmaskRule(requires_approver=True, min_assurance=2),
}

BREAK_GLASS_PERMISSIONS: frozenset[Permission] = frozenset(
    {
        Permission.INTERACTION_READ,
        Permission.TRANSCRIPT_READ,
        Permission.RECORDING_PLAY,
        Permission.INTERACTION_UNMASK,
        Permission.RECORDING_UNMASK,
    }
)


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    user_id: str
    kind: GrantKind
    permissions: frozenset[Permission]
    interaction_id: str | None
    reason: str
    requested_at: datetime
    expires_at: datetime
    status: GrantStatus
    min_assurance: int
    duration: timedelta = timedelta(minutes=30)
    approver_id: str | None = None
    decided_at: datetime | None = None
    review_required: bool = False
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def covers(self, permission: Permission, interaction_id: str) -> bool:
        return permission in self.permissions and (
            self.interaction_id is None or self.interaction_id == interaction_id
        )

    def live_at(self, now: datetime) -> bool:
        return self.status is GrantStatus.ACTIVE and now < self.expires_at


def validate_reason(reason: str) -> str:
    """A justification of ``REASON_MIN`` to ``REASON_MAX`` characters, trimmed, printable."""
    if not isinstance(reason, str):
        raise InvalidReason("a reason is required")
    text = " ".join(reason.split())
    if not text:
        raise InvalidReason("a reason is required")
    if len(text) < REASON_MIN:
        raise InvalidReason(f"the reason must say why, in at least {REASON_MIN} characters")
    if len(reason) > REASON_MAX:
        raise InvalidReason(f"the reason is limited to {REASON_MAX} characters")
    if any(not c.isprintable() for c in text):
        raise InvalidReason("the reason contains control characters")
    return text


__all__ = [
    "BREAK_GLASS_PERMISSIONS",
    "DEFAULT_UNMASK_RULES",
    "REASON_MAX",
    "REASON_MIN",
    "Grant",
    "GrantKind",
    "GrantStatus",
    "UnmaskRule",
    "validate_reason",
]
