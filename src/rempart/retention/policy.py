"""A tenant's retention policy: days per data class, how unset classes inherit, validation.

Nothing is purged until a tenant configures it: with no row at all, every
class is kept indefinitely. A class left unset inherits the next wider one
(``original`` from ``transcript``, ``transcript`` and ``recording`` from
``metadata``), so setting ``metadata`` alone bounds everything. ``audit`` has
a floor and never inherits; the purge job does not delete audit records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit.trail import Origin, audited
from rempart.errors import ValidationFailed
from rempart.retention.classes import AUDIT_MIN_DAYS, MAX_DAYS, MIN_DAYS, DataClass
from rempart.retention.models import RetentionPolicyRow
from rempart.storage import Database, TenantContext
from rempart.types import Clock, utc_now

# Where an unset class takes its duration from.
INHERITS: Final[Mapping[DataClass, DataClass]] = {
    DataClass.ORIGINAL: DataClass.TRANSCRIPT,
    DataClass.TRANSCRIPT: DataClass.METADATA,
    DataClass.RECORDING: DataClass.METADATA,
}
# (narrower, wider): the narrower must not be kept longer than the wider.
_ORDER: Final = (
    (DataClass.ORIGINAL, DataClass.TRANSCRIPT),
    (DataClass.ORIGINAL, DataClass.METADATA),
    (DataClass.TRANSCRIPT, DataClass.METADATA),
    (DataClass.RECORDING, DataClass.METADATA),
)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """The days a tenant configured per class; a class absent from ``days`` is unset."""

    days: Mapping[DataClass, int] = field(default_factory=dict)

    def configured(self, data_class: DataClass) -> int | None:
        return self.days.get(data_class)

    def effective(self, data_class: DataClass) -> int | None:
        """Days after which the class is purged (inherited if unset); None: kept indefinitely."""
        current: DataClass | None = data_class
        while current is not None:
            value = self.days.get(current)
            if value is not None:
                return value
            current = INHERITS.get(current)
        return None

    def source(self, data_class: DataClass) -> DataClass | None:
        """The class whose setting ``effective`` uses (itself, a wider one, or None)."""
        current: DataClass | None = data_class
        while current is not None:
            if current in self.days:
                return current
            current = INHERITS.get(current)
        return None

    def as_list(self) -> list[dict[str, Any]]:
        """JSON-friendly and safe for audit details (no class name used as a key)."""
        return [
            {"data_class": c.value, "days": self.days.get(c), "effective": self.effective(c)}
            for c in DataClass
        ]


def validate(policy: RetentionPolicy) -> None:
    """Refuse durations out of bounds and narrower classes kept longer than wider ones."""
    for data_class, days in policy.days.items():
        if not isinstance(days, int) or isinstance(days, bool):
            raise ValidationFailed(f"retention of {data_class} must be a whole number of days")
        floor = AUDIT_MIN_DAYS if data_class is DataClass.AUDIT else MIN_DAYS
        if days < floor or days > MAX_DAYS:
            raise ValidationFailed(
                f"retention of {data_class} must be between {floor} and {MAX_DAYS} days"
            )
    for narrower, wider in _ORDER:
        short, long = policy.days.get(narrower), policy.effective(wider)
        if short is not None and long is not None and short > long:
            raise ValidationFailed(
                f"{narrower} ({short} days) must not be kept longer than {wider} ({long} days)"
            )


def load_policy(session: Session) -> RetentionPolicy:
    """The session tenant's policy (empty when nothing is configured)."""
    days: dict[DataClass, int] = {}
    for row in session.scalars(select(RetentionPolicyRow)):
        try:
            days[DataClass(row.data_class)] = row.days
        except ValueError:
            continue  # a class a newer version wrote; ignored rather than guessed at
    return RetentionPolicy(days)


def parse_class(value: str) -> DataClass:
    try:
        return DataClass(value.strip().lower())
    except ValueError:
        names = ", ".join(c.value for c in DataClass)
        raise ValidationFailed(f"unknown data class {value!r} (one of: {names})") from None


def set_policy(
    db: Database,
    ctx: TenantContext,
    origin: Origin,
    changes: Mapping[DataClass, int | None],
    *,
    clock: Clock = utc_now,
) -> RetentionPolicy:
    """Apply ``changes`` (None unsets a class), validated as a whole; audited either way."""
    if not changes:
        raise ValidationFailed("no retention change given")
    with audited(
        db, ctx, origin, action="retention.policy.update", resource_type="policy", clock=clock
    ) as (session, note):
        note.resource_id = "retention"
        rows = {r.data_class: r for r in session.scalars(select(RetentionPolicyRow))}
        before = load_policy(session)
        merged = dict(before.days)
        for data_class, days in changes.items():
            if days is None:
                merged.pop(data_class, None)
            else:
                merged[data_class] = days
        after = RetentionPolicy(merged)
        validate(after)
        now = clock()
        for data_class in DataClass:
            row = rows.get(data_class.value)
            days = after.days.get(data_class)
            if days is None and row is not None:
                session.delete(row)
            elif days is not None and row is None:
                session.add(
                    RetentionPolicyRow(
                        data_class=data_class.value,
                        days=days,
                        updated_at=now,
                        updated_by=origin.actor.id,
                    )
                )
            elif days is not None and row is not None and row.days != days:
                row.days = days
                row.updated_at = now
                row.updated_by = origin.actor.id
        note.details["before"] = before.as_list()
        note.details["after"] = after.as_list()
        return after


__all__ = [
    "INHERITS",
    "RetentionPolicy",
    "load_policy",
    "parse_class",
    "set_policy",
    "validate",
]
