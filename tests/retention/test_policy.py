"""Policy: nothing configured keeps everything; unset classes inherit; bad policies refused."""

from __future__ import annotations

import re

import pytest

from rempart.errors import ValidationFailed
from rempart.retention import (
    AUDIT_MIN_DAYS,
    DataClass,
    RetentionPolicy,
    load_policy,
    set_policy,
    validate,
)
from rempart.storage import Database, TenantContext
from tests.retention.helpers import ORIGIN, audit_events, clock

ORI, TRA, REC, MET, AUD = (
    DataClass.ORIGINAL,
    DataClass.TRANSCRIPT,
    DataClass.RECORDING,
    DataClass.METADATA,
    DataClass.AUDIT,
)


def test_an_empty_policy_keeps_everything() -> None:
    empty = RetentionPolicy()
    assert [empty.effective(c) for c in DataClass] == [None] * 5


def test_unset_classes_inherit_the_next_wider_one() -> None:
    policy = RetentionPolicy({TRA: 90, MET: 365})
    assert policy.effective(ORI) == 90
    assert policy.source(ORI) is TRA
    assert policy.effective(REC) == 365
    assert policy.source(REC) is MET
    assert policy.effective(AUD) is None  # audit never inherits


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ({ORI: 100, TRA: 90}, "original (100 days) must not be kept longer than transcript"),
        ({ORI: 400, MET: 365}, "original (400 days) must not be kept longer than transcript (365"),
        ({TRA: 400, MET: 365}, "transcript (400 days) must not be kept longer than metadata"),
        ({REC: 400, MET: 365}, "recording (400 days) must not be kept longer than metadata"),
        ({AUD: AUDIT_MIN_DAYS - 1}, "audit must be between 365"),
        ({ORI: 0}, "between 1 and"),
        ({MET: -5}, "between 1 and"),
        ({MET: 36_501}, "between 1 and 36500"),
    ],
)
def test_incoherent_or_out_of_bounds_policies_are_refused(
    days: dict[DataClass, int], message: str
) -> None:
    with pytest.raises(ValidationFailed, match=re.escape(message)):
        validate(RetentionPolicy(days))


def test_coherent_policies_pass() -> None:
    validate(RetentionPolicy({ORI: 30, TRA: 90, REC: 180, MET: 365, AUD: 3650}))
    validate(RetentionPolicy({ORI: 30}))  # the others unset: kept indefinitely
    validate(RetentionPolicy({AUD: AUDIT_MIN_DAYS}))


def test_set_policy_merges_validates_the_whole_and_audits(
    db: Database, tenant_a: TenantContext
) -> None:
    set_policy(db, tenant_a, ORIGIN, {MET: 365, TRA: 90}, clock=clock)
    set_policy(db, tenant_a, ORIGIN, {ORI: 30}, clock=clock)
    with pytest.raises(ValidationFailed):
        set_policy(db, tenant_a, ORIGIN, {TRA: 400}, clock=clock)
    after = set_policy(db, tenant_a, ORIGIN, {TRA: None}, clock=clock)
    assert dict(after.days) == {MET: 365, ORI: 30}
    with db.tenant_session(tenant_a) as session:
        assert dict(load_policy(session).days) == {MET: 365, ORI: 30}
    events = audit_events(db, tenant_a, "retention.policy.")
    assert [e.outcome for e in events] == ["success", "success", "failure", "success"]
    assert events[0].actor == ORIGIN.actor
    last = events[-1]
    before = {d["data_class"]: d["days"] for d in last.details["before"]}
    now = {d["data_class"]: d["days"] for d in last.details["after"]}
    assert before["transcript"] == 90
    assert now["transcript"] is None


def test_an_empty_change_is_refused(db: Database, tenant_a: TenantContext) -> None:
    with pytest.raises(ValidationFailed, match="no retention change"):
        set_policy(db, tenant_a, ORIGIN, {}, clock=clock)
