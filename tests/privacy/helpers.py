"""Reading back what the privacy package wrote: sealed exports, audit entries."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import select

from rempart.audit import AuditRecord
from rempart.privacy import open_sealed, read_archive
from rempart.storage import Database, TenantContext
from tests.privacy.conftest import PASSPHRASE


def unseal(blob: bytes, passphrase: str = PASSPHRASE) -> dict[str, bytes]:
    plain = io.BytesIO()
    open_sealed(io.BytesIO(blob), plain, passphrase)
    plain.seek(0)
    return read_archive(plain)


def audit_entries(
    db: Database, ctx: TenantContext, prefix: str = "privacy."
) -> list[dict[str, Any]]:
    with db.tenant_session(ctx) as session:
        rows = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action.startswith(prefix))
            .order_by(AuditRecord.seq)
        ).all()
        return [
            {
                "id": r.id,
                "seq": r.seq,
                "action": r.action,
                "outcome": r.outcome,
                "reason": r.reason,
                "details": r.details,
                "entry": r.entry or "",
            }
            for r in rows
        ]


def as_json(member: bytes) -> Any:
    return json.loads(member.decode())
