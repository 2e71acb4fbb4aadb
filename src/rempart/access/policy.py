"""A tenant's access policy as data: windows, masks, grant rules, training and review settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from rempart.access.grants import DEFAULT_UNMASK_RULES, UnmaskRule
from rempart.access.obligations import DEFAULT_MASKS, ObligationKind, SensitiveField
from rempart.access.permissions import Permission, parse_permission
from rempart.errors import ValidationFailed

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


def _days(value: Any, name: str) -> timedelta:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= 3650:
        raise ValidationFailed(f"{name}: a number of days between 0 and 3650")
    return timedelta(days=value)


def _minutes(value: Any, name: str) -> timedelta:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 7 * 24 * 60:
        raise ValidationFailed(f"{name}: a whole number of minutes, at most one week")
    return timedelta(minutes=value)


def _level(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in (1, 2, 3):
        raise ValidationFailed(f"{name}: an assurance level, 1, 2 or 3")
    return value


_POLICY_KEYS = {
    "handled_window_days",
    "supervises_window_days",
    "evaluates_window_days",
    "masks",
    "unmask_rules",
    "training",
    "break_glass_minutes",
    "break_glass_min_assurance",
    "dormant_after_days",
    "toxic",
}


def policy_from_mapping(data: Mapping[str, Any]) -> AccessPolicy:
    """A tenant's policy from plain data; omitted keys keep their defaults::

    {"handled_window_days": 30, "masks": {"phone": "hide"},
     "unmask_rules": {"interaction:unmask": {"requires_approver": true,
         "min_assurance": 2, "max_minutes": 30, "approver_scope": "any"}},
     "training": {"interaction:unmask": "pci-dss-awareness"},
     "break_glass_minutes": 60, "break_glass_min_assurance": 2,
     "dormant_after_days": 45,
     "toxic": [{"permissions": ["role:assign", "audit:export"], "why": "..."}]}
    """
    unknown = set(data) - _POLICY_KEYS
    if unknown:
        raise ValidationFailed(f"unknown policy keys: {', '.join(sorted(unknown))}")
    base = AccessPolicy()
    kwargs: dict[str, Any] = {}
    for key, attr in (
        ("handled_window_days", "handled_window"),
        ("supervises_window_days", "supervises_window"),
        ("evaluates_window_days", "evaluates_window"),
        ("dormant_after_days", "dormant_after"),
    ):
        if key in data:
            kwargs[attr] = _days(data[key], key)
    if "masks" in data:
        masks = dict(base.masks)
        for field_name, kind in _mapping(data["masks"], "masks").items():
            try:
                masks[SensitiveField(field_name)] = ObligationKind(kind)
            except ValueError as exc:
                raise ValidationFailed(f"masks: unknown field or mask {field_name!r}") from exc
        if ObligationKind.AUDIT_UNMASK in masks.values():
            raise ValidationFailed("masks: audit_unmask is not a mask")
        kwargs["masks"] = masks
    if "unmask_rules" in data:
        rules = dict(base.unmask_rules)
        for name, spec in _mapping(data["unmask_rules"], "unmask_rules").items():
            permission = parse_permission(name, where="unmask_rules")
            spec = _mapping(spec, f"unmask_rules.{name}")
            extra = set(spec) - {
                "requires_approver",
                "min_assurance",
                "max_minutes",
                "approver_scope",
            }
            if extra:
                raise ValidationFailed(f"unmask_rules.{name}: unknown keys {sorted(extra)}")
            scope = spec.get("approver_scope", "any")
            if scope not in ("any", "team_supervisor"):
                raise ValidationFailed(f"unmask_rules.{name}.approver_scope: any|team_supervisor")
            rules[permission] = UnmaskRule(
                requires_approver=bool(spec.get("requires_approver", True)),
                min_assurance=_level(spec.get("min_assurance", 2), f"{name}.min_assurance"),
                max_duration=_minutes(spec.get("max_minutes", 30), f"{name}.max_minutes"),
                approver_scope=scope,
            )
        kwargs["unmask_rules"] = rules
    if "training" in data:
        training: dict[Permission, str] = {}
        for name, requirement in _mapping(data["training"], "training").items():
            if not isinstance(requirement, str) or not 0 < len(requirement) <= 100:
                raise ValidationFailed(f"training.{name}: a requirement id")
            training[parse_permission(name, where="training")] = requirement
        kwargs["training"] = training
    if "break_glass_minutes" in data:
        kwargs["break_glass_duration"] = _minutes(
            data["break_glass_minutes"], "break_glass_minutes"
        )
    if "break_glass_min_assurance" in data:
        kwargs["break_glass_min_assurance"] = _level(
            data["break_glass_min_assurance"], "break_glass_min_assurance"
        )
    if "toxic" in data:
        raw = data["toxic"]
        if not isinstance(raw, list):
            raise ValidationFailed("toxic: a list of {permissions, why}")
        combos = []
        for entry in raw:
            entry = _mapping(entry, "toxic[]")
            perms = entry.get("permissions")
            if not isinstance(perms, list) or len(perms) < 2:
                raise ValidationFailed("toxic[].permissions: at least two permissions")
            combos.append(
                (
                    frozenset(parse_permission(str(p), where="toxic") for p in perms),
                    str(entry.get("why", ""))[:200],
                )
            )
        kwargs["toxic"] = tuple(combos)
    return replace(base, **kwargs)


def policy_to_mapping(policy: AccessPolicy) -> dict[str, Any]:
    """The plain-data form ``policy_from_mapping`` reads back."""

    def days(d: timedelta) -> float:
        v = d.total_seconds() / 86400
        return int(v) if v == int(v) else v

    return {
        "handled_window_days": days(policy.handled_window),
        "supervises_window_days": days(policy.supervises_window),
        "evaluates_window_days": days(policy.evaluates_window),
        "dormant_after_days": days(policy.dormant_after),
        "masks": {f.value: k.value for f, k in sorted(policy.masks.items())},
        "unmask_rules": {
            p.value: {
                "requires_approver": r.requires_approver,
                "min_assurance": r.min_assurance,
                "max_minutes": int(r.max_duration.total_seconds() // 60),
                "approver_scope": r.approver_scope,
            }
            for p, r in sorted(policy.unmask_rules.items())
        },
        "training": {p.value: t for p, t in sorted(policy.training.items())},
        "break_glass_minutes": int(policy.break_glass_duration.total_seconds() // 60),
        "break_glass_min_assurance": policy.break_glass_min_assurance,
        "toxic": [
            {"permissions": sorted(p.value for p in combo), "why": why}
            for combo, why in policy.toxic
        ],
    }


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationFailed(f"{name}: expected a mapping")
    return value


__all__ = ["DEFAULT_TOXIC", "AccessPolicy", "policy_from_mapping", "policy_to_mapping"]
