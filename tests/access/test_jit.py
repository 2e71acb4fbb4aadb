"""Just-in-time unmasking and break-glass: reasons, approvers, assurance, expiry, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rempart.access import (
    AccessDenied,
    GrantRefused,
    GrantService,
    GrantStatus,
    InvalidReason,
    MemorySink,
    ObligationKind,
    Permission,
    SensitiveField,
    TenantAccess,
    UnmaskRule,
    decide,
)
from rempart.access.policy import AccessPolicy
from rempart.types import TenantId
from tests.access.helpers import T1, FixedClock, call, make_state, who

UNMASK = Permission.INTERACTION_UNMASK
REASON = "customer disputes a payment, ticket 4711"


def service(state: TenantAccess | None = None) -> tuple[GrantService, MemorySink, FixedClock]:
    st = state or make_state()
    sink = MemorySink()
    clock = FixedClock()
    return GrantService(st, st, sink, sink, clock=clock), sink, clock


def test_unmask_without_a_grant_is_denied_and_audited() -> None:
    svc, sink, _ = service()
    with pytest.raises(AccessDenied, match="grant_required"):
        svc.unmask(who("bob", assurance=2), UNMASK, call(agent="carol"))
    assert sink.audit[-1].action == "access.unmask"
    assert sink.audit[-1].outcome == "failure"


def test_a_role_without_unmask_cannot_even_request() -> None:
    svc, sink, _ = service()
    with pytest.raises(GrantRefused, match="interaction:unmask"):
        svc.request(who("alice", assurance=2), [UNMASK], "i-1", REASON, timedelta(minutes=5))
    assert sink.audit[-1].outcome == "failure"


@pytest.mark.parametrize("reason", ["", "   ", "because", "x" * 501, "valid words\x00here ok"])
def test_empty_short_enormous_or_binary_reasons_are_refused_and_audited(reason: str) -> None:
    svc, sink, _ = service()
    with pytest.raises(InvalidReason):
        svc.request(who("bob", assurance=2), [UNMASK], "i-1", reason, timedelta(minutes=5))
    assert sink.audit[-1].outcome == "failure"
    assert sink.audit[-1].reason == "invalid-reason"


def test_a_grant_longer_than_the_policy_allows_is_refused() -> None:
    svc, _, _ = service()
    with pytest.raises(InvalidReason, match="at most"):
        svc.request(who("bob", assurance=2), [UNMASK], "i-1", REASON, timedelta(hours=2))


def test_low_assurance_must_step_up() -> None:
    svc, _, _ = service()
    with pytest.raises(GrantRefused, match="step-up") as info:
        svc.request(who("bob", assurance=1), [UNMASK], "i-1", REASON, timedelta(minutes=5))
    assert info.value.extensions == {"step_up": 2}


def test_full_flow_request_approve_unmask_expire() -> None:
    state = make_state()
    svc, sink, clock = service(state)
    bob = who("bob", assurance=2)
    grant = svc.request(bob, [UNMASK], "i-1", REASON, timedelta(minutes=10))
    assert grant.status is GrantStatus.PENDING
    with pytest.raises(AccessDenied):
        svc.unmask(bob, UNMASK, call(agent="carol"))

    with pytest.raises(GrantRefused, match="own grant"):
        svc.approve(bob, grant.id)
    with pytest.raises(GrantRefused, match="grant:approve"):
        svc.approve(who("alice", assurance=2), grant.id)

    clock.advance(timedelta(minutes=3))
    approved = svc.approve(who("sam", assurance=2), grant.id)
    assert approved.expires_at == clock.now + timedelta(minutes=10)

    allow = svc.unmask(bob, UNMASK, call(agent="carol"))
    assert allow.grant_id == grant.id
    assert {o.kind for o in allow.obligations} == {ObligationKind.AUDIT_UNMASK}
    assert SensitiveField.CARD_NUMBER in allow.unmasked_fields
    assert sink.audit[-1].action == "access.unmask"
    assert sink.audit[-1].outcome == "success"
    assert sink.events[-1][1] == "access.unmask"

    # Only the interaction the grant names.
    with pytest.raises(AccessDenied):
        svc.unmask(bob, UNMASK, call("i-2", agent="carol"))

    clock.advance(timedelta(minutes=10))
    with pytest.raises(AccessDenied, match="grant_expired"):
        svc.unmask(bob, UNMASK, call(agent="carol"))
    refused = sink.audit[-1]
    assert refused.outcome == "failure"
    assert refused.reason == "grant_expired"


def test_the_grant_needs_its_assurance_at_use_time_too() -> None:
    svc, _, _ = service()
    grant = svc.request(who("bob", assurance=2), [UNMASK], "i-1", REASON, timedelta(minutes=5))
    svc.approve(who("sam", assurance=2), grant.id)
    with pytest.raises(AccessDenied, match="assurance_too_low"):
        svc.unmask(who("bob", assurance=1), UNMASK, call(agent="carol"))


def test_a_revoked_grant_stops_at_once() -> None:
    svc, _, _ = service()
    bob = who("bob", assurance=2)
    grant = svc.request(bob, [UNMASK], "i-1", REASON, timedelta(minutes=5))
    svc.approve(who("sam", assurance=2), grant.id)
    assert svc.unmask(bob, UNMASK, call(agent="carol"))
    svc.revoke(who("sam"), grant.id)
    with pytest.raises(AccessDenied):
        svc.unmask(bob, UNMASK, call(agent="carol"))


def test_a_refused_or_approved_grant_cannot_be_approved_again() -> None:
    svc, _, _ = service()
    grant = svc.request(who("bob", assurance=2), [UNMASK], "i-1", REASON, timedelta(minutes=5))
    svc.refuse(who("sam", assurance=2), grant.id)
    with pytest.raises(GrantRefused, match="refused"):
        svc.approve(who("sam", assurance=2), grant.id)


def test_policy_without_approver_activates_at_once() -> None:
    policy = AccessPolicy(
        unmask_rules={UNMASK: UnmaskRule(requires_approver=False, min_assurance=1)}
    )
    svc, _, _ = service(make_state(policy=policy))
    grant = svc.request(who("bob"), [UNMASK], "i-1", REASON, timedelta(minutes=5))
    assert grant.status is GrantStatus.ACTIVE
    assert svc.unmask(who("bob"), UNMASK, call(agent="carol"))


def test_a_permission_without_grant_policy_cannot_be_granted() -> None:
    svc, _, _ = service()
    with pytest.raises(GrantRefused, match="no grant policy"):
        svc.request(
            who("bob", assurance=2), [Permission.GRANT_APPROVE], "i-1", REASON, timedelta(minutes=5)
        )


def test_break_glass_needs_the_permission() -> None:
    svc, sink, _ = service()
    with pytest.raises(GrantRefused):
        svc.break_glass(who("bob", assurance=2), REASON)
    assert sink.events == []
    assert sink.audit[-1].action == "access.break_glass"
    assert sink.audit[-1].outcome == "failure"


def test_break_glass_works_without_approver_alerts_and_awaits_review() -> None:
    state = make_state()
    svc, sink, clock = service(state)
    sam = who("sam", assurance=2)
    # The security officer has no relation to the call and no interaction:read role permission.
    assert not decide(state, sam, Permission.INTERACTION_READ, call(agent="carol"), now=clock.now)
    grant = svc.break_glass(sam, REASON)
    assert grant.status is GrantStatus.ACTIVE
    assert grant.review_required
    tenant, kind, _, urgent = sink.events[-1]
    assert (tenant, kind, urgent) == (T1, "access.break_glass", True)
    assert decide(state, sam, Permission.INTERACTION_READ, call(agent="carol"), now=clock.now)
    assert svc.unmask(sam, UNMASK, call(agent="carol"))
    assert [g.id for g in svc.pending_reviews()] == [grant.id]

    with pytest.raises(GrantRefused, match="own"):
        svc.review_break_glass(sam, grant.id, "justified")
    reviewed = svc.review_break_glass(who("bob"), grant.id, "unjustified")
    assert reviewed.status is GrantStatus.REVOKED
    assert svc.pending_reviews() == []
    assert not decide(state, sam, Permission.INTERACTION_READ, call(agent="carol"), now=clock.now)


def test_break_glass_expires() -> None:
    state = make_state()
    svc, _, clock = service(state)
    sam = who("sam", assurance=2)
    svc.break_glass(sam, REASON, interaction_id="i-1")
    assert decide(state, sam, Permission.INTERACTION_READ, call(agent="c"), now=clock.now)
    assert not decide(
        state, sam, Permission.INTERACTION_READ, call("i-2", agent="c"), now=clock.now
    )
    clock.advance(timedelta(hours=1))
    assert not decide(state, sam, Permission.INTERACTION_READ, call(agent="c"), now=clock.now)


def test_break_glass_requires_step_up() -> None:
    svc, _, _ = service()
    with pytest.raises(GrantRefused, match="step-up"):
        svc.break_glass(who("sam", assurance=1), REASON)


def test_approver_policy_can_demand_the_requesters_team_supervisor() -> None:
    rule = UnmaskRule(requires_approver=True, min_assurance=1, approver_scope="team_supervisor")
    state = make_state(policy=AccessPolicy(unmask_rules={UNMASK: rule}))
    state.assign_role("alice", "supervisor")  # alice (team-a member) may now request unmasking
    state.revoke_role("alice", "agent")
    svc, sink, _ = service(state)
    grant = svc.request(who("alice"), [UNMASK], "i-1", REASON, timedelta(minutes=5))
    with pytest.raises(GrantRefused, match="supervise"):
        svc.approve(who("sam"), grant.id)  # holds grant:approve, supervises no team of hers
    assert sink.audit[-1].outcome == "failure"
    assert svc.approve(who("bob"), grant.id).status is GrantStatus.ACTIVE  # bob supervises team-a


def test_an_inactive_or_foreign_reviewer_cannot_review_break_glass() -> None:
    state = make_state()
    svc, sink, _ = service(state)
    grant = svc.break_glass(who("sam", assurance=2), REASON)
    state.set_user("bob", active=False)
    with pytest.raises(GrantRefused, match="access_review:decide"):
        svc.review_break_glass(who("bob"), grant.id, "unjustified")
    with pytest.raises(GrantRefused, match="another tenant"):
        svc.review_break_glass(who("bob", tenant=TenantId("t-other")), grant.id, "unjustified")
    assert sink.audit[-1].outcome == "failure"
    assert [g.id for g in svc.pending_reviews()] == [grant.id]
