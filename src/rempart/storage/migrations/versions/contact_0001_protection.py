"""Protection on ingest: encrypted redacted and original text, customer blind indexes,
recording media state, per-tenant data policies.

Revision ID: contact_0001_protection
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rempart.storage.base import UTCDateTime
from rempart.storage.rls import enable_tenant_rls, protect_tables

revision: str = "contact_0001_protection"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("contact",)
depends_on: str | Sequence[str] | None = None

NEW_TABLES = ["customer_lookups", "data_policies"]


def upgrade() -> None:
    with op.batch_alter_table("customers") as t:
        t.alter_column("external_id", existing_type=sa.String(length=200), nullable=True)
        t.add_column(sa.Column("id_index", sa.LargeBinary(length=32), nullable=True))
        t.add_column(sa.Column("external_id_ct", sa.LargeBinary(), nullable=True))
        t.add_column(sa.Column("erased_at", UTCDateTime(), nullable=True))
        t.create_unique_constraint("uq_customers_tenant_id_id_index", ["tenant_id", "id_index"])
    with op.batch_alter_table("interactions") as t:
        t.add_column(sa.Column("subject_ct", sa.LargeBinary(), nullable=True))
        t.add_column(sa.Column("subject_original_ct", sa.LargeBinary(), nullable=True))
        t.add_column(sa.Column("protection", sa.String(length=32), nullable=True))
        t.add_column(sa.Column("silence_ms", sa.JSON(), nullable=True))
    with op.batch_alter_table("transcript_segments") as t:
        t.alter_column("text", existing_type=sa.Text(), nullable=True)
        t.add_column(sa.Column("redacted_ct", sa.LargeBinary(), nullable=True))
        t.add_column(sa.Column("original_ct", sa.LargeBinary(), nullable=True))
        t.add_column(sa.Column("entities", sa.JSON(), nullable=True))
    with op.batch_alter_table("recordings") as t:
        t.add_column(
            sa.Column(
                "media_status", sa.String(length=16), nullable=False, server_default="pending"
            )
        )
        t.add_column(sa.Column("stored_bytes", sa.BigInteger(), nullable=True))
        t.add_column(sa.Column("stored_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("recordings") as t:
        t.alter_column("media_status", existing_type=sa.String(length=16), server_default=None)

    op.create_table(
        "customer_lookups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("value_ct", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_customer_lookups_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_customer_lookups_tenant_id_tenants",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_lookups"),
        sa.UniqueConstraint(
            "tenant_id",
            "kind",
            "digest",
            "customer_id",
            name="uq_customer_lookups_tenant_id_kind_digest_customer_id",
        ),
    )
    op.create_index("ix_customer_lookups_tenant_id", "customer_lookups", ["tenant_id"])
    op.create_index("ix_customer_lookups_customer_id", "customer_lookups", ["customer_id"])
    op.create_index("ix_customer_lookups_find", "customer_lookups", ["tenant_id", "kind", "digest"])
    op.create_table(
        "data_policies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_data_policies_tenant_id_tenants",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_data_policies"),
        sa.UniqueConstraint("tenant_id", name="uq_data_policies_tenant_id"),
    )
    op.create_index("ix_data_policies_tenant_id", "data_policies", ["tenant_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        protect_tables(bind, NEW_TABLES)
        enable_tenant_rls(bind, NEW_TABLES)


def downgrade() -> None:
    op.drop_table("data_policies")
    op.drop_table("customer_lookups")
    with op.batch_alter_table("recordings") as t:
        t.drop_column("stored_at")
        t.drop_column("stored_bytes")
        t.drop_column("media_status")
    with op.batch_alter_table("transcript_segments") as t:
        t.drop_column("entities")
        t.drop_column("original_ct")
        t.drop_column("redacted_ct")
        t.alter_column("text", existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table("interactions") as t:
        t.drop_column("silence_ms")
        t.drop_column("protection")
        t.drop_column("subject_original_ct")
        t.drop_column("subject_ct")
    with op.batch_alter_table("customers") as t:
        t.drop_constraint("uq_customers_tenant_id_id_index", type_="unique")
        t.drop_column("erased_at")
        t.drop_column("external_id_ct")
        t.drop_column("id_index")
        t.alter_column("external_id", existing_type=sa.String(length=200), nullable=False)
