"""A tenant's access policy as data: windows, masks, grant rules, training and review settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from rempart.access.grants import DEFAULT_UNMASK_RULES, UnmaskRule
from rempart.access.obligations import DEFAULT_MASKS, ObligationKind, SensitiveField
from rempart.access.permissions import Permission

DEFAULT_TOXIC: tuple[tuple[frozenset[Permission], str], ...] = (
    (
        frozenset({Permission.ROLE_ASSIGN, Permission.AUDIT_EXPORT}),
        "assigns roles and exports the audit evidence of it",
    ),
    (
        frozenset({Permission.ROLE_ASSIGN, Permission.GRANT_APPROVE}),
        "assigns roles and approves data grants",
    ),
    (
        frozenset({Permission.TOKEN_MANAGE, Permission.EXPORT_CREATE}),
        "mints machine tokens and exports data",
    ),
)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    handled_window: timedelta = timedelta(days=30)
    """How long after an interaction starts the agent who handled it may still read it."""
    supervises_window: timedelta = timedelta(days=90)
    """How far back a supervisor reaches into their teams' interactions."""
    evaluates_window: timedelta = timedelta(days=90)
    masks: Mapping[SensitiveField, ObligationKind] = field(
        default_factory=lambda: dict(DEFAULT_MASKS)
    )
    unmask_rules: Mapping[Permission, UnmaskRule] = field(
        default_factory=lambda: dict(DEFAULT_UNMASK_RULES)
    )
    training: Mapping[Permission, str] = field(default_factory=dict)
    """Permission -> training requirement id; the permission lapses with the training."""
    break_glass_duration: timedelta = timedelta(hours=1)
    break_glass_min_assurance: int = 2
    dormant_after: timedelta = timedelta(days=45)
    toxic: tuple[tuple[frozenset[Permission], str], ...] = DEFAULT_TOXIC


__all__ = ["DEFAULT_TOXIC", "AccessPolicy"]
