"""Storage of the audit logs: entries (Merkle leaves), interior nodes, tree heads, checkpoints.

Each tenant has one log, kept in tenant-scoped tables (row-level security on
PostgreSQL); the platform has one more, in tables of its own that tenant
sessions never touch. The two families share their columns through mixins so
the log code is written once (``rempart.audit.store``).

Rows of ``audit_records`` written before revision ``0002_audit_merkle`` have
no ``seq``: they predate the Merkle log and are not part of any tree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rempart.storage.base import Base, TenantScoped, new_id


class _EntryColumns:
    """One log entry: searchable columns plus the exact canonical bytes that were hashed."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    time: Mapped[datetime] = mapped_column(index=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    resource_type: Mapped[str] = mapped_column(String(50))
    resource_id: Mapped[str | None] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    source_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class _MerkleColumns:
    class_uid: Mapped[int | None] = mapped_column(Integer)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    leaf_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    entry: Mapped[str | None] = mapped_column(Text)


class _HeadColumns:
    """The tree state: size and compact range (O(log n) hashes), locked to append."""

    origin: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    compact: Mapped[list[str]] = mapped_column(JSON, default=list)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime]


class _NodeColumns:
    """A perfect subtree of ``2**level`` leaves (level >= 1), kept for O(log n) proofs."""

    level: Mapped[int] = mapped_column(Integer)
    idx: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class _CheckpointColumns:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    origin: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(index=True)
    timestamp_token: Mapped[bytes | None] = mapped_column(LargeBinary)


class AuditRecord(TenantScoped, _EntryColumns, _MerkleColumns, Base):
    __tablename__ = "audit_records"
    __table_args__ = (UniqueConstraint("tenant_id", "seq"),)


class AuditLogHead(TenantScoped, _HeadColumns, Base):
    __tablename__ = "audit_log_heads"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class AuditNode(TenantScoped, _NodeColumns, Base):
    __tablename__ = "audit_nodes"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "level", "idx"),)


class AuditCheckpoint(TenantScoped, _CheckpointColumns, Base):
    __tablename__ = "audit_checkpoints"
    __table_args__ = (UniqueConstraint("tenant_id", "size"),)


class PlatformAuditRecord(_EntryColumns, _MerkleColumns, Base):
    """An entry of the platform's own log (tenant registry, operators, key management)."""

    __tablename__ = "audit_platform_records"
    __table_args__ = (UniqueConstraint("seq"),)

    tenant_uid: Mapped[str | None] = mapped_column(String(36))


class PlatformLogHead(_HeadColumns, Base):
    __tablename__ = "audit_platform_heads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)


class PlatformAuditNode(_NodeColumns, Base):
    __tablename__ = "audit_platform_nodes"
    __table_args__ = (PrimaryKeyConstraint("level", "idx"),)


class PlatformCheckpoint(_CheckpointColumns, Base):
    __tablename__ = "audit_platform_checkpoints"
    __table_args__ = (UniqueConstraint("size"),)


TENANT_TABLES = ["audit_log_heads", "audit_nodes", "audit_checkpoints"]
PLATFORM_TABLES = [
    "audit_platform_records",
    "audit_platform_heads",
    "audit_platform_nodes",
    "audit_platform_checkpoints",
]

__all__ = [
    "PLATFORM_TABLES",
    "TENANT_TABLES",
    "AuditCheckpoint",
    "AuditLogHead",
    "AuditNode",
    "AuditRecord",
    "PlatformAuditNode",
    "PlatformAuditRecord",
    "PlatformCheckpoint",
    "PlatformLogHead",
]
