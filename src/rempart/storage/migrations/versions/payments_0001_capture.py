"""Secure payment capture: capture sessions.

Revision ID: payments_0001_capture
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rempart.storage.base import UTCDateTime
from rempart.storage.rls import enable_tenant_rls, protect_tables

revision: str = "payments_0001_capture"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("payments",)
depends_on: str | Sequence[str] | None = None

TABLES = ["payment_captures"]


def upgrade() -> None:
    op.create_table(
        "payment_captures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("interaction_id", sa.String(length=36), nullable=False),
        sa.Column("open_slot", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_field", sa.String(length=8), nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("merchant_reference", sa.String(length=100), nullable=True),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("recording_paused_at", UTCDateTime(), nullable=False),
        sa.Column("recording_resumed_at", UTCDateTime(), nullable=True),
        sa.Column("entry_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("pan_digits", sa.Integer(), nullable=False),
        sa.Column("pan_last_four", sa.String(length=4), nullable=True),
        sa.Column("expiry_digits", sa.Integer(), nullable=False),
        sa.Column("expiry_valid", sa.Boolean(), nullable=False),
        sa.Column("cvv_entered", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("card_token", sa.String(length=64), nullable=True),
        sa.Column("processor", sa.String(length=64), nullable=True),
        sa.Column("processor_reference", sa.String(length=200), nullable=True),
        sa.Column("decline_code", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name="fk_payment_captures_interaction_id_interactions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name="fk_payment_captures_tenant_id_tenants",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_captures"),
        sa.UniqueConstraint(
            "tenant_id", "open_slot", name="uq_payment_captures_tenant_id_open_slot"
        ),
    )
    op.create_index("ix_payment_captures_tenant_id", "payment_captures", ["tenant_id"])
    op.create_index("ix_payment_captures_interaction_id", "payment_captures", ["interaction_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        protect_tables(bind, TABLES)
        enable_tenant_rls(bind, TABLES)


def downgrade() -> None:
    op.drop_index("ix_payment_captures_interaction_id", table_name="payment_captures")
    op.drop_index("ix_payment_captures_tenant_id", table_name="payment_captures")
    op.drop_table("payment_captures")
