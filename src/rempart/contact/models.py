"""Contact-center data: teams, queues, customers, interactions, transcripts, recordings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rempart.storage.base import Base, TenantScoped, new_id


class Team(TenantScoped, Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))


class Queue(TenantScoped, Base):
    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"))


class Customer(TenantScoped, Base):
    """A customer of the tenant (a data subject), known by the id the tenant's systems give it.

    The id is stored encrypted under the customer's own subject key
    (``external_id_ct``) and found by its blind index (``id_index``), so a
    copy of the table names nobody. ``external_id`` in clear is only on rows
    written before protection on ingest existed.
    """

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        UniqueConstraint("tenant_id", "id_index"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(200))
    id_index: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    external_id_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]


class CustomerLookup(TenantScoped, Base):
    """A blind index of a customer's phone, e-mail or id, with the value encrypted beside it.

    ``digest`` is the vault's keyed HMAC of the normalised value (one per
    tenant, field and index); ``value_ct`` the value under the customer's
    subject key, shredded with it on erasure.
    """

    __tablename__ = "customer_lookups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "digest", "customer_id"),
        Index("ix_customer_lookups_find", "tenant_id", "kind", "digest"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    value_ct: Mapped[bytes] = mapped_column(LargeBinary)


class Interaction(TenantScoped, Base):
    """One call, chat or e-mail thread, as pushed by the contact-center platform."""

    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        Index("ix_interactions_customer", "tenant_id", "customer_id"),
        Index("ix_interactions_started", "tenant_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))
    # Legacy clear subject (rows from before protection on ingest); new rows
    # keep the redacted subject in ``subject_ct`` and the original, when the
    # tenant keeps originals, in ``subject_original_ct``.
    subject: Mapped[str | None] = mapped_column(String(500))
    subject_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    subject_original_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # "redacted" or "redacted+original"; None on legacy rows.
    protection: Mapped[str | None] = mapped_column(String(32))
    # Sensitive spans of the call in ms from its start, [[start, end], ...]:
    # what the redacted rendition of the recording silences.
    silence_ms: Mapped[list[list[int]] | None] = mapped_column(JSON)
    queue_id: Mapped[str | None] = mapped_column(ForeignKey("queues.id"))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    content_sha256: Mapped[str] = mapped_column(String(64))

    segments: Mapped[list[TranscriptSegment]] = relationship(
        order_by="TranscriptSegment.seq", cascade="all, delete-orphan", lazy="selectin"
    )
    recordings: Mapped[list[Recording]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class TranscriptSegment(TenantScoped, Base):
    """A turn of speech (with times), a chat message or an e-mail body."""

    __tablename__ = "transcript_segments"
    __table_args__ = (UniqueConstraint("interaction_id", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    interaction_id: Mapped[str] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(16))
    start_ms: Mapped[int | None] = mapped_column(Integer)
    end_ms: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None]
    # Legacy clear text (rows from before protection on ingest).
    text: Mapped[str | None] = mapped_column(Text)
    # The redacted text, encrypted; the original, encrypted, when the policy keeps it.
    redacted_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    original_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Entity labels found in the original and how many: {"CARD_NUMBER": 1}.
    entities: Mapped[dict[str, int] | None] = mapped_column(JSON)


class Recording(TenantScoped, Base):
    """A call recording: metadata, and once uploaded its media, encrypted in the media store.

    ``media_status``: ``pending`` (declared, no media yet), ``stored`` (the
    original and the redacted rendition are both stored, encrypted).
    """

    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    interaction_id: Mapped[str] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )
    media_type: Mapped[str] = mapped_column(String(100))
    duration_ms: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    channels: Mapped[int | None] = mapped_column(Integer)
    media_status: Mapped[str] = mapped_column(String(16), default="pending")
    stored_bytes: Mapped[int | None] = mapped_column(BigInteger)
    stored_at: Mapped[datetime | None]


class DataPolicyRow(TenantScoped, Base):
    """A tenant's data-protection policy (``rempart.contact.policy.DataPolicy`` as JSON)."""

    __tablename__ = "data_policies"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


__all__ = [
    "Customer",
    "CustomerLookup",
    "DataPolicyRow",
    "Interaction",
    "Queue",
    "Recording",
    "Team",
    "TranscriptSegment",
]
