"""Purging every tenant: one tenant's failure does not stop the others."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rempart.contact.media import MediaStore
from rempart.retention import DataClass, RetentionScheduler, purge_all, set_policy
from rempart.storage import Database, TenantContext
from tests.retention.helpers import INTACT, ORIGIN, add_interaction, clock, runs, state


class FailingFor:
    """The real store, except that deleting media of one tenant fails (a broken mount)."""

    def __init__(self, store: MediaStore, tenant: TenantContext) -> None:
        self.store = store
        self.tenant = str(tenant.tenant_id)

    def delete(self, tenant_id: str, recording_id: str, /) -> None:
        if tenant_id == self.tenant:
            raise OSError("read-only file system")
        self.store.delete(tenant_id, recording_id)


def test_purge_all_reports_a_failed_tenant_and_purges_the_others(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext, media: MediaStore
) -> None:
    for ctx in (tenant_a, tenant_b):
        set_policy(db, ctx, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    a_old = add_interaction(db, tenant_a, media, age_days=50)
    b_old = add_interaction(db, tenant_b, media, age_days=50)

    result = purge_all(db, FailingFor(media, tenant_a), clock=clock)

    assert result.failed.get(str(tenant_a.tenant_id)) == "OSError"
    assert state(db, tenant_a, media, a_old) == INTACT
    assert not state(db, tenant_b, media, b_old).exists
    assert str(tenant_b.tenant_id) in {r.tenant_id for r in result.reports}
    assert runs(db, tenant_a)[0].status == "failed"

    # Once the store works again, the next round resumes the failed run.
    again = purge_all(db, media, clock=clock)
    (report_a,) = [r for r in again.reports if r.tenant_id == str(tenant_a.tenant_id)]
    assert report_a.resumed
    assert not state(db, tenant_a, media, a_old).exists


def test_dry_run_of_every_tenant_changes_nothing(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    old = add_interaction(db, tenant_a, media, age_days=50)
    result = purge_all(db, media, dry_run=True, clock=clock)
    (report,) = [r for r in result.reports if r.tenant_id == str(tenant_a.tenant_id)]
    assert report.count(DataClass.METADATA).interactions == 1
    assert state(db, tenant_a, media, old) == INTACT


def test_the_scheduler_runs_a_round_and_stops(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    old = add_interaction(db, tenant_a, media, age_days=50)
    scheduler = RetentionScheduler(db, media, interval=timedelta(hours=1), clock=clock)
    scheduler.start()
    scheduler.stop()
    scheduler.run_once()
    assert not state(db, tenant_a, media, old).exists


def test_the_scheduler_refuses_a_non_positive_interval(db: Database, media: MediaStore) -> None:
    with pytest.raises(ValueError, match="positive"):
        RetentionScheduler(db, media, interval=timedelta(0))
