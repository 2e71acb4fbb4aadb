"""Declarative base, column types and the tenant-ownership mixin shared by all models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Dialect, ForeignKey, MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A fresh random identifier (UUID4 as text), used as primary key."""
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always returned timezone-aware.

    SQLite has no time zone type; PostgreSQL's ``timestamptz`` has one. Naive
    datetimes are refused on the way in, so no local time ever reaches storage.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Root of every ORM model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class TenantScoped:
    """Mixin for rows owned by one tenant.

    Sessions opened for a tenant filter every ORM query on this column and
    refuse to write a row of another tenant; on PostgreSQL, row-level security
    enforces the same rule again inside the database.
    """

    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="RESTRICT"), index=True, nullable=False
    )


def tenant_tables(metadata: MetaData) -> list[Table]:
    """Tables carrying a ``tenant_id`` column, i.e. those that row-level security guards."""
    return [t for t in metadata.sorted_tables if "tenant_id" in t.columns]


__all__ = ["Base", "TenantScoped", "UTCDateTime", "new_id", "tenant_tables"]
