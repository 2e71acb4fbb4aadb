"""Issue signed checkpoints of a log, on demand or when a scheduler finds them due.

Sizes only grow: a checkpoint never has a smaller size than the previous
one, two checkpoints of one size always carry the same root, and before
signing a new checkpoint the log proves to itself (a consistency proof from
its stored nodes) that the new tree extends the last signed one. Each new
checkpoint can be published to anchors (a directory an auditor controls, a
SIEM forwarder) and stamped by an RFC 3161 time-stamping authority.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit.errors import InvalidProof, LogStateError
from rempart.audit.merkle import consistency_proof, verify_consistency
from rempart.audit.note import Checkpoint, NoteSigner, sign_checkpoint
from rempart.audit.store import LogRef, StoreNodes, compact_of, lock_head, log_of
from rempart.storage import Database, TenantContext
from rempart.storage.tenants import Tenant
from rempart.types import Clock, TenantId, utc_now


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint as stored and published: its fields, the signed note, its timestamp."""

    origin: str
    size: int
    root: bytes
    note: str
    issued_at: datetime
    timestamp_token: bytes | None = None


class Anchor(Protocol):
    """Somewhere outside the platform that receives every new checkpoint."""

    def publish(self, checkpoint: SignedCheckpoint) -> None: ...


class Timestamper(Protocol):
    """An RFC 3161 time-stamping authority: returns a DER time-stamp token for data."""

    def timestamp(self, data: bytes) -> bytes: ...


def _to_signed(row: Any) -> SignedCheckpoint:
    token = bytes(row.timestamp_token) if row.timestamp_token is not None else None
    return SignedCheckpoint(
        row.origin, int(row.size), bytes(row.root), row.note, row.issued_at, token
    )


def _latest_row(session: Session, log: LogRef) -> Any | None:
    cp = log.checkpoint
    stmt = select(cp).where(*log.key_filter(cp)).order_by(cp.size.desc()).limit(1)
    return session.scalars(stmt).first()


def latest_checkpoint(session: Session) -> SignedCheckpoint | None:
    """The newest signed checkpoint of the session's log, if any."""
    row = _latest_row(session, log_of(session))
    return None if row is None else _to_signed(row)


def list_checkpoints(
    session: Session, *, min_size: int = 0, max_size: int | None = None
) -> list[SignedCheckpoint]:
    """Signed checkpoints of the session's log with sizes in range, smallest first."""
    log = log_of(session)
    cp = log.checkpoint
    stmt = select(cp).where(*log.key_filter(cp), cp.size >= min_size)
    if max_size is not None:
        stmt = stmt.where(cp.size <= max_size)
    return [_to_signed(r) for r in session.scalars(stmt.order_by(cp.size))]


def checkpoint_at(session: Session, size: int) -> SignedCheckpoint | None:
    rows = list_checkpoints(session, min_size=size, max_size=size)
    return rows[0] if rows else None


def issue_checkpoint(
    session: Session,
    signer: NoteSigner,
    *,
    clock: Clock = utc_now,
    anchors: Sequence[Anchor] = (),
    timestamper: Timestamper | None = None,
) -> SignedCheckpoint:
    """Sign the log's current tree (or return the last checkpoint if nothing was appended)."""
    log = log_of(session)
    head = lock_head(session, log, clock=clock)
    rng = compact_of(head)
    root = rng.root()
    if root != bytes(head.root):
        raise LogStateError("the stored root disagrees with the stored compact range")
    last = _latest_row(session, log)
    if last is not None:
        if rng.size < last.size:
            raise LogStateError(
                f"log shrank from signed size {last.size} to {rng.size}: refusing to sign"
            )
        if rng.size == last.size:
            if bytes(last.root) != root:
                raise LogStateError(f"log forked: another root at signed size {rng.size}")
            return _to_signed(last)
        if last.size > 0:
            nodes = StoreNodes(session, log)
            try:
                proof = consistency_proof(nodes, int(last.size), rng.size)
                verify_consistency(int(last.size), rng.size, proof, bytes(last.root), root)
            except InvalidProof as exc:
                raise LogStateError(
                    f"the tree of size {rng.size} does not extend signed size {last.size}"
                ) from exc
    note = sign_checkpoint(Checkpoint(head.origin, rng.size, root), signer)
    token = timestamper.timestamp(note.encode()) if timestamper is not None else None
    signed = SignedCheckpoint(head.origin, rng.size, root, note, clock(), token)
    session.add(
        log.checkpoint(
            origin=signed.origin,
            size=signed.size,
            root=signed.root,
            note=signed.note,
            issued_at=signed.issued_at,
            timestamp_token=token,
            **log.key_values(),
        )
    )
    session.flush()
    for anchor in anchors:
        anchor.publish(signed)
    return signed


def _due(session: Session, now: datetime, interval: timedelta) -> bool:
    log = log_of(session)
    head = session.scalars(select(log.head).where(*log.key_filter(log.head))).one_or_none()
    if head is None:
        return False
    last = _latest_row(session, log)
    if last is None:
        return True
    return int(head.size) > int(last.size) and now - last.issued_at >= interval


@dataclass(frozen=True, slots=True)
class CheckpointRun:
    """What a scheduled run did: checkpoints issued, and logs that refused to be signed.

    A refusal means a log shrank, forked or was rewritten: a security event
    the scheduler must raise as an alert, not a transient error to retry.
    """

    issued: list[SignedCheckpoint]
    refused: list[tuple[str, LogStateError]]


def issue_due_checkpoints(
    db: Database,
    signer: NoteSigner,
    *,
    interval: timedelta,
    clock: Clock = utc_now,
    anchors: Sequence[Anchor] = (),
    timestamper: Timestamper | None = None,
) -> CheckpointRun:
    """For a scheduler: sign every log that grew and whose last checkpoint is ``interval`` old.

    Each log is handled in its own transaction, so one log that refuses to be
    signed does not hold back the others' checkpoints.
    """
    with db.platform_session() as session:
        tenant_ids = [TenantId(t) for t in session.scalars(select(Tenant.id).order_by(Tenant.id))]
    issued: list[SignedCheckpoint] = []
    refused: list[tuple[str, LogStateError]] = []
    contexts: list[TenantContext | None] = [None, *(TenantContext(t) for t in tenant_ids)]
    for ctx in contexts:
        try:
            with db.platform_session() if ctx is None else db.tenant_session(ctx) as session:
                if _due(session, clock(), interval):
                    issued.append(
                        issue_checkpoint(
                            session, signer, clock=clock, anchors=anchors, timestamper=timestamper
                        )
                    )
        except LogStateError as exc:
            refused.append(("platform" if ctx is None else str(ctx.tenant_id), exc))
    return CheckpointRun(issued, refused)


__all__ = [
    "Anchor",
    "CheckpointRun",
    "SignedCheckpoint",
    "Timestamper",
    "checkpoint_at",
    "issue_checkpoint",
    "issue_due_checkpoints",
    "latest_checkpoint",
    "list_checkpoints",
]
