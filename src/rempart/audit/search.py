"""Search a log by actor, resource, action, class, outcome and time, newest first, paginated.

Results keep their place in the log (``seq``) and their canonical entry, so
any of them can be proven (``prove_inclusion(session, seq=...)``) or checked
against an export: searching never weakens verifiability. A tenant session
searches its tenant's log only; a platform session searches the platform log.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit.store import log_of
from rempart.errors import ValidationFailed

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One search hit: searchable fields plus the exact canonical entry that was hashed."""

    uid: str
    seq: int
    time: datetime
    actor_type: str
    actor_id: str
    action: str
    resource_type: str
    resource_id: str | None
    outcome: str
    class_uid: int | None
    entry: str


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[AuditEntry]
    next_cursor: str | None


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = text.split(":", 1)
        if kind != "seq" or not value.isdigit():
            raise ValueError(text)
        return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed("invalid cursor") from exc


def search(
    session: Session,
    *,
    actor_id: str | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    class_uid: int | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AuditPage:
    """A page of entries of the session's log matching every given filter, newest first."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE}")
    log = log_of(session)
    rec: Any = log.record
    stmt = select(rec).where(*log.key_filter(rec), rec.seq.is_not(None))
    filters = {
        "actor_id": actor_id,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "class_uid": class_uid,
        "outcome": outcome,
    }
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(rec, column) == value)
    if since is not None:
        stmt = stmt.where(rec.time >= since)
    if until is not None:
        stmt = stmt.where(rec.time < until)
    if cursor is not None:
        stmt = stmt.where(rec.seq < _decode_cursor(cursor))
    rows = list(session.scalars(stmt.order_by(rec.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        AuditEntry(
            r.id,
            int(r.seq),
            r.time,
            r.actor_type,
            r.actor_id,
            r.action,
            r.resource_type,
            r.resource_id,
            r.outcome,
            r.class_uid,
            r.entry or "",
        )
        for r in rows
    ]
    return AuditPage(items, _encode_cursor(items[-1].seq) if more and items else None)


__all__ = ["MAX_PAGE", "AuditEntry", "AuditPage", "search"]
