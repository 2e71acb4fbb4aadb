"""Export a log as JSON Lines: a header, every entry in order, and the signed checkpoints.

Format ``rempart-audit-export`` version 1, one JSON object per line::

    {"format":"rempart-audit-export","version":1,"origin":"rempart/audit/tenant/..."}
    {"type":"entry","index":0,"entry":"<canonical JSON>","leaf_hash":"<base64>"}
    ...
    {"type":"checkpoint","note":"<signed note>","timestamp_token":"<base64 DER>"}

Entries carry their canonical bytes as a string (hashed as UTF-8, exactly);
a checkpoint line follows the entry that completes its tree size. Only
entries covered by a signed checkpoint are exported: issue one first to
export the very latest entries.
"""

from __future__ import annotations

import base64
import json
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit.checkpoints import SignedCheckpoint, list_checkpoints
from rempart.audit.store import log_of

EXPORT_FORMAT = "rempart-audit-export"
EXPORT_VERSION = 1


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def checkpoint_line(cp: SignedCheckpoint) -> str:
    obj: dict[str, Any] = {"type": "checkpoint", "note": cp.note}
    if cp.timestamp_token is not None:
        obj["timestamp_token"] = base64.b64encode(cp.timestamp_token).decode("ascii")
    return _line(obj)


def export_log(session: Session, out: TextIO, *, batch: int = 5000) -> int:
    """Write the session's log (up to its newest checkpoint) to ``out``; return the entry count."""
    log = log_of(session)
    checkpoints = list_checkpoints(session)
    size = checkpoints[-1].size if checkpoints else 0
    origin = checkpoints[-1].origin if checkpoints else log.default_origin()
    out.write(_line({"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "origin": origin}))
    pending = list(checkpoints)
    while pending and pending[0].size == 0:
        out.write(checkpoint_line(pending.pop(0)))
    rec = log.record
    stmt = (
        select(rec.seq, rec.entry, rec.leaf_hash)
        .where(*log.key_filter(rec), rec.seq.is_not(None), rec.seq < size)
        .order_by(rec.seq)
        .execution_options(yield_per=batch)
    )
    count = 0
    for seq, entry, lh in session.execute(stmt):
        leaf = base64.b64encode(bytes(lh)).decode("ascii")
        obj: dict[str, object] = (
            {"type": "entry", "index": int(seq), "entry": entry, "leaf_hash": leaf}
            if entry is not None
            # Pruned by retention (``rempart.audit.prune``): the hash alone keeps its place.
            else {"type": "pruned", "index": int(seq), "leaf_hash": leaf}
        )
        out.write(_line(obj))
        count += 1
        while pending and pending[0].size == int(seq) + 1:
            out.write(checkpoint_line(pending.pop(0)))
    # Checkpoints the entries never reached (rows missing from storage) still go
    # out: the verifier then names the gap instead of silently seeing less.
    for cp in pending:
        out.write(checkpoint_line(cp))
    return count


__all__ = ["EXPORT_FORMAT", "EXPORT_VERSION", "checkpoint_line", "export_log"]
