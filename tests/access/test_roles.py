"""Roles as data: inheritance, separation of duty, machine roles, bad configuration."""

from __future__ import annotations

from typing import Any

import pytest

from rempart.access import (
    CircularRoleDefinition,
    Permission,
    RoleConstraintViolated,
    RoleDefinition,
    SeparationOfDutyViolation,
    UnknownPermission,
    UnknownRole,
    build_catalog,
    catalog_from_mapping,
    catalog_to_mapping,
    default_catalog,
)
from rempart.errors import ValidationFailed


def test_default_catalog_has_the_seven_roles() -> None:
    assert set(default_catalog().roles) == {
        "agent",
        "supervisor",
        "quality_analyst",
        "security_officer",
        "tenant_admin",
        "auditor",
        "integration",
    }


def test_supervisor_inherits_agent_permissions() -> None:
    cat = default_catalog()
    assert cat.effective["agent"] <= cat.effective["supervisor"]
    assert Permission.GRANT_APPROVE in cat.effective["supervisor"]


def test_auditor_is_read_only() -> None:
    writes = {p for p in default_catalog().effective["auditor"] if not p.reads_data}
    assert writes == set()


def test_tenant_admin_reads_no_contact_data() -> None:
    assert not any(p.need_to_know for p in default_catalog().effective["tenant_admin"])


def test_integration_role_never_reads() -> None:
    perms = default_catalog().effective["integration"]
    assert Permission.INTERACTION_WRITE in perms
    assert not any(p.reads_data for p in perms)


def test_nobody_is_both_tenant_admin_and_auditor() -> None:
    cat = default_catalog()
    with pytest.raises(SeparationOfDutyViolation, match="auditor and tenant_admin"):
        cat.check_assignment({"tenant_admin"}, "auditor")
    with pytest.raises(SeparationOfDutyViolation):
        cat.check_assignment({"auditor"}, "tenant_admin")
    cat.check_assignment({"auditor"}, "security_officer")  # no rule against this one


def test_separation_of_duty_sees_through_inheritance() -> None:
    roles = [
        *default_catalog().roles.values(),
        RoleDefinition("super_admin", frozenset(), inherits=("tenant_admin",)),
    ]
    cat = build_catalog(roles)
    with pytest.raises(SeparationOfDutyViolation):
        cat.check_assignment({"super_admin"}, "auditor")


def test_a_role_may_not_inherit_both_exclusive_roles() -> None:
    roles = [
        *default_catalog().roles.values(),
        RoleDefinition("god", frozenset(), inherits=("tenant_admin", "auditor")),
    ]
    with pytest.raises(SeparationOfDutyViolation, match="god"):
        build_catalog(roles)


def test_the_mandatory_exclusion_cannot_be_configured_away() -> None:
    data = catalog_to_mapping(default_catalog())
    data["exclusions"] = []
    cat = catalog_from_mapping(data)
    assert frozenset({"tenant_admin", "auditor"}) in cat.exclusions


def test_a_machine_role_that_reads_is_refused() -> None:
    bad = RoleDefinition("feeder", frozenset({Permission.INTERACTION_READ}), machine=True)
    with pytest.raises(RoleConstraintViolated, match=r"feeder.*interaction:read"):
        build_catalog([bad])


def test_the_integration_role_is_a_machine_role_even_if_configured_otherwise() -> None:
    data: dict[str, Any] = {"roles": {"integration": {"permissions": ["interaction:read"]}}}
    with pytest.raises(RoleConstraintViolated, match="may not read"):
        catalog_from_mapping(data)


def test_an_integration_role_cannot_read_through_inheritance() -> None:
    data: dict[str, Any] = {
        "roles": {
            "agent": {"permissions": ["interaction:read"]},
            "integration": {"permissions": ["interaction:write"], "inherits": ["agent"]},
        }
    }
    with pytest.raises(RoleConstraintViolated):
        catalog_from_mapping(data)


def test_unknown_permission_in_configuration_names_the_role() -> None:
    data: dict[str, Any] = {"roles": {"agent": {"permissions": ["interaction:reed"]}}}
    with pytest.raises(UnknownPermission, match=r"role 'agent'.*interaction:read"):
        catalog_from_mapping(data)


def test_circular_role_definition_prints_the_loop() -> None:
    data: dict[str, Any] = {
        "roles": {
            "a": {"permissions": [], "inherits": ["b"]},
            "b": {"permissions": [], "inherits": ["c"]},
            "c": {"permissions": [], "inherits": ["a"]},
        }
    }
    with pytest.raises(CircularRoleDefinition, match=r"a -> b -> c -> a"):
        catalog_from_mapping(data)


def test_a_role_inheriting_itself_is_circular() -> None:
    with pytest.raises(CircularRoleDefinition, match="a -> a"):
        catalog_from_mapping({"roles": {"a": {"inherits": ["a"]}}})


def test_inheriting_an_unknown_role_is_refused() -> None:
    with pytest.raises(UnknownRole, match="ghost"):
        catalog_from_mapping({"roles": {"a": {"inherits": ["ghost"]}}})


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"roles": {}},
        {"roles": {"Bad Name": {}}},
        {"roles": {"a": {"permissions": "interaction:read"}}},
        {"roles": {"a": {"colour": "red"}}},
        {"roles": {"a": {}}, "exclusions": [["a"]]},
        {"roles": {"a": {}}, "exclusions": "a,b"},
    ],
)
def test_malformed_catalogs_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        catalog_from_mapping(data)


def test_exclusion_naming_an_unknown_role_is_refused() -> None:
    with pytest.raises(UnknownRole):
        catalog_from_mapping({"roles": {"a": {}}, "exclusions": [["a", "ghost"]]})


def test_duplicate_role_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="twice"):
        build_catalog([RoleDefinition("a", frozenset()), RoleDefinition("a", frozenset())])


def test_catalog_round_trips_through_plain_data() -> None:
    cat = default_catalog()
    again = catalog_from_mapping(catalog_to_mapping(cat))
    assert dict(again.effective) == dict(cat.effective)
    assert set(again.exclusions) == set(cat.exclusions)


def test_assigning_an_unknown_role_is_refused() -> None:
    with pytest.raises(UnknownRole):
        default_catalog().check_assignment(set(), "root")
