"""First-administrator bootstrap: a one-time, expiring link, never a standing local account.

``rempart identity bootstrap`` creates a link carrying a 256-bit secret (only
its hash is stored). Whoever opens it is sent through the tenant's normal
single sign-on; when that login succeeds, the link is consumed and the user
it identified is granted the administrator role. The link works once, and
not after it expires or once the tenant has an administrator.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rempart.errors import AuthenticationFailed, Conflict, ValidationFailed
from rempart.identity.models import BootstrapLink, User
from rempart.types import Clock, TenantId, utc_now

ADMIN_ROLE = "admin"
PREFIX = "rb1"
DEFAULT_TTL = timedelta(hours=1)
MAX_TTL = timedelta(days=2)


class BootstrapRefused(AuthenticationFailed):
    title = "Bootstrap link refused"
    slug = "bootstrap-refused"


@dataclass(frozen=True, slots=True)
class IssuedLink:
    link_id: str
    secret: str
    expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tenant_has_admin(session: Session) -> bool:
    for granted, idp in session.execute(select(User.granted_roles, User.idp_roles)).all():
        if ADMIN_ROLE in (granted or []) or ADMIN_ROLE in (idp or []):
            return True
    return False


def create_bootstrap_link(
    session: Session,
    tenant_id: TenantId,
    *,
    ttl: timedelta = DEFAULT_TTL,
    role: str = ADMIN_ROLE,
    clock: Clock = utc_now,
) -> IssuedLink:
    """A link for the first administrator; refused once the tenant has one."""
    if not timedelta(minutes=1) <= ttl <= MAX_TTL:
        raise ValidationFailed("a bootstrap link lives between 1 minute and 2 days")
    if tenant_has_admin(session):
        raise Conflict("this tenant already has an administrator")
    now = clock()
    # Earlier unused links stop working: only the newest one is valid.
    session.execute(
        update(BootstrapLink)
        .where(BootstrapLink.used_at.is_(None))
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    secret = secrets.token_urlsafe(32)
    row = BootstrapLink(
        tenant_id=tenant_id,
        secret_hash=_hash(secret),
        role=role,
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(row)
    session.flush()
    return IssuedLink(
        link_id=row.id,
        secret=f"{PREFIX}.{uuid.UUID(tenant_id).hex}.{secret}",
        expires_at=row.expires_at,
    )


def find_link(session: Session, secret: str, *, now: datetime) -> BootstrapLink:
    """The valid link behind a presented secret (checked again when consumed)."""
    parts = secret.split(".", 2)
    if len(secret) > 200 or len(parts) != 3 or parts[0] != PREFIX:
        raise BootstrapRefused("invalid bootstrap link")
    row = session.scalar(select(BootstrapLink).where(BootstrapLink.secret_hash == _hash(parts[2])))
    if row is None or row.used_at is not None or now >= row.expires_at:
        raise BootstrapRefused("invalid, used or expired bootstrap link")
    return row


def consume_bootstrap_link(session: Session, link_id: str, user: User, *, now: datetime) -> str:
    """Use the link once, granting its role to ``user``; refused when already used or expired."""
    result = session.execute(
        update(BootstrapLink)
        .where(
            BootstrapLink.id == link_id,
            BootstrapLink.used_at.is_(None),
            BootstrapLink.expires_at > now,
        )
        .values(used_at=now, used_by=user.id)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise BootstrapRefused("the bootstrap link was used or expired meanwhile")
    row = session.get(BootstrapLink, link_id)
    role = row.role if row is not None else ADMIN_ROLE
    user.granted_roles = sorted({*(user.granted_roles or []), role})
    return role


__all__ = [
    "ADMIN_ROLE",
    "BootstrapRefused",
    "IssuedLink",
    "consume_bootstrap_link",
    "create_bootstrap_link",
    "find_link",
    "tenant_has_admin",
]
