"""Serialise purge batches with hold placement, per tenant.

A hold placed while a batch runs must either be seen by that batch or come
after it, never be committed and then violated. On PostgreSQL both take a
transaction-scoped advisory lock keyed by the tenant; on SQLite both write
before they read (a batch updates its run row, a hold is inserted before its
target is checked), and SQLite's single writer does the rest.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session

from rempart.storage.tenancy import session_tenant


def lock_key(tenant_id: str) -> int:
    """A signed 64-bit advisory lock key for the tenant's retention work."""
    digest = hashlib.sha256(f"rempart.retention:{tenant_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def serialize_with_holds(session: Session) -> None:
    """Hold the tenant's retention lock until the session's transaction ends (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    tenant = session_tenant(session)
    if tenant is None:
        raise ValueError("no tenant in context")
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(tenant)})


__all__ = ["lock_key", "serialize_with_holds"]
