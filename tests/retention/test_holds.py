"""Legal holds suspend deletion of what they cover; releasing one resumes it; both audited."""

from __future__ import annotations

import pytest

from rempart.contact.media import MediaStore
from rempart.errors import Conflict, NotFound, ValidationFailed
from rempart.retention import (
    DataClass,
    HoldScope,
    list_holds,
    place_hold,
    purge,
    release_hold,
    set_policy,
)
from rempart.storage import Database, TenantContext
from tests.retention.helpers import (
    ACTOR,
    INTACT,
    ORIGIN,
    add_customer,
    add_interaction,
    audit_events,
    clock,
    runs,
    state,
)

EVERYTHING = {DataClass.ORIGINAL: 1, DataClass.METADATA: 40}


def test_a_tenant_hold_suspends_every_purge_and_its_release_resumes_them(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, EVERYTHING, clock=clock)
    old = add_interaction(db, tenant_a, media, age_days=50)
    trimmed = add_interaction(db, tenant_a, media, age_days=5)
    hold = place_hold(
        db, tenant_a, ORIGIN, HoldScope.TENANT, None, "regulator inquiry", clock=clock
    )

    report = purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert report.held
    dry = purge(db, tenant_a, media, actor=ACTOR, dry_run=True, clock=clock)
    assert dry.held
    assert dry.counts == {}
    assert state(db, tenant_a, media, old) == INTACT
    assert state(db, tenant_a, media, trimmed) == INTACT
    assert runs(db, tenant_a) == []

    release_hold(db, tenant_a, ORIGIN, hold.id, "inquiry closed", clock=clock)
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert not state(db, tenant_a, media, old).exists
    assert state(db, tenant_a, media, trimmed).originals == 0


