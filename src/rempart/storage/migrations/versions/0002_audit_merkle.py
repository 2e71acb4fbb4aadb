"""Audit: Merkle log columns on audit_records, tree heads, nodes, checkpoints, platform log.

Revision ID: 0002_audit_merkle
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rempart.storage.base import UTCDateTime
from rempart.storage.rls import enable_tenant_rls, protect_tables

revision: str = "0002_audit_merkle"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("audit",)
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ["audit_log_heads", "audit_nodes", "audit_checkpoints"]
PLATFORM_TABLES = [
    "audit_platform_records",
    "audit_platform_heads",
    "audit_platform_nodes",
    "audit_platform_checkpoints",
]


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="RESTRICT"
    )


def _head_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("compact", sa.JSON(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _node_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
    ]


def _checkpoint_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("timestamp_token", sa.LargeBinary(), nullable=True),
    ]


def _entry_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("resource_type", sa.String(length=50), nullable=False),
        sa.Column("resource_id", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("source_ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    ]


def _merkle_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("class_uid", sa.Integer(), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("entry", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        for column in _merkle_columns():
            batch.add_column(column)
        batch.create_unique_constraint("uq_audit_records_tenant_id_seq", ["tenant_id", "seq"])

    op.create_table(
        "audit_log_heads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        *_head_columns(),
        _tenant_fk("audit_log_heads"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log_heads"),
        sa.UniqueConstraint("tenant_id", name="uq_audit_log_heads_tenant_id"),
    )
    op.create_index("ix_audit_log_heads_tenant_id", "audit_log_heads", ["tenant_id"])
    op.create_table(
        "audit_nodes",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        *_node_columns(),
        _tenant_fk("audit_nodes"),
        sa.PrimaryKeyConstraint("tenant_id", "level", "idx", name="pk_audit_nodes"),
    )
    op.create_index("ix_audit_nodes_tenant_id", "audit_nodes", ["tenant_id"])
    op.create_table(
        "audit_checkpoints",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        *_checkpoint_columns(),
        _tenant_fk("audit_checkpoints"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_checkpoints"),
        sa.UniqueConstraint("tenant_id", "size", name="uq_audit_checkpoints_tenant_id_size"),
    )
    op.create_index("ix_audit_checkpoints_tenant_id", "audit_checkpoints", ["tenant_id"])
    op.create_index("ix_audit_checkpoints_issued_at", "audit_checkpoints", ["issued_at"])

    op.create_table(
        "audit_platform_records",
        sa.Column("tenant_uid", sa.String(length=36), nullable=True),
        *_entry_columns(),
        *_merkle_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_audit_platform_records"),
        sa.UniqueConstraint("seq", name="uq_audit_platform_records_seq"),
    )
    for name in ("action", "actor_id", "resource_id", "time"):
        op.create_index(f"ix_audit_platform_records_{name}", "audit_platform_records", [name])
    op.create_table(
        "audit_platform_heads",
        sa.Column("id", sa.String(length=36), nullable=False),
        *_head_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_audit_platform_heads"),
    )
    op.create_table(
        "audit_platform_nodes",
        *_node_columns(),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_audit_platform_nodes"),
    )
    op.create_table(
        "audit_platform_checkpoints",
        *_checkpoint_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_audit_platform_checkpoints"),
        sa.UniqueConstraint("size", name="uq_audit_platform_checkpoints_size"),
    )
    op.create_index(
        "ix_audit_platform_checkpoints_issued_at", "audit_platform_checkpoints", ["issued_at"]
    )

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        protect_tables(bind, [*TENANT_TABLES, *PLATFORM_TABLES])
        enable_tenant_rls(bind, TENANT_TABLES)


def downgrade() -> None:
    for table in reversed([*TENANT_TABLES, *PLATFORM_TABLES]):
        op.drop_table(table)
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_constraint("uq_audit_records_tenant_id_seq", type_="unique")
        for column in reversed(_merkle_columns()):
            batch.drop_column(column.name)
