"""Builders shared by the access tests: a tenant state with a cast of users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rempart.access import (
    InteractionResource,
    ObjectType,
    Principal,
    Relation,
    RelationKind,
    TenantAccess,
    default_catalog,
)
from rempart.access.policy import AccessPolicy
from rempart.types import TenantId

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
T1 = TenantId("tenant-1")
T2 = TenantId("tenant-2")


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def make_state(tenant: TenantId = T1, policy: AccessPolicy | None = None) -> TenantAccess:
    """Users: alice (agent, member of team-a), bob (supervisor of team-a), quinn (quality
    analyst evaluating queue-b), sam (security officer), tess (tenant admin), aude (auditor),
    int (integration, machine)."""
    state = TenantAccess(tenant, default_catalog(), policy)
    for user, role in [
        ("alice", "agent"),
        ("bob", "supervisor"),
        ("quinn", "quality_analyst"),
        ("sam", "security_officer"),
        ("tess", "tenant_admin"),
        ("aude", "auditor"),
        ("int", "integration"),
    ]:
        state.set_user(user)
        state.assign_role(user, role)
    state.add_relation(Relation("alice", RelationKind.MEMBER, ObjectType.TEAM, "team-a"))
    state.add_relation(Relation("bob", RelationKind.SUPERVISES, ObjectType.TEAM, "team-a"))
    state.add_relation(Relation("quinn", RelationKind.EVALUATES, ObjectType.QUEUE, "queue-b"))
    return state


def who(user: str, tenant: TenantId = T1, *, assurance: int = 1) -> Principal:
    return Principal(tenant, user, assurance=assurance, machine=user == "int")


def call(
    interaction_id: str = "i-1",
    *,
    tenant: TenantId = T1,
    agent: str | None = "alice",
    team: str | None = "team-a",
    queue: str | None = "queue-a",
    age: timedelta = timedelta(hours=1),
) -> InteractionResource:
    return InteractionResource(tenant, interaction_id, NOW - age, queue, team, agent)
