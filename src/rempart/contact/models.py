"""Contact-center data: teams, queues, customers, interactions, transcripts, recordings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
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
    """A customer of the tenant, known by the id the tenant's systems give it."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Interaction(TenantScoped, Base):
    """One call, chat or e-mail thread, as pushed by the contact-center platform."""

    __tablename__ = "interactions"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(500))
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
    text: Mapped[str] = mapped_column(Text)


class Recording(TenantScoped, Base):
    """Metadata of a call recording (the media itself arrives with the data-plane issue)."""

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


__all__ = ["Customer", "Interaction", "Queue", "Recording", "Team", "TranscriptSegment"]