def test_a_customer_hold_protects_that_customers_interactions_only(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    held_customer = add_customer(db, tenant_a)
    other_customer = add_customer(db, tenant_a)
    set_policy(db, tenant_a, ORIGIN, EVERYTHING, clock=clock)
    held_old = add_interaction(db, tenant_a, media, age_days=50, customer_id=held_customer)
    held_young = add_interaction(db, tenant_a, media, age_days=5, customer_id=held_customer)
    other = add_interaction(db, tenant_a, media, age_days=50, customer_id=other_customer)
    anonymous = add_interaction(db, tenant_a, media, age_days=50)
    hold = place_hold(
        db, tenant_a, ORIGIN, HoldScope.CUSTOMER, held_customer, "litigation 2026-17", clock=clock
    )

    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert state(db, tenant_a, media, held_old) == INTACT
    assert state(db, tenant_a, media, held_young) == INTACT
    assert not state(db, tenant_a, media, other).exists
    assert not state(db, tenant_a, media, anonymous).exists

    release_hold(db, tenant_a, ORIGIN, hold.id, "settled", clock=clock)
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert not state(db, tenant_a, media, held_old).exists
    assert state(db, tenant_a, media, held_young).originals == 0


def test_an_interaction_hold_protects_that_interaction_only(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, EVERYTHING, clock=clock)
    held = add_interaction(db, tenant_a, media, age_days=50)
    other = add_interaction(db, tenant_a, media, age_days=50)
    hold = place_hold(
        db, tenant_a, ORIGIN, HoldScope.INTERACTION, held.id, "complaint", clock=clock
    )
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert state(db, tenant_a, media, held) == INTACT
    assert not state(db, tenant_a, media, other).exists
    release_hold(db, tenant_a, ORIGIN, hold.id, "complaint closed", clock=clock)
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert not state(db, tenant_a, media, held).exists


def test_two_holds_on_one_item_both_must_be_released(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    customer = add_customer(db, tenant_a)
    set_policy(db, tenant_a, ORIGIN, EVERYTHING, clock=clock)
    item = add_interaction(db, tenant_a, media, age_days=50, customer_id=customer)
    first = place_hold(db, tenant_a, ORIGIN, HoldScope.CUSTOMER, customer, "case A", clock=clock)
    place_hold(db, tenant_a, ORIGIN, HoldScope.INTERACTION, item.id, "case B", clock=clock)
    release_hold(db, tenant_a, ORIGIN, first.id, "case A closed", clock=clock)
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert state(db, tenant_a, media, item) == INTACT


def test_holds_are_audited_and_listed(db: Database, tenant_a: TenantContext) -> None:
    hold = place_hold(
        db, tenant_a, ORIGIN, HoldScope.TENANT, None, "audit by regulator", clock=clock
    )
    with db.tenant_session(tenant_a) as session:
        assert [h.id for h in list_holds(session)] == [hold.id]
    released = release_hold(db, tenant_a, ORIGIN, hold.id, "done", clock=clock)
    assert released.released_at is not None
    assert released.released_by == ACTOR.id
    with db.tenant_session(tenant_a) as session:
        assert list_holds(session) == []
        assert [h.id for h in list_holds(session, include_released=True)] == [hold.id]
    events = audit_events(db, tenant_a, "retention.hold.")
    assert [(e.action, e.outcome, e.resource_id) for e in events] == [
        ("retention.hold.create", "success", hold.id),
        ("retention.hold.release", "success", hold.id),
    ]
    assert events[0].details["reason"] == "audit by regulator"
    assert events[0].actor == ACTOR


def test_releasing_twice_is_a_conflict_and_audited_as_a_failure(
    db: Database, tenant_a: TenantContext
) -> None:
    hold = place_hold(db, tenant_a, ORIGIN, HoldScope.TENANT, None, "x", clock=clock)
    release_hold(db, tenant_a, ORIGIN, hold.id, "done", clock=clock)
    with pytest.raises(Conflict):
        release_hold(db, tenant_a, ORIGIN, hold.id, "again", clock=clock)
    last = audit_events(db, tenant_a, "retention.hold.")[-1]
    assert (last.action, last.outcome) == ("retention.hold.release", "failure")


@pytest.mark.parametrize(
    ("scope", "target", "reason", "error"),
    [
        (HoldScope.TENANT, None, "   ", ValidationFailed),
        (HoldScope.TENANT, None, "x" * 501, ValidationFailed),
        (HoldScope.TENANT, "some-id", "why", ValidationFailed),
        (HoldScope.CUSTOMER, None, "why", ValidationFailed),
        (HoldScope.CUSTOMER, "no-such-customer", "why", NotFound),
        (HoldScope.INTERACTION, "no-such-interaction", "why", NotFound),
        (HoldScope.INTERACTION, "x" * 37, "why", NotFound),
    ],
)
def test_bad_holds_are_refused_and_nothing_is_stored(
    db: Database,
    tenant_a: TenantContext,
    scope: HoldScope,
    target: str | None,
    reason: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        place_hold(db, tenant_a, ORIGIN, scope, target, reason, clock=clock)
    with db.tenant_session(tenant_a) as session:
        assert list_holds(session, include_released=True) == []
    (event,) = audit_events(db, tenant_a, "retention.hold.")
    assert event.outcome == "failure"


def test_a_hold_cannot_name_another_tenants_customer_or_interaction(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext, media: MediaStore
) -> None:
    customer_b = add_customer(db, tenant_b)
    interaction_b = add_interaction(db, tenant_b, media, age_days=1)
    with pytest.raises(NotFound):
        place_hold(db, tenant_a, ORIGIN, HoldScope.CUSTOMER, customer_b, "x", clock=clock)
    with pytest.raises(NotFound):
        place_hold(db, tenant_a, ORIGIN, HoldScope.INTERACTION, interaction_b.id, "x", clock=clock)


def test_a_hold_of_another_tenant_cannot_be_released(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    hold_b = place_hold(db, tenant_b, ORIGIN, HoldScope.TENANT, None, "b's matter", clock=clock)
    with pytest.raises(NotFound):
        release_hold(db, tenant_a, ORIGIN, hold_b.id, "not yours", clock=clock)
    with db.tenant_session(tenant_b) as session:
        assert [h.id for h in list_holds(session)] == [hold_b.id]
