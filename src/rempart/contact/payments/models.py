"""The capture session row: state, progress counters, the encrypted keypad buffer, the pause window.

Card digits live only in ``entry_ciphertext`` (the ``Entry`` sealed by the
vault under the tenant's data key, bound to this row) and only while the
capture is open; completing, cancelling, failing or expiring the capture
sets it to NULL. ``open_slot`` holds the interaction id while the capture is
open and NULL after, so a unique constraint allows one open capture per
interaction on every database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rempart.storage.base import Base, TenantScoped, new_id

OPEN = "open"  # fields being entered
READY = "ready"  # every field entered and checked, waiting for completion
COMPLETED = "completed"
DECLINED = "declined"
CANCELLED = "cancelled"
EXPIRED = "expired"
FAILED = "failed"  # too many rejected attempts
LIVE = frozenset({OPEN, READY})
TERMINAL = frozenset({COMPLETED, DECLINED, CANCELLED, EXPIRED, FAILED})


class PaymentCapture(TenantScoped, Base):
    __tablename__ = "payment_captures"
    __table_args__ = (UniqueConstraint("tenant_id", "open_slot"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    interaction_id: Mapped[str] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    open_slot: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    current_field: Mapped[str | None] = mapped_column(String(8))
    amount_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    merchant_reference: Mapped[str | None] = mapped_column(String(100))
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # The recording pipeline drops audio in [recording_paused_at, recording_resumed_at).
    recording_paused_at: Mapped[datetime]
    recording_resumed_at: Mapped[datetime | None]
    entry_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    pan_digits: Mapped[int] = mapped_column(Integer)
    pan_last_four: Mapped[str | None] = mapped_column(String(4))
    expiry_digits: Mapped[int] = mapped_column(Integer)
    expiry_valid: Mapped[bool] = mapped_column(Boolean)
    cvv_entered: Mapped[bool] = mapped_column(Boolean)
    failed_attempts: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    card_token: Mapped[str | None] = mapped_column(String(64))
    processor: Mapped[str | None] = mapped_column(String(64))
    processor_reference: Mapped[str | None] = mapped_column(String(200))
    decline_code: Mapped[str | None] = mapped_column(String(32))

    # Every UPDATE checks and bumps the version: a concurrent change is never overwritten,
    # and the progress stream knows something changed.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's convention


__all__ = [
    "CANCELLED",
    "COMPLETED",
    "DECLINED",
    "EXPIRED",
    "FAILED",
    "LIVE",
    "OPEN",
    "READY",
    "TERMINAL",
    "PaymentCapture",
]
