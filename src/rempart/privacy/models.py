"""Storage of data-subject requests: past exports (art. 15) and erasures (art. 17)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rempart.storage.base import Base, TenantScoped, new_id


class PrivacyExport(TenantScoped, Base):
    """One export delivered to a data subject, and where its sealed stored copy is.

    ``sha256`` is the digest of the delivered (passphrase-sealed) file, so a
    recipient can check what they were given; ``location`` names the stored
    copy, which is sealed under the subject's vault key (erasure shreds that
    key, then deletes the copy and clears ``location``).
    """

    __tablename__ = "privacy_exports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    location: Mapped[str | None] = mapped_column(String(500))
    stored_sha256: Mapped[str | None] = mapped_column(String(64))
    erased_at: Mapped[datetime | None]


class ErasureRequest(TenantScoped, Base):
    """An erasure of one customer: its progress, counts, and at the end its signed certificate.

    One per customer (a second request resumes or returns the first). The
    customer id is kept without a foreign key so the certificate outlives any
    later purge of the customer row. ``status``: ``started`` (holds checked,
    key versions noted), ``shredded`` (the subject key destroyed; rows and
    files being deleted in batches, ``counts`` growing with each), ``certified``.
    """

    __tablename__ = "privacy_erasures"
    __table_args__ = (UniqueConstraint("tenant_id", "customer_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(String(36))
    subject_pseudonym: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    key_versions: Mapped[list[int] | None] = mapped_column(JSON)
    completed_at: Mapped[datetime | None]
    audit_record_id: Mapped[str | None] = mapped_column(String(36))
    certificate: Mapped[str | None] = mapped_column(Text)


__all__ = ["ErasureRequest", "PrivacyExport"]
