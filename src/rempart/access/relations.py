"""Need-to-know relations: user -> team, queue or interaction, each valid for a period.

The graph is tenant -> team -> queue -> interaction. An agent reaches an
interaction they handled (the interaction's ``agent_id``, no stored
relation needed) or one they are ``assigned`` to; a supervisor reaches the
interactions of the teams they ``supervise``; a quality analyst those of the
teams or queues they ``evaluate``. ``member`` records team membership, which
by itself opens nothing (it tells access reviews who reviews whom).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rempart.errors import ValidationFailed


class RelationKind(StrEnum):
    ASSIGNED = "assigned"
    SUPERVISES = "supervises"
    EVALUATES = "evaluates"
    MEMBER = "member"


class ObjectType(StrEnum):
    TEAM = "team"
    QUEUE = "queue"
    INTERACTION = "interaction"


ALLOWED_OBJECTS: dict[RelationKind, frozenset[ObjectType]] = {
    RelationKind.ASSIGNED: frozenset({ObjectType.INTERACTION}),
    RelationKind.SUPERVISES: frozenset({ObjectType.TEAM}),
    RelationKind.EVALUATES: frozenset({ObjectType.TEAM, ObjectType.QUEUE}),
    RelationKind.MEMBER: frozenset({ObjectType.TEAM}),
}


@dataclass(frozen=True, slots=True)
class Relation:
    user_id: str
    kind: RelationKind
    object_type: ObjectType
    object_id: str
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def __post_init__(self) -> None:
        if self.object_type not in ALLOWED_OBJECTS[self.kind]:
            raise ValidationFailed(
                f"relation {self.kind.value!r} cannot point at a {self.object_type.value}"
            )
        if not self.user_id or not self.object_id:
            raise ValidationFailed("a relation needs a user and an object")
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise ValidationFailed("a relation must end after it starts")

    @property
    def key(self) -> tuple[str, RelationKind, ObjectType, str]:
        return (self.user_id, self.kind, self.object_type, self.object_id)

    def valid_at(self, now: datetime) -> bool:
        if self.valid_from is not None and now < self.valid_from:
            return False
        return self.valid_until is None or now < self.valid_until


__all__ = ["ALLOWED_OBJECTS", "ObjectType", "Relation", "RelationKind"]
