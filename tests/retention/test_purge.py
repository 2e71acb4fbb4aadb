"""The purge deletes exactly what each class's policy says is due, in batches, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rempart.contact.media import MediaStore
from rempart.contact.models import Customer, Interaction, TranscriptSegment
from rempart.contact.payments.models import PaymentCapture
from rempart.errors import ValidationFailed
from rempart.retention import DataClass, purge, set_policy
from rempart.storage import Database, TenantContext
from tests.retention.helpers import (
    ACTOR,
    INTACT,
    NOW,
    ORIGIN,
    State,
    add_customer,
    add_interaction,
    audit_events,
    clock,
    runs,
    state,
)

POLICY = {
    DataClass.ORIGINAL: 10,
    DataClass.TRANSCRIPT: 20,
    DataClass.RECORDING: 30,
    DataClass.METADATA: 40,
}


def test_nothing_is_purged_until_a_policy_is_configured(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    old = add_interaction(db, tenant_a, media, age_days=10_000)
    report = purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert report.run_id is None
    assert report.not_configured == [
        DataClass.METADATA,
        DataClass.RECORDING,
        DataClass.TRANSCRIPT,
        DataClass.ORIGINAL,
    ]
    assert state(db, tenant_a, media, old) == INTACT
    assert runs(db, tenant_a) == []


def test_each_class_removes_exactly_its_data_and_nothing_younger(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, POLICY, clock=clock)
    fresh = add_interaction(db, tenant_a, media, age_days=5)
    no_original = add_interaction(db, tenant_a, media, age_days=15)
    no_transcript = add_interaction(db, tenant_a, media, age_days=25)
    no_recording = add_interaction(db, tenant_a, media, age_days=35)
    gone = add_interaction(db, tenant_a, media, age_days=45)

    report = purge(db, tenant_a, media, actor=ACTOR, batch_size=2, clock=clock)

    assert state(db, tenant_a, media, fresh) == INTACT
    assert state(db, tenant_a, media, no_original) == State(True, 2, 0, True, False, 1, 1)
    assert state(db, tenant_a, media, no_transcript) == State(True, 0, 0, False, False, 1, 1)
    assert state(db, tenant_a, media, no_recording) == State(True, 0, 0, False, False, 0, 0)
    assert state(db, tenant_a, media, gone) == State(False, media=0)
    counts = {c: report.count(c).as_dict() for c in DataClass if c is not DataClass.AUDIT}
    assert counts == {
        DataClass.METADATA: {"interactions": 1, "segments": 2, "recordings": 1},
        DataClass.RECORDING: {"interactions": 1, "segments": 0, "recordings": 1},
        # The 35-day one still had its transcript: the recording class leaves it.
        DataClass.TRANSCRIPT: {"interactions": 2, "segments": 4, "recordings": 0},
        DataClass.ORIGINAL: {"interactions": 1, "segments": 2, "recordings": 0},
    }
    (run,) = runs(db, tenant_a)
    assert run.status == "completed"
    assert run.active_slot is None


def test_a_second_run_finds_nothing_left(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, POLICY, clock=clock)
    for age in (5, 15, 25, 35, 45):
        add_interaction(db, tenant_a, media, age_days=age)
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    events = len(audit_events(db, tenant_a, ""))
    again = purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert again.batches == 0
    # Nothing due: no run is opened and nothing is written to the audit log.
    assert again.run_id is None
    assert len(runs(db, tenant_a)) == 1
    assert len(audit_events(db, tenant_a, "")) == events
    assert all(
        again.count(c).as_dict() == {"interactions": 0, "segments": 0, "recordings": 0}
        for c in DataClass
    )


def test_age_is_measured_from_the_end_else_the_start(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    long_call_ended_recently = add_interaction(db, tenant_a, media, age_days=5, started_days=50)
    never_ended = add_interaction(db, tenant_a, media, age_days=45, ended=False)
    never_ended_recent = add_interaction(db, tenant_a, media, age_days=39, ended=False)
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert state(db, tenant_a, media, long_call_ended_recently) == INTACT
    assert not state(db, tenant_a, media, never_ended).exists
    assert state(db, tenant_a, media, never_ended_recent) == INTACT


def test_metadata_alone_bounds_every_class(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    young = add_interaction(db, tenant_a, media, age_days=39)
    old = add_interaction(db, tenant_a, media, age_days=41)
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert state(db, tenant_a, media, young) == INTACT
    assert state(db, tenant_a, media, old) == State(False, media=0)


def test_dry_run_counts_what_the_purge_then_removes_and_changes_nothing(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, POLICY, clock=clock)
    seeded = [add_interaction(db, tenant_a, media, age_days=a) for a in (5, 15, 25, 35, 45, 50)]
    events_before = len(audit_events(db, tenant_a, ""))

    dry = purge(db, tenant_a, media, actor=ACTOR, dry_run=True, clock=clock)

    assert all(state(db, tenant_a, media, s) == INTACT for s in seeded)
    assert runs(db, tenant_a) == []
    assert len(audit_events(db, tenant_a, "")) == events_before
    assert dry.dry_run
    assert dry.run_id is None
    real = purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert {c: dry.count(c).as_dict() for c in DataClass} == {
        c: real.count(c).as_dict() for c in DataClass
    }
    assert real.count(DataClass.METADATA).interactions == 2


def test_each_batch_is_audited_with_counts_only(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    for _ in range(3):
        add_interaction(db, tenant_a, media, age_days=50)
    report = purge(db, tenant_a, media, actor=ACTOR, batch_size=2, clock=clock)
    assert report.batches == 2
    events = audit_events(db, tenant_a, "retention.purge.")
    assert [e.action for e in events] == ["retention.purge.delete"] * 2
    assert [e.details["interactions"] for e in events] == [2, 1]
    for event in events:
        assert event.resource_id == report.run_id
        assert event.actor == ACTOR
        assert set(event.details) == {
            "data_class",
            "batch",
            "interactions",
            "segments",
            "recordings",
        }
    actions = [e.action for e in audit_events(db, tenant_a, "retention.run.")]
    assert actions == ["retention.run.create", "retention.run.complete"]
    everything = repr(audit_events(db, tenant_a, ""))
    assert "ciphertext" not in everything
    assert "redacted-ct" not in everything


def test_batch_size_out_of_bounds_is_refused(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    for size in (0, -1, 10_001):
        with pytest.raises(ValidationFailed, match="batch size"):
            purge(db, tenant_a, media, actor=ACTOR, batch_size=size, clock=clock)


def test_a_customers_other_data_is_not_the_purges_business(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    # Customers are erased by data-subject requests, not by retention.
    customer = add_customer(db, tenant_a)
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    add_interaction(db, tenant_a, media, age_days=50, customer_id=customer)
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    with db.tenant_session(tenant_a) as session:
        assert session.get(Customer, customer) is not None


def test_legacy_clear_subject_and_text_go_with_the_transcript(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.TRANSCRIPT: 20}, clock=clock)
    legacy = add_interaction(db, tenant_a, media, age_days=25, originals=False)
    with db.tenant_session(tenant_a) as session:
        row = session.get(Interaction, legacy.id)
        assert row is not None
        row.subject = "legacy clear subject"
        row.subject_ct = None
        for segment in row.segments:
            segment.text = "legacy clear text"
            segment.redacted_ct = None
    report = purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert report.count(DataClass.TRANSCRIPT).segments == 2
    with db.tenant_session(tenant_a) as session:
        row = session.get(Interaction, legacy.id)
        assert row is not None
        assert row.subject is None
        assert session.query(TranscriptSegment).filter_by(interaction_id=legacy.id).count() == 0
    # The recording and the row stay: only the transcript class was due.
    assert state(db, tenant_a, media, legacy).recordings == 1


def test_a_payment_capture_goes_with_its_interaction(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    old = add_interaction(db, tenant_a, media, age_days=50)
    opened = NOW - timedelta(days=50)
    with db.tenant_session(tenant_a) as session:
        session.add(
            PaymentCapture(
                interaction_id=old.id,
                status="completed",
                opened_by="ivr",
                opened_at=opened,
                expires_at=opened,
                closed_at=opened,
                recording_paused_at=opened,
                pan_digits=16,
                expiry_digits=4,
                expiry_valid=True,
                cvv_entered=True,
                failed_attempts=0,
                version=1,
            )
        )
    purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert not state(db, tenant_a, media, old).exists
    with db.tenant_session(tenant_a) as session:
        assert session.query(PaymentCapture).count() == 0
