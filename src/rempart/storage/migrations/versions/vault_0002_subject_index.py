"""Vault: blind indexes of data subjects (removed with the subject's key).

Revision ID: vault_0002_subject_index
Revises: vault_0001_keyring
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rempart.storage.base import UTCDateTime
from rempart.storage.rls import enable_tenant_rls, protect_tables

revision: str = "vault_0002_subject_index"
down_revision: str | Sequence[str] | None = "vault_0001_keyring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ["vault_subject_indexes"]


def upgrade() -> None:
    op.create_table(
        "vault_subject_indexes",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=False),
        sa.Column("index_name", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.LargeBinary(length=32), nullable=False),
        sa.Column("verifier", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_vault_subject_indexes_tenant_id_tenants",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "subject", "field", "index_name", "tag", name="pk_vault_subject_indexes"
        ),
    )
    op.create_index(
        "ix_vault_subject_indexes_lookup",
        "vault_subject_indexes",
        ["tenant_id", "field", "index_name", "tag"],
    )
    op.create_index("ix_vault_subject_indexes_tenant_id", "vault_subject_indexes", ["tenant_id"])

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        protect_tables(bind, TABLES)
        enable_tenant_rls(bind, TABLES)


def downgrade() -> None:
    op.drop_table("vault_subject_indexes")
