"""Remove one data class's data from a batch of interactions, in the caller's transaction.

Recording media goes first, through the media store, then the rows that name
it: a crash in between leaves a row without media (the next run finishes
it), never media that no row points to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from rempart.contact.models import Interaction, Recording, TranscriptSegment
from rempart.retention.classes import DataClass
from rempart.retention.media import MediaEraser
from rempart.retention.report import ClassCounts


def remove(
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


__all__ = ["remove"]
