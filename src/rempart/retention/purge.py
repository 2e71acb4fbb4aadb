"""The purge: delete, per data class, what the tenant's policy says is due, in batches.

Each batch is one transaction that locks the run row (``runs``), selects up
to ``batch_size`` due interactions after the run's cursor (``selection``),
removes the class's data from them (``removal``), moves the cursor, adds the
counts and appends an audit event (counts only). Selection is by state, so
redoing a batch that did not commit finds the same work and redoing one that
did finds none: a crashed run resumes with no double counting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from rempart.audit import Actor, append
from rempart.audit.prune import count_prunable, prune_entries
from rempart.errors import RempartError, ValidationFailed
from rempart.logs import get_logger
from rempart.retention.classes import PURGE_ORDER, DataClass
from rempart.retention.holds import tenant_held
from rempart.retention.locks import serialize_with_holds
from rempart.retention.media import MediaEraser
from rempart.retention.policy import load_policy
from rempart.retention.removal import remove
from rempart.retention.report import AUDIT_NOTE, BatchDone, ClassCounts, PurgeReport
from rempart.retention.runs import COMPLETED, FAILED, Claim, claim, owned, run_event, unfinished
from rempart.retention.selection import batch_ids, count_due, cutoffs
from rempart.storage import Database, TenantContext
from rempart.types import Clock, utc_now

log = get_logger("rempart.retention")

DEFAULT_BATCH_SIZE: Final = 500
MIN_BATCH: Final = 1
MAX_BATCH_SIZE: Final = 10_000
DEFAULT_STALE_AFTER: Final = timedelta(minutes=15)


def purge(
    db: Database,
    ctx: TenantContext,
    media: MediaEraser,
    *,
    actor: Actor,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
    clock: Clock = utc_now,
    on_batch: Callable[[BatchDone], None] | None = None,
) -> PurgeReport:
    """Purge what is due for one tenant (or, with ``dry_run``, count it and change nothing).

    An unfinished run of the tenant (failed, or silent for ``stale_after``) is
    resumed and finished, with its original reference time. A tenant-wide
    legal hold suspends everything; other holds exclude what they cover.
    """
    if not MIN_BATCH <= batch_size <= MAX_BATCH_SIZE:
        raise ValidationFailed(f"batch size must be between {MIN_BATCH} and {MAX_BATCH_SIZE}")
    if dry_run:
        return _dry_run(db, ctx, clock)
    with db.tenant_session(ctx) as session:
        held = tenant_held(session)
        policy = load_policy(session)
    now = clock()
    if held:
        return PurgeReport(str(ctx.tenant_id), dry_run=False, as_of=now, held=True)
    limits = cutoffs(policy, now)
    with db.tenant_session(ctx) as session:
        # Nothing due and nothing to resume: no run, no audit event (the scheduler asks hourly).
        if unfinished(session, lock=False) is None and not any(
            batch_ids(session, c, cutoff, None, 1)
            for c, cutoff in limits.items()
            if c is not DataClass.AUDIT
        ):
            report = PurgeReport(str(ctx.tenant_id), dry_run=False, as_of=now, cutoffs=limits)
            _prune_audit(db, ctx, actor, limits, batch_size, report, clock)
            return report
    claimed = claim(db, ctx, actor, batch_size=batch_size, stale_after=stale_after, clock=clock)
    report = PurgeReport(
        str(ctx.tenant_id),
        dry_run=False,
        as_of=claimed.as_of,
        run_id=claimed.run_id,
        resumed=claimed.resumed,
    )
    try:
        _run(db, ctx, media, actor, claimed, batch_size, report, clock, on_batch)
    except (Exception, KeyboardInterrupt) as exc:
        # An interrupted operator can rerun at once; a killed process leaves the run
        # "running" until ``stale_after``.
        _fail(db, ctx, actor, claimed, exc, clock)
        raise
    _prune_audit(db, ctx, actor, report.cutoffs, batch_size, report, clock)
    return report


def _prune_audit(
    db: Database,
    ctx: TenantContext,
    actor: Actor,
    limits: dict[DataClass, datetime],
    batch_size: int,
    report: PurgeReport,
    clock: Clock,
) -> None:
    """Prune audit entries past the audit duration, a batch per transaction, each audited.

    Stateless and idempotent (a pruned entry is never selected again), so an
    interrupted pass is finished by the next purge; see ``rempart.audit.prune``.
    """
    cutoff = limits.get(DataClass.AUDIT)
    if cutoff is None:
        return
    report.cutoffs[DataClass.AUDIT] = cutoff
    while True:
        with db.tenant_session(ctx) as session:
            pruned = prune_entries(session, before=cutoff, limit=batch_size)
            if not pruned:
                return
            append(
                session,
                run_event(
                    ctx,
                    actor,
                    "retention.purge.audit",
                    report.run_id,
                    clock(),
                    {"data_class": DataClass.AUDIT.value, "pruned": pruned},
                ),
            )
        report.audit_pruned += pruned
        log.info("retention audit entries pruned", tenant_id=str(ctx.tenant_id), pruned=pruned)


def _run(
    db: Database,
    ctx: TenantContext,
    media: MediaEraser,
    actor: Actor,
    claimed: Claim,
    batch_size: int,
    report: PurgeReport,
    clock: Clock,
    on_batch: Callable[[BatchDone], None] | None,
) -> None:
    tenant = str(ctx.tenant_id)
    while True:
        done: BatchDone | None = None
        with db.tenant_session(ctx) as session:
            run = owned(session, claimed)
            # The policy is re-read at every batch: a duration made longer mid-run is obeyed.
            limits = cutoffs(load_policy(session), claimed.as_of)
            report.cutoffs = limits
            report.counts = {DataClass(k): ClassCounts.from_dict(v) for k, v in run.counts.items()}
            report.batches = run.batches
            if run.phase is None:
                _complete(session, ctx, actor, run, report, clock)
                return
            phase = DataClass(run.phase)
            # Write first, then select: no hold can commit between this batch's selection
            # and its deletions (see ``locks``).
            serialize_with_holds(session)
            run.heartbeat_at = clock()
            flag_modified(run, "heartbeat_at")  # written even when the clock has not moved
            session.flush()
            ids = (
                batch_ids(session, phase, limits[phase], run.cursor, batch_size)
                if phase in limits
                else []
            )
            if not ids:
                run.phase = _next_phase(phase)
                run.cursor = None
                continue
            counts = remove(session, media, tenant, phase, ids)
            run.cursor = ids[-1]
            run.batches += 1
            total = ClassCounts.from_dict(run.counts.get(phase.value, {}))
            total.add(counts)
            run.counts = {**run.counts, phase.value: total.as_dict()}
            append(
                session,
                run_event(
                    ctx,
                    actor,
                    "retention.purge.delete",
                    run.id,
                    run.heartbeat_at,
                    {"data_class": phase.value, "batch": run.batches, **counts.as_dict()},
                ),
            )
            done = BatchDone(run.id, phase, run.batches, counts)
            report.counts[phase] = total
            report.batches = run.batches
        log.info(
            "retention batch purged",
            tenant_id=tenant,
            run_id=done.run_id,
            data_class=done.data_class.value,
            **done.counts.as_dict(),
        )
        if on_batch is not None:
            on_batch(done)


def _next_phase(phase: DataClass) -> str | None:
    index = PURGE_ORDER.index(phase)
    return PURGE_ORDER[index + 1].value if index + 1 < len(PURGE_ORDER) else None


def _complete(
    session: Session,
    ctx: TenantContext,
    actor: Actor,
    run: Any,
    report: PurgeReport,
    clock: Clock,
) -> None:
    now = clock()
    run.status = COMPLETED
    run.active_slot = None
    run.finished_at = now
    run.heartbeat_at = now
    append(
        session,
        run_event(
            ctx,
            actor,
            "retention.run.complete",
            run.id,
            now,
            {
                "batches": run.batches,
                "resumed": run.resumed,
                "classes": [
                    {"data_class": c.value, **report.count(c).as_dict()} for c in PURGE_ORDER
                ],
            },
        ),
    )


def _fail(
    db: Database,
    ctx: TenantContext,
    actor: Actor,
    claimed: Claim,
    exc: BaseException,
    clock: Clock,
) -> None:
    """Mark the run failed (resumable at once) and audit it; never masks the original error."""
    slug = exc.slug if isinstance(exc, RempartError) else type(exc).__name__
    try:
        with db.tenant_session(ctx) as session:
            run = owned(session, claimed)
            now = clock()
            run.status = FAILED
            run.error = slug[:100]
            run.heartbeat_at = now
            append(
                session,
                run_event(
                    ctx,
                    actor,
                    "retention.run.fail",
                    run.id,
                    now,
                    {"phase": run.phase, "batches": run.batches},
                    failure=slug,
                ),
            )
    except Exception as secondary:  # noqa: BLE001 - the first error is the one to report
        log.warning(
            "could not mark the purge run failed",
            run_id=claimed.run_id,
            error_type=type(secondary).__name__,
        )
    log.warning(
        "retention purge failed",
        tenant_id=str(ctx.tenant_id),
        run_id=claimed.run_id,
        error_type=slug,
    )


def _dry_run(db: Database, ctx: TenantContext, clock: Clock) -> PurgeReport:
    with db.tenant_session(ctx) as session:
        now = clock()
        report = PurgeReport(str(ctx.tenant_id), dry_run=True, as_of=now)
        report.held = tenant_held(session)
        report.cutoffs = cutoffs(load_policy(session), now)
        if report.held:
            return report
        for data_class in PURGE_ORDER:
            if data_class in report.cutoffs:
                report.counts[data_class] = count_due(session, data_class, report.cutoffs)
        audit_cutoff = report.cutoffs.get(DataClass.AUDIT)
        if audit_cutoff is not None:
            report.audit_pruned = count_prunable(session, before=audit_cutoff)
    return report


__all__ = [
    "AUDIT_NOTE",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_STALE_AFTER",
    "MAX_BATCH_SIZE",
    "BatchDone",
    "ClassCounts",
    "PurgeReport",
    "purge",
]
