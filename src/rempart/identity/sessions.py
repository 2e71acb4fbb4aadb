"""Server-side browser sessions: random secrets in cookies, hashes in the database.

The cookie reads ``rs1.<tenant hex>.<secret>``: the tenant lets the server
look the session up inside that tenant's scope only (row-level security
applies), the secret is 256 random bits of which only the SHA-256 is
stored. Each request re-reads the row, so a revocation (logout, SCIM
deprovisioning, back-channel logout, an administrator) takes effect on the
very next request. Idle and absolute timeouts come from the tenant's policy.

The CSRF token of a session is an HMAC of its secret: it needs no storage,
changes when the session rotates, and cannot be derived from the session id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rempart.errors import AuthenticationFailed, NotFound, PermissionDenied
from rempart.identity.allowlist import check_allowed
from rempart.identity.assurance import Level
from rempart.identity.idp import ClaimMapping, get_policy
from rempart.identity.models import (
    IdentityPolicy,
    IdentityProvider,
    ScimGroup,
    ScimGroupMember,
    User,
    UserSession,
)
from rempart.storage import Database, TenantContext
from rempart.storage.tenants import Tenant
from rempart.types import Clock, TenantId, utc_now

COOKIE_NAME = "__Host-rempart_session"
PREFIX = "rs1"
MAX_COOKIE_LENGTH = 200
TOUCH_RESOLUTION = timedelta(seconds=30)


class SessionInvalid(AuthenticationFailed):
    title = "Session required"
    slug = "session-invalid"


class CsrfFailed(PermissionDenied):
    title = "CSRF check failed"
    slug = "csrf-failed"


@dataclass(frozen=True, slots=True)
class SessionPrincipal:
    """An authenticated person in a browser session."""

    tenant_id: TenantId
    user_id: str
    session_id: str
    roles: frozenset[str]
    assurance: Level
    auth_time: datetime
    acr: str | None
    amr: tuple[str, ...]
    csrf_token: str

    @property
    def actor_id(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True, slots=True)
class IssuedSession:
    session_id: str
    cookie_value: str
    csrf_token: str
    absolute_expires_at: datetime
    max_age_s: int


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token_for(secret: str) -> str:
    mac = hmac.new(secret.encode(), b"rempart-csrf-v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def parse_cookie(value: str) -> tuple[TenantId, str]:
    if len(value) > MAX_COOKIE_LENGTH:
        raise SessionInvalid("invalid session")
    parts = value.split(".", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 32 or len(parts[2]) < 32:
        raise SessionInvalid("invalid session")
    try:
        tenant = uuid.UUID(hex=parts[1])
    except ValueError as exc:
        raise SessionInvalid("invalid session") from exc
    return TenantId(str(tenant)), parts[2]


def create_session(
    session: Session,
    tenant_id: TenantId,
    *,
    user: User,
    issuer: str,
    idp_sid: str | None,
    assurance: Level,
    acr: str | None,
    amr: tuple[str, ...],
    auth_time: datetime,
    policy: IdentityPolicy,
    source_ip: str | None,
    user_agent: str | None,
    clock: Clock = utc_now,
) -> IssuedSession:
    """A fresh session (a new random id: sessions rotate on every login and step-up)."""
    now = clock()
    secret = secrets.token_urlsafe(32)
    absolute = now + timedelta(seconds=policy.absolute_timeout_s)
    row = UserSession(
        tenant_id=tenant_id,
        secret_hash=_hash(secret),
        user_id=user.id,
        issuer=issuer,
        idp_sid=idp_sid[:255] if idp_sid else None,
        assurance=int(assurance),
        acr=acr[:255] if acr else None,
        amr=list(amr)[:20],
        auth_time=auth_time,
        created_at=now,
        last_seen_at=now,
        idle_expires_at=min(now + timedelta(seconds=policy.idle_timeout_s), absolute),
        absolute_expires_at=absolute,
        source_ip=source_ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    return IssuedSession(
        session_id=row.id,
        cookie_value=f"{PREFIX}.{uuid.UUID(tenant_id).hex}.{secret}",
        csrf_token=csrf_token_for(secret),
        absolute_expires_at=absolute,
        max_age_s=policy.absolute_timeout_s,
    )


def effective_roles(session: Session, user: User, mapping: ClaimMapping | None) -> list[str]:
    """Roles from the last login's claims, local grants, and SCIM groups mapped now."""
    roles = set(user.idp_roles or []) | set(user.granted_roles or [])
    if mapping is not None and mapping.roles:
        names = session.scalars(
            select(ScimGroup.display_name)
            .join(ScimGroupMember, ScimGroupMember.group_id == ScimGroup.id)
            .where(ScimGroupMember.user_id == user.id)
        ).all()
        roles.update(mapping.roles_for(names))
    return sorted(roles)


