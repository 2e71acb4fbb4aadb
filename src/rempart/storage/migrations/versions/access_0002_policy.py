"""Access control: the tenant's access policy as data.

Revision ID: access_0002
Revises: access_0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "access_0002"
down_revision: str | Sequence[str] | None = "access_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("access_state", sa.Column("policy", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("access_state", "policy")
