"""The tenant registry: the one platform-level table every tenant-owned row points to.

The registry holds names and status only, never customer data, so it is not
under row-level security; everything hanging off it is.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from rempart.errors import Conflict, NotFound, ValidationFailed
from rempart.storage.base import Base, new_id
from rempart.types import Clock, TenantId, utc_now

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime]

    @property
    def tenant_id(self) -> TenantId:
        return TenantId(self.id)


def create_tenant(session: Session, slug: str, name: str, *, clock: Clock = utc_now) -> Tenant:
    """Register a tenant; the slug is a short lower-case handle, unique on the platform."""
    if not SLUG_RE.match(slug):
        raise ValidationFailed(
            "tenant slug must be 1-63 lower-case letters, digits or hyphens, "
            "not starting or ending with a hyphen"
        )
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("tenant name must be 1-200 characters")
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise Conflict(f"tenant {slug!r} already exists")
    tenant = Tenant(id=new_id(), slug=slug, name=name, status="active", created_at=clock())
    session.add(tenant)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"tenant {slug!r} already exists") from exc
    return tenant


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.slug)))


def get_tenant(session: Session, ref: str) -> Tenant:
    """Find a tenant by id or slug."""
    tenant = session.scalar(select(Tenant).where((Tenant.id == ref) | (Tenant.slug == ref)))
    if tenant is None:
        raise NotFound(f"no tenant {ref!r}")
    return tenant


__all__ = ["Tenant", "create_tenant", "get_tenant", "list_tenants"]