def resolve_session(
    db: Database,
    cookie_value: str,
    *,
    source_ip: str | None,
    clock: Clock = utc_now,
) -> SessionPrincipal:
    """The principal behind a session cookie, or ``SessionInvalid``; touches the idle timer."""
    tenant_id, secret = parse_cookie(cookie_value)
    now = clock()
    with db.tenant_session(TenantContext(tenant_id)) as session:
        # One round trip for what every request needs; RLS and the tenant
        # criterion apply to each joined table.
        found = session.execute(
            select(UserSession, User, Tenant.status, IdentityPolicy, IdentityProvider.claim_mapping)
            .join(User, User.id == UserSession.user_id)
            .join(Tenant, Tenant.id == UserSession.tenant_id)
            .outerjoin(IdentityPolicy, IdentityPolicy.tenant_id == UserSession.tenant_id)
            .outerjoin(IdentityProvider, IdentityProvider.tenant_id == UserSession.tenant_id)
            .where(UserSession.secret_hash == _hash(secret))
        ).first()
        if found is None:
            raise SessionInvalid("invalid session")
        row, user, tenant_status, stored_policy, mapping_config = found
        if row.revoked_at is not None:
            raise SessionInvalid("session ended")
        if now >= row.absolute_expires_at or now >= row.idle_expires_at:
            raise SessionInvalid("session expired")
        if not user.active:
            raise SessionInvalid("account disabled")
        if tenant_status != "active":
            raise SessionInvalid("tenant is not active")
        policy = stored_policy or get_policy(session, tenant_id, clock=clock)
        check_allowed(source_ip, policy.allowed_networks)
        if now - row.last_seen_at >= TOUCH_RESOLUTION:
            row.last_seen_at = now
            row.idle_expires_at = min(
                now + timedelta(seconds=policy.idle_timeout_s), row.absolute_expires_at
            )
        mapping = None if mapping_config is None else ClaimMapping.from_config(mapping_config)
        roles = effective_roles(session, user, mapping)
        return SessionPrincipal(
            tenant_id=tenant_id,
            user_id=user.id,
            session_id=row.id,
            roles=frozenset(roles),
            assurance=Level(row.assurance),
            auth_time=row.auth_time,
            acr=row.acr,
            amr=tuple(row.amr),
            csrf_token=csrf_token_for(secret),
        )


def check_csrf(principal: SessionPrincipal, presented: str | None) -> None:
    """Refuse a state-changing request whose CSRF token is not the session's."""
    if not presented or not hmac.compare_digest(presented.encode(), principal.csrf_token.encode()):
        raise CsrfFailed("missing or wrong CSRF token")


def revoke_session(
    session: Session,
    session_id: str,
    *,
    reason: str,
    user_id: str | None = None,
    clock: Clock = utc_now,
) -> UserSession:
    """End one session of the tenant (of ``user_id`` only, when given)."""
    row = session.get(UserSession, session_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise NotFound("no such session")
    if row.revoked_at is None:
        row.revoked_at = clock()
        row.revoked_reason = reason[:50]
    return row


def revoke_user_sessions(
    session: Session, user_id: str, *, reason: str, clock: Clock = utc_now
) -> int:
    """End every live session of a user; returns how many were ended."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=clock(), revoked_reason=reason[:50])
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def list_sessions(
    session: Session, *, user_id: str | None = None, live_at: datetime | None = None
) -> list[UserSession]:
    stmt = select(UserSession).order_by(UserSession.created_at.desc())
    if user_id is not None:
        stmt = stmt.where(UserSession.user_id == user_id)
    if live_at is not None:
        stmt = stmt.where(
            UserSession.revoked_at.is_(None),
            UserSession.idle_expires_at > live_at,
            UserSession.absolute_expires_at > live_at,
        )
    return list(session.scalars(stmt.limit(500)))


__all__ = [
    "COOKIE_NAME",
    "CsrfFailed",
    "IssuedSession",
    "SessionInvalid",
    "SessionPrincipal",
    "check_csrf",
    "create_session",
    "csrf_token_for",
    "effective_roles",
    "list_sessions",
    "parse_cookie",
    "resolve_session",
    "revoke_session",
    "revoke_user_sessions",
]
