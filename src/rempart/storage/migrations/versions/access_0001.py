"""Access control: tenant version row, roles, assignments, relations, grants, activity, reviews.

Revision ID: access_0001
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rempart.storage.base import UTCDateTime
from rempart.storage.rls import enable_tenant_rls, protect_tables

revision: str = "access_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("access",)
depends_on: str | Sequence[str] | None = None

TABLES = [
    "access_state",
    "access_roles",
    "access_role_assignments",
    "access_relations",
    "access_grants",
    "access_user_activity",
    "access_review_items",
]


def upgrade() -> None:
    op.create_table(
        "access_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("interaction_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("min_assurance", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.String(length=200), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("review_required", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_access_grants_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
    )
    op.create_index(
        op.f("ix_access_grants_tenant_id"), "access_grants", ["tenant_id"], unique=False
    )
    op.create_index(op.f("ix_access_grants_user_id"), "access_grants", ["user_id"], unique=False)
    op.create_table(
        "access_relations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=True),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_access_relations_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_relations")),
        sa.UniqueConstraint(
            "tenant_id",
            "user_id",
            "kind",
            "object_type",
            "object_id",
            name=op.f("uq_access_relations_tenant_id_user_id_kind_object_type_object_id"),
        ),
    )
    op.create_index(
        op.f("ix_access_relations_tenant_id"), "access_relations", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_access_relations_user_id"), "access_relations", ["user_id"], unique=False
    )
    op.create_table(
        "access_review_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("campaign_created_at", UTCDateTime(), nullable=False),
        sa.Column("campaign_deadline", UTCDateTime(), nullable=False),
        sa.Column("reviewer_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("entitlement", sa.String(length=500), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_access_review_items_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_review_items")),
        sa.UniqueConstraint(
            "tenant_id",
            "campaign_id",
            "entitlement",
            name=op.f("uq_access_review_items_tenant_id_campaign_id_entitlement"),
        ),
    )
    op.create_index(
        op.f("ix_access_review_items_campaign_id"),
        "access_review_items",
        ["campaign_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_access_review_items_tenant_id"), "access_review_items", ["tenant_id"], unique=False
    )
    op.create_table(
        "access_role_assignments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=63), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=True),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_access_role_assignments_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_role_assignments")),
        sa.UniqueConstraint(
            "tenant_id",
            "user_id",
            "role",
            name=op.f("uq_access_role_assignments_tenant_id_user_id_role"),
        ),
    )
    op.create_index(
        op.f("ix_access_role_assignments_tenant_id"),
        "access_role_assignments",
        ["tenant_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_access_role_assignments_user_id"),
        "access_role_assignments",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "access_roles",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("inherits", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_access_roles_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_roles")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_access_roles_tenant_id_name")),
    )
    op.create_index(op.f("ix_access_roles_tenant_id"), "access_roles", ["tenant_id"], unique=False)
    op.create_table(
        "access_state",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("exclusions", sa.JSON(), nullable=False),
        sa.Column("custom_roles", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_access_state_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_state")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_access_state_tenant_id")),
    )
    op.create_index(op.f("ix_access_state_tenant_id"), "access_state", ["tenant_id"], unique=False)
    op.create_table(
        "access_user_activity",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_access_user_activity_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_user_activity")),
        sa.UniqueConstraint(
            "tenant_id", "user_id", name=op.f("uq_access_user_activity_tenant_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_access_user_activity_tenant_id"),
        "access_user_activity",
        ["tenant_id"],
        unique=False,
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        protect_tables(bind, TABLES)
        enable_tenant_rls(bind, TABLES)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
