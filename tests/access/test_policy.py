"""A tenant's access policy as data: round trip, refusals, effect on decisions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from rempart.access import (
    AccessAdmin,
    AccessPolicy,
    MemorySink,
    ObligationKind,
    Permission,
    SensitiveField,
    UnknownPermission,
    decide,
    policy_from_mapping,
    policy_to_mapping,
    require,
)
from rempart.access.training import TrainingNotEnforced
from rempart.errors import ValidationFailed
from tests.access.helpers import NOW, FixedClock, call, make_state, who


def test_the_default_policy_round_trips() -> None:
    default = AccessPolicy()
    assert policy_from_mapping(policy_to_mapping(default)) == default
    assert policy_from_mapping({}) == default


def test_a_configured_policy_round_trips_and_changes_decisions() -> None:
    policy = policy_from_mapping(
        {
            "handled_window_days": 7,
            "masks": {"phone": "hide"},
            "unmask_rules": {
                "interaction:unmask": {
                    "requires_approver": False,
                    "min_assurance": 3,
                    "max_minutes": 10,
                    "approver_scope": "team_supervisor",
                }
            },
            "training": {"interaction:read": "gdpr-basics"},
            "break_glass_minutes": 15,
            "toxic": [{"permissions": ["role:assign", "export:create"], "why": "exfiltration"}],
        }
    )
    assert policy_from_mapping(policy_to_mapping(policy)) == policy
    assert policy.handled_window == timedelta(days=7)
    assert policy.unmask_rules[Permission.INTERACTION_UNMASK].min_assurance == 3
    state = make_state(policy=policy)
    old = call(agent="alice", age=timedelta(days=8))
    assert not decide(
        state,
        who("alice"),
        Permission.INTERACTION_READ,
        old,
        now=NOW,
        training=TrainingNotEnforced(),
    )
    allow = require(
        decide(
            state,
            who("alice"),
            Permission.INTERACTION_READ,
            call(),
            now=NOW,
            training=TrainingNotEnforced(),
        )
    )
    masks = {o.field: o.kind for o in allow.obligations}
    assert masks[SensitiveField.PHONE] is ObligationKind.HIDE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"colour": 1}, "unknown policy keys"),
        ({"handled_window_days": 0}, "handled_window_days"),
        ({"handled_window_days": True}, "handled_window_days"),
        ({"masks": {"shoe_size": "hide"}}, "shoe_size"),
        ({"masks": {"phone": "audit_unmask"}}, "not a mask"),
        ({"unmask_rules": {"interaction:unmask": {"min_assurance": 4}}}, "assurance"),
        ({"unmask_rules": {"interaction:unmask": {"max_minutes": 100000}}}, "minutes"),
        ({"unmask_rules": {"interaction:unmask": {"approver_scope": "me"}}}, "approver_scope"),
        ({"unmask_rules": {"interaction:unmask": {"speed": 1}}}, "unknown keys"),
        ({"training": {"interaction:read": ""}}, "requirement"),
        ({"toxic": [{"permissions": ["role:assign"]}]}, "at least two"),
        ({"masks": []}, "mapping"),
    ],
)
def test_malformed_policies_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        policy_from_mapping(data)


@pytest.mark.parametrize(
    "data",
    [
        {"unmask_rules": {"interaction:unmaks": {}}},
        {"training": {"recording:listen": "x"}},
        {"toxic": [{"permissions": ["role:assign", "audit:reed"]}]},
    ],
)
def test_unknown_permissions_in_a_policy_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(UnknownPermission):
        policy_from_mapping(data)


def test_configuring_the_policy_is_audited_and_needs_tenant_configure() -> None:
    state = make_state()
    sink = MemorySink()
    adm = AccessAdmin(state, state, sink, clock=FixedClock())
    saved: list[AccessPolicy] = []
    with pytest.raises(ValidationFailed):
        adm.configure_policy(who("tess"), {"handled_window_days": -1}, saved.append)
    from rempart.access import AccessDenied

    with pytest.raises(AccessDenied):
        adm.configure_policy(who("sam"), {}, saved.append)
    adm.configure_policy(who("tess"), {"dormant_after_days": 30}, saved.append)
    assert [(e.action, e.outcome) for e in sink.audit] == [
        ("access.policy.configure", "failure"),
        ("access.policy.configure", "failure"),
        ("access.policy.configure", "success"),
    ]
    assert saved[0].dormant_after == timedelta(days=30)
