"""The decision point: roles, need-to-know relations, windows, obligations, revocation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from rempart.access import (
    AccessDenied,
    Allow,
    Deny,
    DenyReason,
    ObjectType,
    ObligationKind,
    Permission,
    Principal,
    Relation,
    RelationKind,
    SensitiveField,
    TenantResource,
    TrainingNotEnforced,
    decide,
    require,
)
from rempart.access.policy import AccessPolicy
from rempart.access.training import NoTrainingRecords
from rempart.errors import ValidationFailed
from rempart.types import TenantId
from tests.access.helpers import NOW, T1, T2, call, make_state, who

READ = Permission.INTERACTION_READ


def test_agent_reads_an_interaction_they_handled() -> None:
    d = decide(make_state(), who("alice"), READ, call(agent="alice"), now=NOW)
    assert isinstance(d, Allow)
    assert d.basis == "handled"


def test_agent_cannot_read_a_colleagues_interaction() -> None:
    d = decide(make_state(), who("alice"), READ, call(agent="carol"), now=NOW)
    assert d == Deny(DenyReason.NO_RELATION)


def test_agent_loses_a_handled_interaction_after_the_window() -> None:
    old = call(agent="alice", age=timedelta(days=31))
    assert decide(make_state(), who("alice"), READ, old, now=NOW) == Deny(DenyReason.WINDOW_ELAPSED)


def test_agent_reads_an_assigned_interaction_until_unassigned() -> None:
    state = make_state()
    rel = Relation("alice", RelationKind.ASSIGNED, ObjectType.INTERACTION, "i-9")
    state.add_relation(rel)
    res = call("i-9", agent="carol")
    d = decide(state, who("alice"), READ, res, now=NOW)
    assert isinstance(d, Allow)
    assert d.basis == "assigned"
    state.remove_relation("alice", RelationKind.ASSIGNED, ObjectType.INTERACTION, "i-9")
    assert decide(state, who("alice"), READ, res, now=NOW) == Deny(DenyReason.NO_RELATION)


def test_a_relation_outside_its_validity_opens_nothing() -> None:
    state = make_state()
    state.add_relation(
        Relation(
            "alice",
            RelationKind.ASSIGNED,
            ObjectType.INTERACTION,
            "i-9",
            valid_from=NOW - timedelta(days=2),
            valid_until=NOW - timedelta(days=1),
        )
    )
    assert not decide(state, who("alice"), READ, call("i-9", agent="x"), now=NOW)
    state.add_relation(
        Relation(
            "alice",
            RelationKind.ASSIGNED,
            ObjectType.INTERACTION,
            "i-8",
            valid_from=NOW + timedelta(days=1),
        )
    )
    assert not decide(state, who("alice"), READ, call("i-8", agent="x"), now=NOW)


def test_supervisor_reads_their_teams_interactions_only() -> None:
    state = make_state()
    mine = decide(state, who("bob"), READ, call(agent="carol", team="team-a"), now=NOW)
    assert isinstance(mine, Allow)
    assert mine.basis == "supervises"
    other = decide(state, who("bob"), READ, call(agent="carol", team="team-z"), now=NOW)
    assert other == Deny(DenyReason.NO_RELATION)
    no_team = decide(state, who("bob"), READ, call(agent="carol", team=None), now=NOW)
    assert not no_team


def test_supervisor_reach_is_limited_in_time() -> None:
    state = make_state()
    old = call(agent="carol", team="team-a", age=timedelta(days=91))
    assert decide(state, who("bob"), READ, old, now=NOW) == Deny(DenyReason.WINDOW_ELAPSED)


def test_supervisor_relation_with_an_end_date_lapses_by_itself() -> None:
    state = make_state()
    state.add_relation(
        Relation(
            "bob",
            RelationKind.SUPERVISES,
            ObjectType.TEAM,
            "team-a",
            valid_until=NOW + timedelta(hours=1),
        )
    )
    res = call(agent="carol")
    assert decide(state, who("bob"), READ, res, now=NOW)
    assert not decide(state, who("bob"), READ, res, now=NOW + timedelta(hours=1))


def test_quality_analyst_reaches_the_queue_they_evaluate() -> None:
    state = make_state()
    d = decide(
        state,
        who("quinn"),
        Permission.RECORDING_PLAY,
        call(agent="carol", queue="queue-b", team="team-q"),
        now=NOW,
    )
    assert isinstance(d, Allow)
    assert d.basis == "evaluates"
    assert not decide(state, who("quinn"), READ, call(agent="carol", queue="queue-x"), now=NOW)


def test_a_relation_without_the_role_permission_opens_nothing() -> None:
    state = make_state()
    state.add_relation(Relation("tess", RelationKind.SUPERVISES, ObjectType.TEAM, "team-a"))
    d = decide(state, who("tess"), READ, call(agent="carol"), now=NOW)
    assert d == Deny(DenyReason.NO_ROLE_PERMISSION, "interaction:read")


def test_no_decision_crosses_tenants() -> None:
    state = make_state(T1)
    assert decide(state, who("alice", T2), READ, call(agent="alice"), now=NOW) == Deny(
        DenyReason.CROSS_TENANT
    )
    assert decide(state, who("alice"), READ, call(agent="alice", tenant=T2), now=NOW) == Deny(
        DenyReason.CROSS_TENANT
    )


def test_unknown_and_inactive_users_are_denied() -> None:
    state = make_state()
    assert decide(state, who("mallory"), READ, call(), now=NOW) == Deny(DenyReason.UNKNOWN_USER)
    state.set_user("alice", active=False)
    assert decide(state, who("alice"), READ, call(), now=NOW) == Deny(DenyReason.INACTIVE_USER)


def test_the_integration_writes_but_never_reads() -> None:
    state = make_state()
    write = decide(state, who("int"), Permission.INTERACTION_WRITE, TenantResource(T1), now=NOW)
    assert isinstance(write, Allow)
    read = decide(state, who("int"), READ, call(agent="int"), now=NOW)
    assert read == Deny(DenyReason.MACHINE_CANNOT_READ)


def test_a_machine_principal_cannot_read_even_with_a_reading_role() -> None:
    state = make_state()
    state.set_user("bot")
    state.assign_role("bot", "auditor")
    bot = Principal(T1, "bot", machine=True)
    assert decide(state, bot, Permission.AUDIT_READ, TenantResource(T1), now=NOW) == Deny(
        DenyReason.MACHINE_CANNOT_READ
    )


def test_auditor_reads_audit_but_nothing_else() -> None:
    state = make_state()
    assert decide(state, who("aude"), Permission.AUDIT_READ, TenantResource(T1), now=NOW)
    assert not decide(state, who("aude"), Permission.ROLE_ASSIGN, TenantResource(T1), now=NOW)
    assert not decide(state, who("aude"), READ, call(agent="aude"), now=NOW)


def test_an_interaction_permission_needs_an_interaction() -> None:
    d = decide(make_state(), who("alice"), READ, TenantResource(T1), now=NOW)
    assert d == Deny(DenyReason.WRONG_RESOURCE, "this permission applies to one interaction")


def test_roles_that_break_separation_of_duty_deny_everything() -> None:
    state = make_state()
    state.set_roles_unchecked("tess", {"tenant_admin", "auditor"})  # e.g. loaded from an IdP
    d = decide(state, who("tess"), Permission.USER_READ, TenantResource(T1), now=NOW)
    assert isinstance(d, Deny)
    assert d.reason is DenyReason.SEPARATION_OF_DUTY


def test_reads_carry_a_mask_for_every_sensitive_field_they_show() -> None:
    d = require(decide(make_state(), who("alice"), READ, call(), now=NOW))
    kinds = {o.field: o.kind for o in d.obligations}
    assert kinds[SensitiveField.CARD_NUMBER] is ObligationKind.CARD_LAST_FOUR
    assert kinds[SensitiveField.PHONE] is ObligationKind.PHONE_PARTIAL
    assert kinds[SensitiveField.TRANSCRIPT] is ObligationKind.TRANSCRIPT_REDACTED
    play = require(
        decide(make_state(), who("bob"), Permission.RECORDING_PLAY, call(agent="carol"), now=NOW)
    )
    assert {o.kind for o in play.obligations} == {ObligationKind.RECORDING_SILENCED}


def test_a_field_without_a_configured_mask_is_hidden() -> None:
    policy = AccessPolicy(masks={})
    d = require(decide(make_state(policy=policy), who("alice"), READ, call(), now=NOW))
    assert d.obligations
    assert all(o.kind is ObligationKind.HIDE for o in d.obligations)


def test_require_turns_a_deny_into_a_403_with_its_reason() -> None:
    with pytest.raises(AccessDenied) as info:
        require(decide(make_state(), who("alice"), READ, call(agent="x"), now=NOW))
    assert info.value.status == 403
    assert info.value.extensions == {"reason": "no_relation"}


def test_revoking_a_role_applies_to_the_next_decision() -> None:
    state = make_state()
    res = call(agent="carol")
    assert decide(state, who("bob"), READ, res, now=NOW)  # warms the permission cache
    state.revoke_role("bob", "supervisor")
    assert decide(state, who("bob"), READ, res, now=NOW) == Deny(
        DenyReason.NO_ROLE_PERMISSION, "interaction:read"
    )


def test_every_change_moves_the_version() -> None:
    state = make_state()
    before = state.version
    state.add_relation(Relation("alice", RelationKind.MEMBER, ObjectType.TEAM, "team-b"))
    assert state.version == before + 1


def test_relation_to_the_wrong_kind_of_object_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        Relation("bob", RelationKind.SUPERVISES, ObjectType.INTERACTION, "i-1")
    with pytest.raises(ValidationFailed):
        Relation(
            "bob",
            RelationKind.ASSIGNED,
            ObjectType.INTERACTION,
            "i-1",
            valid_from=NOW,
            valid_until=NOW,
        )


def test_training_lapse_removes_a_gated_permission() -> None:
    class Records:
        def __init__(self) -> None:
            self.valid_until = NOW + timedelta(days=1)

        def is_current(
            self, tenant_id: TenantId, user_id: str, requirement: str, at: datetime
        ) -> bool:
            assert requirement == "pci-awareness"
            return user_id == "alice" and at < self.valid_until

    policy = AccessPolicy(training={READ: "pci-awareness"})
    state = make_state(policy=policy)
    records = Records()
    assert decide(state, who("alice"), READ, call(), now=NOW, training=records)
    records.valid_until = NOW
    d = decide(state, who("alice"), READ, call(), now=NOW, training=records)
    assert d == Deny(DenyReason.TRAINING_LAPSED, "pci-awareness")
    # An ungated permission is unaffected.
    assert decide(
        state, who("alice"), Permission.CUSTOMER_READ, TenantResource(T1), now=NOW, training=records
    )


def test_without_training_records_a_gated_permission_fails_closed() -> None:
    state = make_state(policy=AccessPolicy(training={READ: "gdpr"}))
    assert not decide(state, who("alice"), READ, call(), now=NOW, training=NoTrainingRecords())
    assert decide(state, who("alice"), READ, call(), now=NOW, training=TrainingNotEnforced())
