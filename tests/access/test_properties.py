"""Laws of the decision point, over random tenants, users, roles, relations and interactions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.access import (
    Allow,
    InteractionResource,
    ObjectType,
    Permission,
    Principal,
    Relation,
    RelationKind,
    TenantAccess,
    TenantResource,
    decide,
    default_catalog,
)
from rempart.access.obligations import FIELDS_SHOWN
from rempart.types import TenantId
from tests.access.helpers import NOW

TENANTS = [TenantId("ta"), TenantId("tb"), TenantId("tc")]
USERS = ["u0", "u1", "u2", "u3", "u4"]
TEAMS = ["team0", "team1"]
QUEUES = ["q0", "q1", "q2"]
INTERACTIONS = ["i0", "i1", "i2", "i3"]
ROLES = sorted(default_catalog().roles)
PERMS = list(Permission)
DATA_PERMS = sorted(p for p in Permission if p.need_to_know and not p.grant_only)
KINDS = [RelationKind.ASSIGNED, RelationKind.SUPERVISES, RelationKind.EVALUATES]

relations = st.builds(
    lambda user, kind, team, queue, inter, use_queue, until: Relation(
        user,
        kind,
        ObjectType.INTERACTION
        if kind is RelationKind.ASSIGNED
        else (
            ObjectType.QUEUE if kind is RelationKind.EVALUATES and use_queue else ObjectType.TEAM
        ),
        inter
        if kind is RelationKind.ASSIGNED
        else (queue if kind is RelationKind.EVALUATES and use_queue else team),
        None,
        None if until is None else NOW + timedelta(hours=until),
    ),
    st.sampled_from(USERS),
    st.sampled_from(KINDS),
    st.sampled_from(TEAMS),
    st.sampled_from(QUEUES),
    st.sampled_from(INTERACTIONS),
    st.booleans(),
    st.one_of(st.none(), st.integers(-5, 5).filter(lambda h: h != 0)),
)

worlds = st.fixed_dictionaries(
    {
        "roles": st.dictionaries(
            st.sampled_from(USERS),
            st.frozensets(st.sampled_from(ROLES), min_size=1, max_size=3),
            min_size=3,
        ),
        "inactive": st.frozensets(st.sampled_from(USERS), max_size=1),
        "relations": st.lists(relations, min_size=2, max_size=10),
    }
)

resources = st.builds(
    lambda tenant, inter, queue, team, agent, age_days: InteractionResource(
        tenant, inter, NOW - timedelta(days=age_days), queue, team, agent
    ),
    st.sampled_from(TENANTS),
    st.sampled_from(INTERACTIONS),
    st.one_of(st.none(), st.sampled_from(QUEUES)),
    st.one_of(st.none(), st.sampled_from(TEAMS)),
    st.one_of(st.none(), st.sampled_from(USERS)),
    st.integers(0, 120),
)

principals = st.builds(
    Principal,
    st.sampled_from(TENANTS),
    st.sampled_from([*USERS, "stranger"]),
    st.integers(1, 3),
    st.booleans(),
)


def build(tenant: TenantId, world: dict[str, Any]) -> TenantAccess:
    state = TenantAccess(tenant, default_catalog())
    for user in USERS:
        state.set_user(user, active=user not in world["inactive"])
    for user, roles in world["roles"].items():
        state.set_roles_unchecked(user, roles)
    for rel in world["relations"]:
        state.add_relation(rel)
    return state


@settings(max_examples=200, deadline=None)
@given(
    world=worlds,
    principal=principals,
    permission=st.sampled_from(PERMS),
    resource=st.one_of(resources, st.builds(TenantResource, st.sampled_from(TENANTS))),
    home=st.sampled_from(TENANTS),
)
def test_no_decision_ever_allows_across_tenants(
    world: dict[str, Any],
    principal: Principal,
    permission: Permission,
    resource: InteractionResource | TenantResource,
    home: TenantId,
) -> None:
    # Every tenant has the same user names, roles and relations: only the tenant differs.
    decision = decide(build(home, world), principal, permission, resource, now=NOW)
    if isinstance(decision, Allow):
        assert principal.tenant_id == home
        assert resource.tenant_id == home


@settings(max_examples=200, deadline=None)
@given(
    world=worlds,
    user=st.sampled_from(USERS),
    permission=st.sampled_from(DATA_PERMS),
    resource=resources,
)
def test_removing_a_relation_removes_the_access_it_gave(
    world: dict[str, Any], user: str, permission: Permission, resource: InteractionResource
) -> None:
    tenant = resource.tenant_id
    state = build(tenant, world)
    principal = Principal(tenant, user)
    before = decide(state, principal, permission, resource, now=NOW)
    if not isinstance(before, Allow) or before.basis not in {"assigned", "supervises", "evaluates"}:
        return
    for rel in list(state.relations(user)):
        state.remove_relation(rel.user_id, rel.kind, rel.object_type, rel.object_id)
    after = decide(state, principal, permission, resource, now=NOW)
    if resource.agent_id == user:
        assert not isinstance(after, Allow) or after.basis == "handled"
    else:
        assert not isinstance(after, Allow)


@settings(max_examples=200, deadline=None)
@given(world=worlds, principal=principals, permission=st.sampled_from(PERMS), resource=resources)
def test_obligations_are_always_present_for_masked_fields(
    world: dict[str, Any],
    principal: Principal,
    permission: Permission,
    resource: InteractionResource,
) -> None:
    state = build(principal.tenant_id, world)
    decision = decide(state, principal, permission, resource, now=NOW)
    if isinstance(decision, Allow) and permission in FIELDS_SHOWN:
        assert decision.masked_fields == FIELDS_SHOWN[permission]
        assert decision.unmasked_fields == frozenset()
    if isinstance(decision, Allow):
        assert not (permission.grant_only and decision.basis != "grant")


ops = st.lists(
    st.one_of(
        st.tuples(st.just("assign"), st.sampled_from(USERS), st.sampled_from(ROLES)),
        st.tuples(st.just("revoke"), st.sampled_from(USERS), st.sampled_from(ROLES)),
        st.tuples(st.just("relate"), relations),
        st.tuples(st.just("unrelate"), relations),
        st.tuples(st.just("deactivate"), st.sampled_from(USERS)),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(
    changes=ops,
    queries=st.lists(
        st.tuples(st.sampled_from(USERS), st.sampled_from(PERMS), resources), min_size=1, max_size=4
    ),
)
def test_a_warm_cache_decides_like_a_fresh_state_after_every_change(
    changes: list[tuple[Any, ...]],
    queries: list[tuple[str, Permission, InteractionResource]],
) -> None:
    tenant = TENANTS[0]
    live = TenantAccess(tenant, default_catalog())
    roles: dict[str, set[str]] = {u: set() for u in USERS}
    rels: dict[tuple[object, ...], Relation] = {}
    inactive: set[str] = set()
    for user in USERS:
        live.set_user(user)
    for change in changes:
        # Warm every cache before the change.
        for user, perm, res in queries:
            decide(live, Principal(tenant, user), perm, _in(res, tenant), now=NOW)
        match change:
            case ("assign", user, role):
                live.set_roles_unchecked(user, roles[user] | {role})
                roles[user].add(role)
            case ("revoke", user, role):
                live.revoke_role(user, role)
                roles[user].discard(role)
            case ("relate", rel):
                live.add_relation(rel)
                rels[rel.key] = rel
            case ("unrelate", rel):
                live.remove_relation(rel.user_id, rel.kind, rel.object_type, rel.object_id)
                rels.pop(rel.key, None)
            case ("deactivate", user):
                live.set_user(user, active=False)
                inactive.add(user)
        fresh = build(
            tenant, {"roles": roles, "inactive": inactive, "relations": list(rels.values())}
        )
        for user, perm, res in queries:
            p, r = Principal(tenant, user), _in(res, tenant)
            assert decide(live, p, perm, r, now=NOW) == decide(fresh, p, perm, r, now=NOW)


def _in(res: InteractionResource, tenant: TenantId) -> InteractionResource:
    return InteractionResource(
        tenant, res.interaction_id, res.started_at, res.queue_id, res.team_id, res.agent_id
    )
