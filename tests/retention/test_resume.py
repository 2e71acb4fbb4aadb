"""A purge interrupted after a batch resumes where it stood, with no double counting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from rempart.contact.media import MediaStore
from rempart.errors import Conflict
from rempart.retention import BatchDone, DataClass, purge, set_policy
from rempart.storage import Database, TenantContext
from tests.retention.helpers import (
    ACTOR,
    NOW,
    ORIGIN,
    Stored,
    add_interaction,
    audit_events,
    clock,
    runs,
    state,
)


class Injected(Exception):
    """The failure a test injects after the first batch."""


class Killed(BaseException):
    """Stands for the process dying: nothing gets to record a failure."""


def _fail_after_first(error: BaseException) -> Callable[[BatchDone], None]:
    def on_batch(done: BatchDone) -> None:
        raise error

    return on_batch


def _seed(db: Database, ctx: TenantContext, media: MediaStore, n: int) -> list[str]:
    set_policy(db, ctx, ORIGIN, {DataClass.ORIGINAL: 10, DataClass.METADATA: 40}, clock=clock)
    old = [add_interaction(db, ctx, media, age_days=50).id for _ in range(n)]
    for _ in range(2):
        add_interaction(db, ctx, media, age_days=20)  # originals due, the rest kept
    return old


def test_an_error_after_the_first_batch_then_a_rerun_finishes_with_exact_counts(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    _seed(db, tenant_a, media, 5)
    with pytest.raises(Injected):
        purge(
            db,
            tenant_a,
            media,
            actor=ACTOR,
            batch_size=2,
            clock=clock,
            on_batch=_fail_after_first(Injected()),
        )
    (run,) = runs(db, tenant_a)
    assert run.status == "failed"
    assert run.error == "Injected"
    assert run.batches == 1
    assert run.counts == {"metadata": {"interactions": 2, "segments": 4, "recordings": 2}}

    report = purge(db, tenant_a, media, actor=ACTOR, batch_size=2, clock=clock)

    assert report.resumed
    assert report.run_id == run.id
    assert report.count(DataClass.METADATA).as_dict() == {
        "interactions": 5,
        "segments": 10,
        "recordings": 5,
    }
    assert report.count(DataClass.ORIGINAL).as_dict() == {
        "interactions": 2,
        "segments": 4,
        "recordings": 0,
    }
    (finished,) = runs(db, tenant_a)
    assert finished.status == "completed"
    assert finished.resumed == 1
    batches = audit_events(db, tenant_a, "retention.purge.delete")
    assert (
        sum(e.details["interactions"] for e in batches if e.details["data_class"] == "metadata")
        == 5
    )
    assert len(batches) == report.batches == 4
    actions = [e.action for e in audit_events(db, tenant_a, "retention.run.")]
    assert actions == [
        "retention.run.create",
        "retention.run.fail",
        "retention.run.resume",
        "retention.run.complete",
    ]
    assert audit_events(db, tenant_a, "retention.run.fail")[0].outcome == "failure"


def test_a_failure_inside_a_batch_rolls_the_batch_back_and_the_rerun_redoes_it(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    old = _seed(db, tenant_a, media, 3)

    class BrokenMedia:
        def __init__(self) -> None:
            self.calls = 0

        def delete(self, tenant_id: str, recording_id: str, /) -> None:
            self.calls += 1
            if self.calls == 2:
                raise OSError("disk went away")
            media.delete(tenant_id, recording_id)

    with pytest.raises(OSError, match="disk went away"):
        purge(db, tenant_a, BrokenMedia(), actor=ACTOR, batch_size=2, clock=clock)
    (run,) = runs(db, tenant_a)
    assert (run.status, run.batches, run.counts) == ("failed", 0, {})
    # The batch rolled back: both rows are still there, one of them without its media.
    assert [state(db, tenant_a, media, s).exists for s in _stored(old)] == [True] * 3

    report = purge(db, tenant_a, media, actor=ACTOR, batch_size=2, clock=clock)
    assert report.count(DataClass.METADATA).interactions == 3
    assert report.count(DataClass.METADATA).recordings == 3
    assert not any(state(db, tenant_a, media, s).exists for s in _stored(old))


def _stored(ids: list[str]) -> list[Stored]:
    return [Stored(i) for i in ids]


def test_a_run_whose_process_died_is_taken_over_only_once_stale(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    _seed(db, tenant_a, media, 4)
    with pytest.raises(Killed):
        purge(
            db,
            tenant_a,
            media,
            actor=ACTOR,
            batch_size=2,
            clock=clock,
            on_batch=_fail_after_first(Killed()),
        )
    (run,) = runs(db, tenant_a)
    assert run.status == "running"

    with pytest.raises(Conflict, match="already running"):
        purge(db, tenant_a, media, actor=ACTOR, clock=lambda: NOW + timedelta(minutes=5))

    later = NOW + timedelta(minutes=16)
    report = purge(db, tenant_a, media, actor=ACTOR, batch_size=2, clock=lambda: later)
    assert report.resumed
    # The resumed run keeps its reference time, so its cutoffs do not move.
    assert report.as_of == NOW
    assert report.count(DataClass.METADATA).interactions == 4
    assert runs(db, tenant_a)[0].status == "completed"


def test_a_run_taken_over_stops_its_old_owner(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    _seed(db, tenant_a, media, 6)
    later = NOW + timedelta(hours=1)
    takeover: list[object] = []

    def on_batch(done: BatchDone) -> None:
        # While the first process is between batches, a second one takes the run over.
        if not takeover:
            takeover.append(
                purge(db, tenant_a, media, actor=ACTOR, batch_size=2, clock=lambda: later)
            )

    with pytest.raises(Conflict, match="taken over"):
        purge(
            db,
            tenant_a,
            media,
            actor=ACTOR,
            batch_size=2,
            clock=clock,
            on_batch=on_batch,
        )
    (run,) = runs(db, tenant_a)
    assert run.status == "completed"
    assert run.counts["metadata"]["interactions"] == 6


def test_an_interrupted_purge_can_be_rerun_at_once(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    _seed(db, tenant_a, media, 3)
    with pytest.raises(KeyboardInterrupt):
        purge(
            db,
            tenant_a,
            media,
            actor=ACTOR,
            batch_size=2,
            clock=clock,
            on_batch=_fail_after_first(KeyboardInterrupt()),
        )
    assert runs(db, tenant_a)[0].status == "failed"
    report = purge(db, tenant_a, media, actor=ACTOR, batch_size=2, clock=clock)
    assert report.resumed
    assert report.count(DataClass.METADATA).interactions == 3


def test_a_policy_made_longer_mid_run_is_obeyed_by_the_next_batch(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    seeded = [add_interaction(db, tenant_a, media, age_days=50) for _ in range(3)]

    def lengthen(done: BatchDone) -> None:
        set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 100}, clock=clock)

    report = purge(db, tenant_a, media, actor=ACTOR, batch_size=1, clock=clock, on_batch=lengthen)
    assert report.count(DataClass.METADATA).interactions == 1
    assert sum(state(db, tenant_a, media, s).exists for s in seeded) == 2
