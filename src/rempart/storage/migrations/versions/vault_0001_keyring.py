"""Vault: keyrings, KEK versions, wrapped DEKs, card tokens.

Revision ID: vault_0001_keyring
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rempart.storage.base import UTCDateTime
from rempart.storage.rls import enable_tenant_rls, protect_tables

revision: str = "vault_0001_keyring"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("vault",)
depends_on: str | Sequence[str] | None = None

TABLES = ["vault_keyrings", "vault_keks", "vault_deks", "vault_card_tokens"]


def _tenant(table: str) -> list[sa.Column[str] | sa.ForeignKeyConstraint]:
    return [
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="RESTRICT"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "vault_keyrings",
        *_tenant("vault_keyrings"),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("shredded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_vault_keyrings"),
    )
    op.create_table(
        "vault_keks",
        *_tenant("vault_keks"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("key_ref", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "version", name="pk_vault_keks"),
    )
    op.create_table(
        "vault_deks",
        *_tenant("vault_deks"),
        sa.Column("key_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("encryptions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "key_id", "version", name="pk_vault_deks"),
    )
    op.create_index(
        "ix_vault_deks_tenant_id_kek_version", "vault_deks", ["tenant_id", "kek_version", "status"]
    )
    op.create_table(
        "vault_card_tokens",
        *_tenant("vault_card_tokens"),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("lookup_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("pan_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("last_four", sa.String(length=4), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "token", name="pk_vault_card_tokens"),
        sa.UniqueConstraint("tenant_id", "lookup_hash", name="uq_vault_card_tokens_lookup_hash"),
    )
    op.create_index("ix_vault_card_tokens_expires_at", "vault_card_tokens", ["expires_at"])

    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        protect_tables(bind, TABLES)
        enable_tenant_rls(bind, TABLES)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
