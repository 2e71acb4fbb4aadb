"""Audited administration: catalogs, assignments and relations, refusals included."""

from __future__ import annotations

from typing import Any

import pytest

from rempart.access import (
    AccessAdmin,
    AccessDenied,
    CircularRoleDefinition,
    MemorySink,
    ObjectType,
    Permission,
    Relation,
    RelationKind,
    RoleCatalog,
    SeparationOfDutyViolation,
    TenantAccess,
    UnknownPermission,
    decide,
    default_catalog,
    role_permission_matrix,
)
from tests.access.helpers import FixedClock, call, make_state, who


def admin(state: TenantAccess | None = None) -> tuple[AccessAdmin, MemorySink, TenantAccess]:
    st = state or make_state()
    sink = MemorySink()
    return AccessAdmin(st, st, sink, clock=FixedClock()), sink, st


def test_bad_role_configuration_is_refused_and_audited() -> None:
    adm, sink, _ = admin()
    saved: list[RoleCatalog] = []
    bad: dict[str, Any] = {"roles": {"a": {"permissions": ["interaction:everything"]}}}
    with pytest.raises(UnknownPermission):
        adm.configure_roles(who("tess"), bad, saved.append)
    loop: dict[str, Any] = {"roles": {"a": {"inherits": ["b"]}, "b": {"inherits": ["a"]}}}
    with pytest.raises(CircularRoleDefinition):
        adm.configure_roles(who("tess"), loop, saved.append)
    assert saved == []
    assert [(e.action, e.outcome, e.reason) for e in sink.audit] == [
        ("access.role.define", "failure", "unknown-permission"),
        ("access.role.define", "failure", "circular-role-definition"),
    ]
    assert "a -> b -> a" in sink.audit[1].details["detail"]


def test_only_role_definers_define_roles() -> None:
    adm, sink, _ = admin()
    with pytest.raises(AccessDenied):
        adm.configure_roles(who("bob"), {"roles": {"a": {}}}, lambda c: None)
    refused = sink.audit[-1]
    assert refused.outcome == "failure"
    saved: list[RoleCatalog] = []
    adm.configure_roles(who("tess"), {"roles": {"a": {}}}, saved.append)
    assert list(saved[0].roles) == ["a"]
    assert sink.audit[-1].outcome == "success"


def test_role_assignment_is_checked_and_audited() -> None:
    adm, sink, state = admin()
    adm.assign_role(who("tess"), "alice", "quality_analyst")
    assert "quality_analyst" in state.roles_of("alice")
    with pytest.raises(AccessDenied):
        adm.assign_role(who("alice"), "alice", "supervisor")
    with pytest.raises(AccessDenied, match="themselves"):
        adm.assign_role(who("tess"), "tess", "supervisor")
    with pytest.raises(SeparationOfDutyViolation):
        adm.assign_role(who("tess"), "aude", "tenant_admin")
    outcomes = [(e.action, e.outcome) for e in sink.audit]
    assert outcomes == [
        ("access.role.assign", "success"),
        ("access.role.assign", "failure"),
        ("access.role.assign", "failure"),
        ("access.role.assign", "failure"),
    ]


def test_relation_changes_apply_to_the_next_decision() -> None:
    adm, sink, state = admin()
    rel = Relation("alice", RelationKind.ASSIGNED, ObjectType.INTERACTION, "i-5")
    res = call("i-5", agent="carol")
    assert not decide(state, who("alice"), Permission.INTERACTION_READ, res, now=adm.clock())
    adm.relate(who("tess"), rel)
    assert decide(state, who("alice"), Permission.INTERACTION_READ, res, now=adm.clock())
    assert adm.unrelate(who("tess"), rel)
    assert not decide(state, who("alice"), Permission.INTERACTION_READ, res, now=adm.clock())
    assert [e.action for e in sink.audit] == ["access.relation.add", "access.relation.remove"]


def test_the_role_permission_matrix_matches_decisions() -> None:
    from rempart.access import TenantResource
    from tests.access.helpers import NOW, T1

    matrix = role_permission_matrix(default_catalog())
    assert matrix["auditor"][Permission.AUDIT_READ]
    assert not matrix["auditor"][Permission.ROLE_ASSIGN]
    assert not matrix["integration"][Permission.INTERACTION_READ]
    state = make_state()
    holder = {
        "agent": "alice",
        "supervisor": "bob",
        "quality_analyst": "quinn",
        "security_officer": "sam",
        "tenant_admin": "tess",
        "auditor": "aude",
        "integration": "int",
    }
    for role, row in matrix.items():
        for permission, expected in row.items():
            if permission.need_to_know:
                continue
            got = decide(state, who(holder[role]), permission, TenantResource(T1), now=NOW)
            assert bool(got) is expected, (role, permission)
