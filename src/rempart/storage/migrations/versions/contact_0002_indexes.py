"""Indexes for the data plane's scans: interactions by customer (erasure, search by
blind index) and by start time (retention, date filters).

Revision ID: contact_0002_indexes
Revises: contact_0001_protection
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "contact_0002_indexes"
down_revision: str | Sequence[str] | None = "contact_0001_protection"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_interactions_customer", "interactions", ["tenant_id", "customer_id"])
    op.create_index("ix_interactions_started", "interactions", ["tenant_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_interactions_started", table_name="interactions")
    op.drop_index("ix_interactions_customer", table_name="interactions")
