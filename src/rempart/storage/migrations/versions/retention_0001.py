"""Retention: per-class durations, legal holds, purge runs.

Revision ID: retention_0001
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rempart.storage.base import UTCDateTime
from rempart.storage.rls import enable_tenant_rls, protect_tables

revision: str = "retention_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("retention",)
depends_on: str | Sequence[str] | None = None

TABLES = ["retention_policies", "retention_holds", "retention_runs"]


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="RESTRICT"
    )


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("data_class", sa.String(length=16), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        _tenant_fk("retention_policies"),
        sa.PrimaryKeyConstraint("id", name="pk_retention_policies"),
        sa.UniqueConstraint(
            "tenant_id", "data_class", name="uq_retention_policies_tenant_id_data_class"
        ),
    )
    op.create_index("ix_retention_policies_tenant_id", "retention_policies", ["tenant_id"])
    op.create_table(
        "retention_holds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.Column("released_by", sa.String(length=100), nullable=True),
        sa.Column("release_reason", sa.String(length=500), nullable=True),
        _tenant_fk("retention_holds"),
        sa.PrimaryKeyConstraint("id", name="pk_retention_holds"),
    )
    op.create_index("ix_retention_holds_tenant_id", "retention_holds", ["tenant_id"])
    op.create_index(
        "ix_retention_holds_active", "retention_holds", ["tenant_id", "scope", "released_at"]
    )
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("active_slot", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("owner", sa.String(length=36), nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=True),
        sa.Column("cursor", sa.String(length=36), nullable=True),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("resumed", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(length=100), nullable=True),
        _tenant_fk("retention_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_retention_runs"),
        sa.UniqueConstraint(
            "tenant_id", "active_slot", name="uq_retention_runs_tenant_id_active_slot"
        ),
    )
    op.create_index("ix_retention_runs_tenant_id", "retention_runs", ["tenant_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        protect_tables(bind, TABLES)
        enable_tenant_rls(bind, TABLES)


def downgrade() -> None:
    op.drop_index("ix_retention_runs_tenant_id", table_name="retention_runs")
    op.drop_table("retention_runs")
    op.drop_index("ix_retention_holds_active", table_name="retention_holds")
    op.drop_index("ix_retention_holds_tenant_id", table_name="retention_holds")
    op.drop_table("retention_holds")
    op.drop_index("ix_retention_policies_tenant_id", table_name="retention_policies")
    op.drop_table("retention_policies")
