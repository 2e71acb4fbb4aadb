"""Ingestion bookkeeping: webhook secrets, seen webhook signatures, idempotency keys.

All three tables are tenant-owned (row-level security on PostgreSQL). Secrets
and stored responses are sealed by the vault; nothing here holds a secret or
a response body in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rempart.storage.base import Base, TenantScoped, new_id

ACTIVE = "active"  # signs and verifies
RETIRING = "retiring"  # still verifies until ``expires_at`` (rotation grace)
REVOKED = "revoked"  # verifies nothing; its ciphertext is gone


class WebhookSecret(TenantScoped, Base):
    """A tenant's shared secret for signed callbacks; at most one is active."""

    __tablename__ = "webhook_secrets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # The secret sealed under the tenant's data key, bound to this row; NULL once revoked.
    secret_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebhookReplay(TenantScoped, Base):
    """A signed delivery already accepted; refused again until ``expires_at``.

    ``digest`` is SHA-256 of the signed bytes (timestamp and body), so the row
    names the delivery without holding it.
    """

    __tablename__ = "webhook_replays"
    __table_args__ = (UniqueConstraint("tenant_id", "digest"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class IdempotencyRecord(TenantScoped, Base):
    """The first answer to a request carrying an ``Idempotency-Key``, kept for its retries.

    ``completed_at`` is NULL while the first request is still running. The
    response body is sealed under the tenant's data key.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(255))
    request_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    completed_at: Mapped[datetime | None]
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


__all__ = [
    "ACTIVE",
    "RETIRING",
    "REVOKED",
    "IdempotencyRecord",
    "WebhookReplay",
    "WebhookSecret",
]
