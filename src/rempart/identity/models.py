"""Identity tables: users, machine tokens, and the single sign-on state around them.

Users are keyed by (issuer, subject) within the tenant, never by e-mail. The
other tables hold each tenant's identity provider and policy, login attempts
in flight, server-side sessions, SCIM groups and first-admin bootstrap links.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rempart.storage.base import Base, TenantScoped, new_id


class User(TenantScoped, Base):
    """A person, as their tenant's identity provider knows them.

    Keyed by (issuer, subject) within the tenant, never by e-mail: two
    identity providers can never collide on one account.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "issuer", "subject"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # Added by the identity branch (identity_0001): SCIM and role data.
    user_name: Mapped[str | None] = mapped_column(String(255), default=None)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    # Role names mapped from the IdP's claims at the last login (replaced each login).
    idp_roles: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # Role names granted inside Rempart (e.g. the bootstrap administrator).
    granted_roles: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    scim_attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)


class MachineToken(TenantScoped, Base):
    """A bearer token for one integration of one tenant; only its hash is stored."""

    __tablename__ = "machine_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class IdentityProvider(TenantScoped, Base):
    """A tenant's OpenID Connect provider, with its discovery document and JWKS pinned."""

    __tablename__ = "identity_providers"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    post_logout_redirect_uri: Mapped[str | None] = mapped_column(String(1000), default=None)
    algorithms: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    claim_mapping: Mapped[dict[str, Any]] = mapped_column(JSON)
    assurance_mapping: Mapped[dict[str, Any]] = mapped_column(JSON)
    provisioning: Mapped[str] = mapped_column(String(8), default="jit")
    insecure_http_loopback: Mapped[bool] = mapped_column(default=False)
    discovery: Mapped[dict[str, Any]] = mapped_column(JSON)
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    jwks_fetched_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class IdentityPolicy(TenantScoped, Base):
    """A tenant's session, assurance and network policy (one row per tenant)."""

    __tablename__ = "identity_policies"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    min_assurance: Mapped[int] = mapped_column(Integer, default=1)
    idle_timeout_s: Mapped[int] = mapped_column(Integer, default=1800)
    absolute_timeout_s: Mapped[int] = mapped_column(Integer, default=43200)
    step_up_max_age_s: Mapped[int] = mapped_column(Integer, default=900)
    allowed_networks: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class LoginAttempt(TenantScoped, Base):
    """One authorization request in flight: state, nonce and PKCE verifier, bound to a browser."""

    __tablename__ = "identity_login_attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    required_level: Mapped[int] = mapped_column(Integer)
    max_age_s: Mapped[int | None] = mapped_column(Integer, default=None)
    return_to: Mapped[str] = mapped_column(String(1000), default="/")
    bootstrap_link_id: Mapped[str | None] = mapped_column(String(36), default=None)
    replaces_session_id: Mapped[str | None] = mapped_column(String(36), default=None)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class UserSession(TenantScoped, Base):
    """A server-side browser session; the cookie carries a secret whose hash is the key."""

    __tablename__ = "identity_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    idp_sid: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    assurance: Mapped[int] = mapped_column(Integer)
    acr: Mapped[str | None] = mapped_column(String(255), default=None)
    amr: Mapped[list[str]] = mapped_column(JSON)
    auth_time: Mapped[datetime]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    idle_expires_at: Mapped[datetime]
    absolute_expires_at: Mapped[datetime]
    source_ip: Mapped[str | None] = mapped_column(String(45), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(300), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(50), default=None)


class ScimGroup(TenantScoped, Base):
    """A group pushed by the tenant's provisioning client; its name maps to role names."""

    __tablename__ = "identity_groups"
    __table_args__ = (UniqueConstraint("tenant_id", "display_name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    # Member display names as the client sent them, by user id.
    member_displays: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ScimGroupMember(TenantScoped, Base):
    """Membership of a user in a SCIM group."""

    __tablename__ = "identity_group_members"

    group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("identity_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class BootstrapLink(TenantScoped, Base):
    """A one-time, expiring link that binds a tenant's first administrator at login."""

    __tablename__ = "identity_bootstrap_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    used_by: Mapped[str | None] = mapped_column(String(36), default=None)


__all__ = [
    "BootstrapLink",
    "IdentityPolicy",
    "IdentityProvider",
    "LoginAttempt",
    "MachineToken",
    "ScimGroup",
    "ScimGroupMember",
    "User",
]
