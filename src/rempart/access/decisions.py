"""Decisions as values: ``Allow(obligations)`` or ``Deny(reason)``, never a bare bool."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rempart.access.errors import AccessDenied
from rempart.access.obligations import Obligation, ObligationKind, SensitiveField


class DenyReason(StrEnum):
    CROSS_TENANT = "cross_tenant"
    UNKNOWN_USER = "unknown_user"
    INACTIVE_USER = "inactive_user"
    NO_ROLE_PERMISSION = "no_role_permission"
    NO_RELATION = "no_relation"
    WINDOW_ELAPSED = "window_elapsed"
    SEPARATION_OF_DUTY = "separation_of_duty"
    GRANT_REQUIRED = "grant_required"
    GRANT_EXPIRED = "grant_expired"
    ASSURANCE_TOO_LOW = "assurance_too_low"
    TRAINING_LAPSED = "training_lapsed"
    MACHINE_CANNOT_READ = "machine_cannot_read"
    WRONG_RESOURCE = "wrong_resource"


@dataclass(frozen=True, slots=True)
class Allow:
    obligations: tuple[Obligation, ...] = ()
    basis: str = "role"
    """Why: ``role``, ``handled``, ``assigned``, ``supervises``, ``evaluates`` or ``grant``."""
    grant_id: str | None = None

    def __bool__(self) -> bool:
        return True

    @property
    def masked_fields(self) -> frozenset[SensitiveField]:
        return frozenset(
            o.field
            for o in self.obligations
            if o.field is not None and o.kind is not ObligationKind.AUDIT_UNMASK
        )

    @property
    def unmasked_fields(self) -> frozenset[SensitiveField]:
        return frozenset(
            o.field
            for o in self.obligations
            if o.field is not None and o.kind is ObligationKind.AUDIT_UNMASK
        )


@dataclass(frozen=True, slots=True)
class Deny:
    reason: DenyReason
    detail: str = ""

    def __bool__(self) -> bool:
        return False


Decision = Allow | Deny


def require(decision: Decision) -> Allow:
    """The ``Allow`` itself, or ``AccessDenied`` (403) carrying the reason code."""
    if isinstance(decision, Allow):
        return decision
    raise AccessDenied(f"access denied: {decision.reason.value}", reason=decision.reason.value)


__all__ = ["Allow", "Decision", "Deny", "DenyReason", "require"]
