"""Access tables: the tenant's version row, roles, assignments, relations, grants, activity,
review campaigns and their items. All are tenant-owned (RLS on PostgreSQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rempart.storage.base import Base, TenantScoped, new_id


class AccessState(TenantScoped, Base):
    """One row per tenant: the version every change increments, and catalog-wide rules."""

    __tablename__ = "access_state"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    exclusions: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    custom_roles: Mapped[bool] = mapped_column(Boolean, default=False)
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The tenant's ``AccessPolicy`` as data (``policy_to_mapping``); NULL: the defaults."""


class AccessRole(TenantScoped, Base):
    __tablename__ = "access_roles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(63))
    permissions: Mapped[list[str]] = mapped_column(JSON)
    inherits: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    machine: Mapped[bool] = mapped_column(Boolean, default=False)


class AccessRoleAssignment(TenantScoped, Base):
    __tablename__ = "access_role_assignments"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "role"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(63))
    source: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str | None] = mapped_column(String(200))
    granted_at: Mapped[datetime]


class AccessRelation(TenantScoped, Base):
    __tablename__ = "access_relations"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "kind", "object_type", "object_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AccessGrant(TenantScoped, Base):
    __tablename__ = "access_grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    permissions: Mapped[list[str]] = mapped_column(JSON)
    interaction_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(500))
    requested_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    min_assurance: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[int] = mapped_column(Integer)
    approver_id: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None]
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AccessUserActivity(TenantScoped, Base):
    """Where the last login comes from: identity calls ``store.record_login`` at each login."""

    __tablename__ = "access_user_activity"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(200))
    last_login_at: Mapped[datetime]


class AccessReviewItem(TenantScoped, Base):
    """One entitlement in one review campaign, with its reviewer and outcome."""

    __tablename__ = "access_review_items"
    __table_args__ = (UniqueConstraint("tenant_id", "campaign_id", "entitlement"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(String(36), index=True)
    campaign_created_at: Mapped[datetime]
    campaign_deadline: Mapped[datetime]
    reviewer_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(200))
    entitlement: Mapped[str] = mapped_column(String(500))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]


__all__ = [
    "AccessGrant",
    "AccessRelation",
    "AccessReviewItem",
    "AccessRole",
    "AccessRoleAssignment",
    "AccessState",
    "AccessUserActivity",
]
