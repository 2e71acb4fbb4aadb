"""Which interactions are due for a data class: age, legal holds, data left to remove.

An interaction is due for a class when ``coalesce(ended_at, started_at)`` is
before the class's cutoff, no active hold covers it, and it still holds data
of that class. The last condition makes a purge idempotent: what a committed
batch removed is never selected again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from rempart.contact.models import Interaction, Recording, TranscriptSegment
from rempart.retention.classes import PURGE_ORDER, DataClass
from rempart.retention.holds import not_held
from rempart.retention.policy import RetentionPolicy
from rempart.retention.report import ClassCounts


def cutoffs(policy: RetentionPolicy, as_of: datetime) -> dict[DataClass, datetime]:
    """Per class, the age reference before which its data is due (audit: entry time)."""
    out: dict[DataClass, datetime] = {}
    for data_class in (*PURGE_ORDER, DataClass.AUDIT):
        days = policy.effective(data_class)
        if days is not None:
            out[data_class] = as_of - timedelta(days=days)
    return out


def age_reference() -> ColumnElement[datetime]:
    return func.coalesce(Interaction.ended_at, Interaction.started_at)


def has_data(data_class: DataClass) -> ColumnElement[bool]:
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


def due(data_class: DataClass, cutoff: datetime) -> list[ColumnElement[bool]]:
    return [age_reference() < cutoff, not_held(), has_data(data_class)]


def batch_ids(
    session: Session, data_class: DataClass, cutoff: datetime, after: str | None, size: int
) -> list[str]:
    stmt = select(Interaction.id).where(*due(data_class, cutoff))
    if after is not None:
        stmt = stmt.where(Interaction.id > after)
    return list(session.scalars(stmt.order_by(Interaction.id).limit(size)))


def count_due(
    session: Session, data_class: DataClass, limits: dict[DataClass, datetime]
) -> ClassCounts:
    """Dry run: what the class would remove, leaving out what a wider class removes first."""
    cutoff = limits[data_class]
    conditions = due(data_class, cutoff)
    for wider in removed_before(data_class):
        if wider in limits:
            conditions.append(age_reference() >= limits[wider])
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


def removed_before(data_class: DataClass) -> tuple[DataClass, ...]:
    """Classes walked earlier whose removal takes this class's data with it."""
    if data_class is DataClass.ORIGINAL:
        return (DataClass.METADATA, DataClass.TRANSCRIPT)
    if data_class is DataClass.METADATA:
        return ()
    return (DataClass.METADATA,)


__all__ = ["age_reference", "batch_ids", "count_due", "cutoffs", "due", "has_data"]
