"""The purge: delete, per data class, what the tenant's policy says is due, in batches.

Each batch is one transaction that locks the run row, selects up to
``batch_size`` due interactions after the run's cursor, removes the class's
data from them, moves the cursor, adds the counts and appends an audit event
(counts only). Selection is by state (an interaction is picked only while it
still holds data of the class), so redoing a batch that did not commit finds
the same work and redoing one that did finds none: a crashed run resumes
with no double counting. Recording media is deleted before the rows that
name it, so a crash can leave a row without media (finished by the next run),
never media nobody can find.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import ColumnElement, CursorResult, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from rempart.audit import Actor, append
from rempart.contact.models import Interaction, Recording, TranscriptSegment
from rempart.errors import RempartError, ValidationFailed
from rempart.logs import get_logger
from rempart.retention.classes import PURGE_ORDER, DataClass
from rempart.retention.holds import not_held, tenant_held
from rempart.retention.locks import serialize_with_holds
from rempart.retention.media import MediaEraser
from rempart.retention.policy import RetentionPolicy, load_policy
from rempart.retention.runs import COMPLETED, FAILED, Claim, claim, owned, run_event, unfinished
from rempart.storage import Database, TenantContext
from rempart.types import Clock, utc_now

log = get_logger("rempart.retention")

DEFAULT_BATCH_SIZE: Final = 500
MIN_BATCH: Final = 1
MAX_BATCH_SIZE: Final = 10_000
DEFAULT_STALE_AFTER: Final = timedelta(minutes=15)
AUDIT_NOTE: Final = "audit records are never purged: the log is an append-only Merkle log"


@dataclass(slots=True)
class ClassCounts:
    """What one class removed (or, in a dry run, would remove)."""

    interactions: int = 0
    segments: int = 0
    recordings: int = 0

    def add(self, other: ClassCounts) -> None:
        self.interactions += other.interactions
        self.segments += other.segments
        self.recordings += other.recordings

    def as_dict(self) -> dict[str, int]:
        return {
            "interactions": self.interactions,
            "segments": self.segments,
            "recordings": self.recordings,
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> ClassCounts:
        return cls(
            int(value.get("interactions", 0)),
            int(value.get("segments", 0)),
            int(value.get("recordings", 0)),
        )


@dataclass(frozen=True, slots=True)
class BatchDone:
    """One committed batch (handed to ``on_batch`` after its commit)."""

    run_id: str
    data_class: DataClass
    number: int
    counts: ClassCounts


@dataclass(slots=True)
class PurgeReport:
    """The outcome of a purge (or a dry run) of one tenant."""

    tenant_id: str
    dry_run: bool
    as_of: datetime
    run_id: str | None = None
    resumed: bool = False
    held: bool = False
    batches: int = 0
    cutoffs: dict[DataClass, datetime] = field(default_factory=dict)
    counts: dict[DataClass, ClassCounts] = field(default_factory=dict)

    @property
    def not_configured(self) -> list[DataClass]:
        return [c for c in PURGE_ORDER if c not in self.cutoffs]

    def count(self, data_class: DataClass) -> ClassCounts:
        return self.counts.get(data_class, ClassCounts())

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "dry_run": self.dry_run,
            "as_of": self.as_of.isoformat(),
            "run_id": self.run_id,
            "resumed": self.resumed,
            "held": self.held,
            "batches": self.batches,
            "classes": [
                {
                    "data_class": c.value,
                    "cutoff": self.cutoffs[c].isoformat() if c in self.cutoffs else None,
                    **self.count(c).as_dict(),
                }
                for c in PURGE_ORDER
            ],
            "audit": AUDIT_NOTE,
        }


def cutoffs(policy: RetentionPolicy, as_of: datetime) -> dict[DataClass, datetime]:
    """Per purgeable class, the age reference before which an interaction's data is due."""
    out: dict[DataClass, datetime] = {}
    for data_class in PURGE_ORDER:
        days = policy.effective(data_class)
        if days is not None:
            out[data_class] = as_of - timedelta(days=days)
    return out


def _age_reference() -> ColumnElement[datetime]:
    return func.coalesce(Interaction.ended_at, Interaction.started_at)


def _has_data(data_class: DataClass) -> ColumnElement[bool]:
    """SQL: the interaction still holds data of the class."""
    segments = TranscriptSegment.interaction_id == Interaction.id
    if data_class is DataClass.METADATA:
        return Interaction.id.is_not(None)
    if data_class is DataClass.RECORDING:
        return exists(select(Recording.id).where(Recording.interaction_id == Interaction.id))
    if data_class is DataClass.TRANSCRIPT:
        return or_(
            exists(select(TranscriptSegment.id).where(segments)),
            Interaction.subject.is_not(None),
            Interaction.subject_ct.is_not(None),
            Interaction.subject_original_ct.is_not(None),
        )
    return or_(
        exists(
            select(TranscriptSegment.id).where(segments, TranscriptSegment.original_ct.is_not(None))
        ),
        Interaction.subject_original_ct.is_not(None),
    )


def _due(data_class: DataClass, cutoff: datetime) -> list[ColumnElement[bool]]:
    return [_age_reference() < cutoff, not_held(), _has_data(data_class)]


