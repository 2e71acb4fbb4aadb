"""A purge of one tenant never touches another's data, policy, holds or runs."""

from __future__ import annotations

from sqlalchemy import text

from rempart.contact.media import MediaStore
from rempart.retention import DataClass, HoldScope, load_policy, place_hold, purge, set_policy
from rempart.retention.models import LegalHold, PurgeRun, RetentionPolicyRow
from rempart.storage import Database, TenantContext
from tests.retention.helpers import (
    ACTOR,
    INTACT,
    ORIGIN,
    add_interaction,
    audit_events,
    clock,
    runs,
    state,
)


def test_purging_a_leaves_b_untouched_even_with_the_same_policy(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext, media: MediaStore
) -> None:
    for ctx in (tenant_a, tenant_b):
        set_policy(db, ctx, ORIGIN, {DataClass.ORIGINAL: 1, DataClass.METADATA: 40}, clock=clock)
    a_old = add_interaction(db, tenant_a, media, age_days=50)
    b_old = add_interaction(db, tenant_b, media, age_days=50)
    b_young = add_interaction(db, tenant_b, media, age_days=5)

    report = purge(db, tenant_a, media, actor=ACTOR, clock=clock)

    assert report.count(DataClass.METADATA).interactions == 1
    assert not state(db, tenant_a, media, a_old).exists
    assert state(db, tenant_b, media, b_old) == INTACT
    assert state(db, tenant_b, media, b_young) == INTACT
    assert runs(db, tenant_b) == []
    assert audit_events(db, tenant_b, "retention.run.") == []
    assert audit_events(db, tenant_b, "retention.purge.") == []


def test_a_policy_of_a_is_not_b_s(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    b_old = add_interaction(db, tenant_b, media, age_days=5_000)
    with db.tenant_session(tenant_b) as session:
        assert load_policy(session).days == {}
    report = purge(db, tenant_b, media, actor=ACTOR, clock=clock)
    assert report.run_id is None
    assert state(db, tenant_b, media, b_old) == INTACT


def test_a_hold_of_b_does_not_hold_a(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    place_hold(db, tenant_b, ORIGIN, HoldScope.TENANT, None, "b only", clock=clock)
    a_old = add_interaction(db, tenant_a, media, age_days=50)
    report = purge(db, tenant_a, media, actor=ACTOR, clock=clock)
    assert not report.held
    assert not state(db, tenant_a, media, a_old).exists


def test_retention_tables_are_invisible_across_tenants_even_to_raw_sql(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    place_hold(db, tenant_a, ORIGIN, HoldScope.TENANT, None, "a", clock=clock)
    with db.tenant_session(tenant_b) as session:
        for model in (RetentionPolicyRow, LegalHold, PurgeRun):
            assert session.query(model).all() == []
        if db.is_postgres:
            # Row-level security: SQL that forgets its tenant filter still sees nothing of A.
            for table in ("retention_policies", "retention_holds", "retention_runs"):
                rows = session.execute(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),
                    {"t": str(tenant_a.tenant_id)},
                ).scalar_one()
                assert rows == 0
