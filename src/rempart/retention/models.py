"""Retention tables: per-class durations, legal holds and purge runs (all tenant-owned, RLS)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rempart.storage.base import Base, TenantScoped, new_id


class RetentionPolicyRow(TenantScoped, Base):
    """How many days one data class of a tenant is kept; no row means kept indefinitely."""

    __tablename__ = "retention_policies"
    __table_args__ = (UniqueConstraint("tenant_id", "data_class"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    data_class: Mapped[str] = mapped_column(String(16))
    days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))


class LegalHold(TenantScoped, Base):
    """A legal hold: while ``released_at`` is NULL, nothing it covers is purged.

    ``scope`` is ``tenant`` (everything; ``target_id`` NULL), ``customer``
    (``Customer.id``: every interaction of that customer) or ``interaction``.
    """

    __tablename__ = "retention_holds"
    __table_args__ = (Index("ix_retention_holds_active", "tenant_id", "scope", "released_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    scope: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(100))
    release_reason: Mapped[str | None] = mapped_column(String(500))


class PurgeRun(TenantScoped, Base):
    """One purge of one tenant: where it stands, what it removed so far.

    ``active_slot`` holds the tenant id while the run is unfinished (running or
    failed) and NULL once completed, so a unique constraint allows one
    unfinished run per tenant on every database. ``phase`` and ``cursor`` (the
    last interaction id handled in that phase) say where a resumed run picks
    up; ``counts`` are updated in the same transaction as each batch's
    deletions, so they never count a batch that did not commit.
    """

    __tablename__ = "retention_runs"
    __table_args__ = (UniqueConstraint("tenant_id", "active_slot"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    active_slot: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[datetime]
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    owner: Mapped[str] = mapped_column(String(36))
    started_by: Mapped[str] = mapped_column(String(100))
    batch_size: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str | None] = mapped_column(String(16))
    cursor: Mapped[str | None] = mapped_column(String(36))
    batches: Mapped[int] = mapped_column(Integer)
    resumed: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(100))


__all__ = ["LegalHold", "PurgeRun", "RetentionPolicyRow"]
