"""Retention for the audit log: old entries lose their content, never their place.

Deleting entries would break the Merkle tree (proofs, exports, the signed
checkpoints auditors keep). Pruning keeps each entry's row, sequence number
and leaf hash, so the tree, every checkpoint and every consistency proof stay
valid, and drops what the entry said: the canonical text that was hashed,
the details, and who, from where and about which resource (the personal data
an audit entry carries). Time, class, action and outcome stay, so the log
still shows that something happened then. An export lists a pruned entry as
``{"type":"pruned","index":N,"leaf_hash":...}``; the offline verifier folds
its leaf hash into the tree unchanged (a pruned entry's content cannot be
checked any more, but any change to its hash breaks the signed roots).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from rempart.audit.models import AuditRecord

PRUNED_ACTOR: Final = "pruned"


def _prunable(before: datetime) -> list[ColumnElement[bool]]:
    rec = AuditRecord
    return [rec.time < before, rec.entry.is_not(None), rec.seq.is_not(None)]


def count_prunable(session: Session, *, before: datetime) -> int:
    """How many of the session tenant's entries older than ``before`` still hold content."""
    stmt = select(func.count()).select_from(AuditRecord).where(*_prunable(before))
    return int(session.scalar(stmt) or 0)


def prune_entries(session: Session, *, before: datetime, limit: int) -> int:
    """Prune up to ``limit`` of the tenant's entries older than ``before``, oldest first.

    Idempotent: a pruned entry is never selected again, so a run cut short is
    simply run again.
    """
    rec = AuditRecord
    ids = list(
        session.scalars(select(rec.id).where(*_prunable(before)).order_by(rec.seq).limit(limit))
    )
    if ids:
        session.execute(
            update(rec)
            .where(rec.id.in_(ids))
            .values(
                entry=None,
                details={},
                actor_id=PRUNED_ACTOR,
                resource_id=None,
                reason=None,
                source_ip=None,
                user_agent=None,
                request_id=None,
            )
        )
    return len(ids)


__all__ = ["PRUNED_ACTOR", "count_prunable", "prune_entries"]
