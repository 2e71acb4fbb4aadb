"""Permissions: one closed enum, named resource:action, unknown names refused clearly."""

from __future__ import annotations

import pytest

from rempart.access import Permission, UnknownPermission, parse_permission
from rempart.access.permissions import NAME_RULE, check_naming


def test_every_permission_follows_the_naming_rule() -> None:
    assert check_naming() == []
    for p in Permission:
        assert p.value == f"{p.resource}:{p.action}"


@pytest.mark.parametrize(
    "bad", ["interaction", "Interaction:Read", "a:b:c", "x:", ":read", "a b:c"]
)
def test_the_naming_rule_refuses_malformed_names(bad: str) -> None:
    assert not NAME_RULE.match(bad)


def test_the_issue_names_exist() -> None:
    for name in [
        "interaction:read",
        "interaction:unmask",
        "recording:play",
        "export:create",
        "role:assign",
        "audit:read",
        "interaction:write",
    ]:
        assert parse_permission(name).value == name


def test_unknown_permission_suggests_the_closest_name() -> None:
    with pytest.raises(UnknownPermission, match="did you mean 'interaction:read'") as info:
        parse_permission("interaction:raed", where="role 'agent'")
    assert "role 'agent'" in info.value.detail
    assert info.value.status == 422


def test_malformed_permission_explains_the_rule() -> None:
    with pytest.raises(UnknownPermission, match="resource:action"):
        parse_permission("READ_ALL")


def test_an_enormous_permission_name_is_not_echoed_whole() -> None:
    with pytest.raises(UnknownPermission) as info:
        parse_permission("x" * 10_000)
    assert len(info.value.detail) < 300


def test_unmasking_is_grant_only_and_need_to_know() -> None:
    assert Permission.INTERACTION_UNMASK.grant_only
    assert Permission.INTERACTION_UNMASK.need_to_know
    assert not Permission.INTERACTION_READ.grant_only
    assert not Permission.AUDIT_READ.need_to_know
    assert Permission.AUDIT_READ.reads_data
    assert not Permission.INTERACTION_WRITE.reads_data
