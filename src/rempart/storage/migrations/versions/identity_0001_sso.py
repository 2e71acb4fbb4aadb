"""Identity: identity providers, policies, login attempts, sessions, SCIM groups, bootstrap links.

Revision ID: identity_0001_sso
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rempart.storage.base import UTCDateTime
from rempart.storage.rls import enable_tenant_rls, protect_tables

revision: str = "identity_0001_sso"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("identity",)
depends_on: str | Sequence[str] | None = None

TABLES = [
    "identity_bootstrap_links",
    "identity_group_members",
    "identity_groups",
    "identity_login_attempts",
    "identity_policies",
    "identity_providers",
    "identity_sessions",
]


def upgrade() -> None:
    op.create_table(
        "identity_bootstrap_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("used_by", sa.String(length=36), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_identity_bootstrap_links_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_bootstrap_links")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_identity_bootstrap_links_secret_hash")),
    )
    op.create_index(
        op.f("ix_identity_bootstrap_links_tenant_id"),
        "identity_bootstrap_links",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "identity_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("member_displays", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_identity_groups_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_groups")),
        sa.UniqueConstraint(
            "tenant_id", "display_name", name=op.f("uq_identity_groups_tenant_id_display_name")
        ),
    )
    op.create_index(
        op.f("ix_identity_groups_tenant_id"), "identity_groups", ["tenant_id"], unique=False
    )
    op.create_table(
        "identity_login_attempts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=100), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("required_level", sa.Integer(), nullable=False),
        sa.Column("max_age_s", sa.Integer(), nullable=True),
        sa.Column("return_to", sa.String(length=1000), nullable=False),
        sa.Column("bootstrap_link_id", sa.String(length=36), nullable=True),
        sa.Column("replaces_session_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_identity_login_attempts_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_login_attempts")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_identity_login_attempts_state_hash")),
    )
    op.create_index(
        op.f("ix_identity_login_attempts_tenant_id"),
        "identity_login_attempts",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "identity_policies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("min_assurance", sa.Integer(), nullable=False),
        sa.Column("idle_timeout_s", sa.Integer(), nullable=False),
        sa.Column("absolute_timeout_s", sa.Integer(), nullable=False),
        sa.Column("step_up_max_age_s", sa.Integer(), nullable=False),
        sa.Column("allowed_networks", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_identity_policies_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_policies")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_identity_policies_tenant_id")),
    )
    op.create_index(
        op.f("ix_identity_policies_tenant_id"), "identity_policies", ["tenant_id"], unique=False
    )
    op.create_table(
        "identity_providers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("redirect_uri", sa.String(length=1000), nullable=False),
        sa.Column("post_logout_redirect_uri", sa.String(length=1000), nullable=True),
        sa.Column("algorithms", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("claim_mapping", sa.JSON(), nullable=False),
        sa.Column("assurance_mapping", sa.JSON(), nullable=False),
        sa.Column("provisioning", sa.String(length=8), nullable=False),
        sa.Column("insecure_http_loopback", sa.Boolean(), nullable=False),
        sa.Column("discovery", sa.JSON(), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=False),
        sa.Column("jwks_fetched_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_identity_providers_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_providers")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_identity_providers_tenant_id")),
    )
    op.create_index(
        op.f("ix_identity_providers_tenant_id"), "identity_providers", ["tenant_id"], unique=False
    )
    op.create_table(
        "identity_group_members",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["identity_groups.id"],
            name=op.f("fk_identity_group_members_group_id_identity_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_identity_group_members_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_identity_group_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_identity_group_members")),
    )
    op.create_index(
        op.f("ix_identity_group_members_tenant_id"),
        "identity_group_members",
        ["tenant_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_identity_group_members_user_id"),
        "identity_group_members",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "identity_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("idp_sid", sa.String(length=255), nullable=True),
        sa.Column("assurance", sa.Integer(), nullable=False),
        sa.Column("acr", sa.String(length=255), nullable=True),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("auth_time", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("idle_expires_at", UTCDateTime(), nullable=False),
        sa.Column("absolute_expires_at", UTCDateTime(), nullable=False),
        sa.Column("source_ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=50), nullable=True),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_identity_sessions_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_identity_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_identity_sessions_secret_hash")),
    )
    op.create_index(
        op.f("ix_identity_sessions_idp_sid"), "identity_sessions", ["idp_sid"], unique=False
    )
    op.create_index(
        op.f("ix_identity_sessions_tenant_id"), "identity_sessions", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_identity_sessions_user_id"), "identity_sessions", ["user_id"], unique=False
    )
    op.add_column("users", sa.Column("user_name", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("external_id", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("idp_roles", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("granted_roles", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("scim_attributes", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("updated_at", UTCDateTime(), nullable=True))

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        protect_tables(bind, TABLES)
        enable_tenant_rls(bind, TABLES)


def downgrade() -> None:
    op.drop_column("users", "updated_at")
    op.drop_column("users", "scim_attributes")
    op.drop_column("users", "granted_roles")
    op.drop_column("users", "idp_roles")
    op.drop_column("users", "external_id")
    op.drop_column("users", "user_name")
    op.drop_index(op.f("ix_identity_sessions_user_id"), table_name="identity_sessions")
    op.drop_index(op.f("ix_identity_sessions_tenant_id"), table_name="identity_sessions")
    op.drop_index(op.f("ix_identity_sessions_idp_sid"), table_name="identity_sessions")
    op.drop_table("identity_sessions")
    op.drop_index(op.f("ix_identity_group_members_user_id"), table_name="identity_group_members")
    op.drop_index(op.f("ix_identity_group_members_tenant_id"), table_name="identity_group_members")
    op.drop_table("identity_group_members")
    op.drop_index(op.f("ix_identity_providers_tenant_id"), table_name="identity_providers")
    op.drop_table("identity_providers")
    op.drop_index(op.f("ix_identity_policies_tenant_id"), table_name="identity_policies")
    op.drop_table("identity_policies")
    op.drop_index(
        op.f("ix_identity_login_attempts_tenant_id"), table_name="identity_login_attempts"
    )
    op.drop_table("identity_login_attempts")
    op.drop_index(op.f("ix_identity_groups_tenant_id"), table_name="identity_groups")
    op.drop_table("identity_groups")
    op.drop_index(
        op.f("ix_identity_bootstrap_links_tenant_id"), table_name="identity_bootstrap_links"
    )
    op.drop_table("identity_bootstrap_links")
