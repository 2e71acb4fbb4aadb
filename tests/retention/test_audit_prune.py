"""The audit class: entries past the audit duration are pruned (content dropped, place kept)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from rempart.audit import Actor, AuditEvent, append_batch
from rempart.audit.models import AuditRecord
from rempart.contact.media import MediaStore
from rempart.retention import DataClass, purge, set_policy
from rempart.retention.holds import HoldScope, place_hold
from rempart.storage import Database, TenantContext
from tests.retention.helpers import ACTOR, NOW, ORIGIN, clock


def _log(db: Database, ctx: TenantContext, ages_days: list[int]) -> None:
    events = [
        AuditEvent(
            tenant_id=ctx.tenant_id,
            actor=Actor("user", "agent-7"),
            action="interaction.read",
            resource_type="interaction",
            resource_id=f"i-{i}",
            outcome="success",
            time=NOW - timedelta(days=age),
            source_ip="192.0.2.7",
        )
        for i, age in enumerate(ages_days)
    ]
    with db.tenant_session(ctx) as s:
        append_batch(s, events)


def _entries(db: Database, ctx: TenantContext) -> list[AuditRecord]:
    with db.tenant_session(ctx) as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.action == "interaction.read"))
        return list(rows)


def test_audit_entries_past_the_duration_are_pruned_and_the_rest_kept(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext, media: MediaStore
) -> None:
    _log(db, tenant_a, [800, 500, 10])
    _log(db, tenant_b, [800])
    set_policy(db, tenant_a, ORIGIN, {DataClass.AUDIT: 400}, clock=clock)
    dry = purge(db, tenant_a, media, actor=ACTOR, clock=clock, dry_run=True)
    assert dry.audit_pruned == 2
    assert all(r.entry is not None for r in _entries(db, tenant_a))  # a dry run changes nothing
    report = purge(db, tenant_a, media, actor=ACTOR, clock=clock, batch_size=1)
    assert report.audit_pruned == 2
    rows = sorted(_entries(db, tenant_a), key=lambda r: r.time)
    assert [r.entry is None for r in rows] == [True, True, False]
    assert [r.source_ip for r in rows] == [None, None, "192.0.2.7"]
    assert all(r.leaf_hash is not None for r in rows)
    assert purge(db, tenant_a, media, actor=ACTOR, clock=clock).audit_pruned == 0
    # Another tenant's log is not touched.
    assert all(r.entry is not None for r in _entries(db, tenant_b))
    # Each batch was audited, with the count only.
    with db.tenant_session(tenant_a) as s:
        batches = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "retention.purge.audit")
        ).all()
    assert len(batches) == 2
    assert all(b.details.get("pruned") == 1 for b in batches)


def test_a_tenant_wide_legal_hold_suspends_audit_pruning(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    _log(db, tenant_a, [800])
    set_policy(db, tenant_a, ORIGIN, {DataClass.AUDIT: 400}, clock=clock)
    place_hold(db, tenant_a, ORIGIN, HoldScope.TENANT, None, "litigation 2026-4", clock=clock)
    assert purge(db, tenant_a, media, actor=ACTOR, clock=clock).audit_pruned == 0
    assert all(r.entry is not None for r in _entries(db, tenant_a))