def _batch_ids(
    session: Session, data_class: DataClass, cutoff: datetime, after: str | None, size: int
) -> list[str]:
    stmt = select(Interaction.id).where(*_due(data_class, cutoff))
    if after is not None:
        stmt = stmt.where(Interaction.id > after)
    return list(session.scalars(stmt.order_by(Interaction.id).limit(size)))


def _remove(
    session: Session, media: MediaEraser, tenant: str, data_class: DataClass, ids: Sequence[str]
) -> ClassCounts:
    """Remove the class's data from the interactions ``ids`` (in the session's transaction)."""
    counts = ClassCounts(interactions=len(ids))
    in_batch = Interaction.id.in_(ids)
    seg_of_batch = TranscriptSegment.interaction_id.in_(ids)
    bulk = {"synchronize_session": False}
    if data_class in (DataClass.METADATA, DataClass.RECORDING):
        recordings = list(
            session.scalars(select(Recording.id).where(Recording.interaction_id.in_(ids)))
        )
        for recording_id in recordings:
            media.delete(tenant, recording_id)
        counts.recordings = len(recordings)
        if data_class is DataClass.RECORDING:
            session.execute(
                delete(Recording).where(Recording.id.in_(recordings)), execution_options=bulk
            )
            return counts
        counts.segments = (
            session.scalar(select(func.count(TranscriptSegment.id)).where(seg_of_batch)) or 0
        )
        # Segments, recordings (and payment captures) go with their interaction: ON DELETE CASCADE.
        session.execute(delete(Interaction).where(in_batch), execution_options=bulk)
        return counts
    if data_class is DataClass.TRANSCRIPT:
        counts.segments = _rowcount(
            session.execute(delete(TranscriptSegment).where(seg_of_batch), execution_options=bulk)
        )
        session.execute(
            update(Interaction)
            .where(in_batch)
            .values(subject=None, subject_ct=None, subject_original_ct=None),
            execution_options=bulk,
        )
        return counts
    counts.segments = _rowcount(
        session.execute(
            update(TranscriptSegment)
            .where(seg_of_batch, TranscriptSegment.original_ct.is_not(None))
            .values(original_ct=None),
            execution_options=bulk,
        )
    )
    session.execute(
        update(Interaction).where(in_batch).values(subject_original_ct=None),
        execution_options=bulk,
    )
    return counts


def _rowcount(result: object) -> int:
    # DML through the ORM returns a CursorResult; its rowcount is what the statement changed.
    return int(cast("CursorResult[Any]", result).rowcount)


def _count_due(
    session: Session, data_class: DataClass, limits: dict[DataClass, datetime]
) -> ClassCounts:
    """Dry run: what the class would remove, leaving out what a wider class removes first."""
    cutoff = limits[data_class]
    conditions = _due(data_class, cutoff)
    for wider in _removed_before(data_class):
        if wider in limits:
            conditions.append(_age_reference() >= limits[wider])
    ids = select(Interaction.id).where(*conditions)
    interactions = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    counts = ClassCounts(interactions=interactions)
    if data_class in (DataClass.METADATA, DataClass.RECORDING):
        counts.recordings = (
            session.scalar(
                select(func.count(Recording.id)).where(Recording.interaction_id.in_(ids))
            )
            or 0
        )
    if data_class in (DataClass.METADATA, DataClass.TRANSCRIPT):
        counts.segments = (
            session.scalar(
                select(func.count(TranscriptSegment.id)).where(
                    TranscriptSegment.interaction_id.in_(ids)
                )
            )
            or 0
        )
    if data_class is DataClass.ORIGINAL:
        counts.segments = (
            session.scalar(
                select(func.count(TranscriptSegment.id)).where(
                    TranscriptSegment.interaction_id.in_(ids),
                    TranscriptSegment.original_ct.is_not(None),
                )
            )
            or 0
        )
    return counts


def _removed_before(data_class: DataClass) -> tuple[DataClass, ...]:
    """Classes walked earlier whose removal takes this class's data with it."""
    if data_class is DataClass.ORIGINAL:
        return (DataClass.METADATA, DataClass.TRANSCRIPT)
    if data_class is DataClass.METADATA:
        return ()
    return (DataClass.METADATA,)


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
    if not cutoffs(policy, now):
        with db.tenant_session(ctx) as session:
            if unfinished(session, lock=False) is None:
                return PurgeReport(str(ctx.tenant_id), dry_run=False, as_of=now)
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
    except Exception as exc:
        _fail(db, ctx, actor, claimed, exc, clock)
        raise
    return report


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
                _batch_ids(session, phase, limits[phase], run.cursor, batch_size)
                if phase in limits
                else []
            )
            if not ids:
                run.phase = _next_phase(phase)
                run.cursor = None
                continue
            counts = _remove(session, media, tenant, phase, ids)
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
    db: Database, ctx: TenantContext, actor: Actor, claimed: Claim, exc: Exception, clock: Clock
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
                report.counts[data_class] = _count_due(session, data_class, report.cutoffs)
    return report


__all__ = [
    "AUDIT_NOTE",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_STALE_AFTER",
    "BatchDone",
    "ClassCounts",
    "PurgeReport",
    "cutoffs",
    "purge",
]
