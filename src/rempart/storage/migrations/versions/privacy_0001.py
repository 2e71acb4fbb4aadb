"""Data-subject rights: past exports and erasure requests with their certificates.

Revision ID: privacy_0001
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rempart.storage.base import UTCDateTime
from rempart.storage.rls import enable_tenant_rls, protect_tables

revision: str = "privacy_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("privacy",)
depends_on: str | Sequence[str] | None = None

TABLES = ["privacy_exports", "privacy_erasures"]


def _tenant(table: str) -> list[sa.Column[str] | sa.ForeignKeyConstraint]:
    return [
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="RESTRICT"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "privacy_exports",
        sa.Column("id", sa.String(length=36), nullable=False),
        *_tenant("privacy_exports"),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("stored_sha256", sa.String(length=64), nullable=True),
        sa.Column("erased_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_privacy_exports_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_exports"),
    )
    op.create_index("ix_privacy_exports_tenant_id", "privacy_exports", ["tenant_id"])
    op.create_index("ix_privacy_exports_customer_id", "privacy_exports", ["customer_id"])
    op.create_table(
        "privacy_erasures",
        sa.Column("id", sa.String(length=36), nullable=False),
        *_tenant("privacy_erasures"),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("subject_pseudonym", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("key_versions", sa.JSON(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("audit_record_id", sa.String(length=36), nullable=True),
        sa.Column("certificate", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_erasures"),
        sa.UniqueConstraint(
            "tenant_id", "customer_id", name="uq_privacy_erasures_tenant_id_customer_id"
        ),
    )
    op.create_index("ix_privacy_erasures_tenant_id", "privacy_erasures", ["tenant_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        protect_tables(bind, TABLES)
        enable_tenant_rls(bind, TABLES)


def downgrade() -> None:
    op.drop_index("ix_privacy_erasures_tenant_id", table_name="privacy_erasures")
    op.drop_table("privacy_erasures")
    op.drop_index("ix_privacy_exports_customer_id", table_name="privacy_exports")
    op.drop_index("ix_privacy_exports_tenant_id", table_name="privacy_exports")
    op.drop_table("privacy_exports")
