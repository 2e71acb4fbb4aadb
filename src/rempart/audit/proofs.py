"""Proofs over a stored log, for the API and the CLI: inclusion of an entry, consistency.

Proofs are given against signed checkpoints, so whoever receives one can
check it with nothing but the log's public key: ``InclusionProof.verify``
and ``ConsistencyProof.verify`` do exactly what an offline auditor does.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit.checkpoints import SignedCheckpoint, checkpoint_at, latest_checkpoint
from rempart.audit.errors import InvalidProof
from rempart.audit.merkle import consistency_proof, inclusion_proof, leaf_hash
from rempart.audit.merkle import verify_consistency as _verify_consistency
from rempart.audit.merkle import verify_inclusion as _verify_inclusion
from rempart.audit.note import NoteVerifier
from rempart.audit.store import StoreNodes, log_of
from rempart.errors import Conflict, NotFound


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidProof("proof field is not a string")
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidProof("proof field is not a non-negative integer")
    return value


def _hashes(value: Any) -> list[bytes]:
    if not isinstance(value, list):
        raise InvalidProof("proof hashes are not a list")
    try:
        return [base64.b64decode(_text(h), validate=True) for h in value]
    except (binascii.Error, ValueError) as exc:
        raise InvalidProof("proof hash is not base64") from exc


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """An entry, its index, and the audit path to the root of a signed checkpoint."""

    entry: str
    index: int
    tree_size: int
    hashes: list[bytes]
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "index": self.index,
            "tree_size": self.tree_size,
            "hashes": [_b64(h) for h in self.hashes],
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, doc: Any) -> InclusionProof:
        """Parse ``to_json`` output, refusing anything malformed (``InvalidProof``)."""
        try:
            return cls(
                _text(doc["entry"]),
                _count(doc["index"]),
                _count(doc["tree_size"]),
                _hashes(doc["hashes"]),
                _text(doc["checkpoint"]),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidProof("malformed inclusion proof document") from exc

    def verify(self, verifier: NoteVerifier, origin: str | None = None) -> None:
        """Raise unless the checkpoint is signed, matches, and the entry is in its tree."""
        cp = verifier.verify(self.checkpoint)
        if origin is not None and cp.origin != origin:
            raise InvalidProof(f"checkpoint is for log {cp.origin!r}, not {origin!r}")
        if cp.size != self.tree_size:
            raise InvalidProof("proof tree size differs from the checkpoint's")
        lh = leaf_hash(self.entry.encode("utf-8"))
        _verify_inclusion(self.index, self.tree_size, lh, self.hashes, cp.root)


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """Two signed checkpoints of one log and the proof the older is a prefix of the newer."""

    old_checkpoint: str
    new_checkpoint: str
    hashes: list[bytes]

    def to_json(self) -> dict[str, Any]:
        return {
            "old_checkpoint": self.old_checkpoint,
            "new_checkpoint": self.new_checkpoint,
            "hashes": [_b64(h) for h in self.hashes],
        }

    @classmethod
    def from_json(cls, doc: Any) -> ConsistencyProof:
        """Parse ``to_json`` output, refusing anything malformed (``InvalidProof``)."""
        try:
            return cls(
                _text(doc["old_checkpoint"]), _text(doc["new_checkpoint"]), _hashes(doc["hashes"])
            )
        except (KeyError, TypeError) as exc:
            raise InvalidProof("malformed consistency proof document") from exc

    def verify(self, verifier: NoteVerifier) -> None:
        """Raise unless both checkpoints are signed, of one log, and the older is a prefix."""
        old, new = verifier.verify(self.old_checkpoint), verifier.verify(self.new_checkpoint)
        if old.origin != new.origin:
            raise InvalidProof("the two checkpoints belong to different logs")
        if old.size == 0 and not self.hashes:
            return  # every tree extends the empty one
        _verify_consistency(old.size, new.size, self.hashes, old.root, new.root)


def _checkpoint(session: Session, size: int | None) -> SignedCheckpoint:
    cp = latest_checkpoint(session) if size is None else checkpoint_at(session, size)
    if cp is None:
        raise NotFound("no signed checkpoint of that size (issue one first)")
    return cp


def prove_inclusion(
    session: Session,
    *,
    uid: str | None = None,
    seq: int | None = None,
    tree_size: int | None = None,
) -> InclusionProof:
    """Inclusion proof of one entry (by id or index) against a signed checkpoint.

    ``tree_size`` picks the checkpoint; by default the newest one. An entry
    appended after that checkpoint cannot be proven yet (``Conflict``).
    """
    log = log_of(session)
    rec = log.record
    if (uid is None) == (seq is None):
        raise InvalidProof("give exactly one of uid and seq")
    cond = rec.id == uid if uid is not None else rec.seq == seq
    row = session.execute(
        select(rec.seq, rec.entry).where(*log.key_filter(rec), cond, rec.seq.is_not(None))
    ).first()
    if row is None:
        raise NotFound("no such audit entry in this log")
    if row.entry is None:
        raise NotFound("this audit entry's content was pruned by retention")
    cp = _checkpoint(session, tree_size)
    index = int(row.seq)
    if index >= cp.size:
        raise Conflict(f"entry {index} is not yet covered by a checkpoint (size {cp.size})")
    hashes = inclusion_proof(StoreNodes(session, log), index, cp.size)
    return InclusionProof(str(row.entry), index, cp.size, hashes, cp.note)


def prove_consistency(
    session: Session, old_size: int, new_size: int | None = None
) -> ConsistencyProof:
    """Consistency proof between two signed checkpoints (the newer defaults to the latest)."""
    old = _checkpoint(session, old_size)
    new = _checkpoint(session, new_size)
    if new.size < old.size:
        raise InvalidProof(f"checkpoint size {new.size} is older than {old.size}")
    hashes = (
        []
        if old.size in (0, new.size)
        else consistency_proof(StoreNodes(session, log_of(session)), old.size, new.size)
    )
    return ConsistencyProof(old.note, new.note, hashes)


__all__ = ["ConsistencyProof", "InclusionProof", "prove_consistency", "prove_inclusion"]
