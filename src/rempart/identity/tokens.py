"""Machine tokens for contact-center integrations.

A token reads ``rmp_<tenant>_<token id>_<secret>``. The tenant and token id
let the server find the row inside the claimed tenant's scope only (row-level
security applies to the lookup too); the secret is 256 random bits of which
only the SHA-256 is stored. A token is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.errors import AuthenticationFailed, NotFound, ValidationFailed
from rempart.identity.allowlist import check_allowed
from rempart.identity.idp import get_policy
from rempart.identity.models import MachineToken
from rempart.identity.scopes import Scope, parse_scopes
from rempart.storage import Database, TenantContext
from rempart.storage.base import new_id
from rempart.storage.tenants import Tenant
from rempart.types import Clock, TenantId, utc_now

PREFIX = "rmp"
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True, slots=True)
class MachinePrincipal:
    """An authenticated integration: which tenant, which token, which scopes."""

    tenant_id: TenantId
    token_id: str
    name: str
    scopes: frozenset[Scope]

    @property
    def actor_id(self) -> str:
        return f"token:{self.token_id}"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """The result of creation: the secret value appears here and nowhere else."""

    token_id: str
    value: str
    expires_at: datetime | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    tenant_id: TenantId,
    name: str,
    scopes: list[str],
    *,
    ttl: timedelta | None = timedelta(days=90),
    clock: Clock = utc_now,
) -> IssuedToken:
    """Create a token for the session's tenant; returns the only copy of its secret."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("token name must be 1-100 characters")
    try:
        parsed = parse_scopes(scopes)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    if ttl is not None and ttl <= timedelta(0):
        raise ValidationFailed("token lifetime must be positive")
    now = clock()
    token_id = new_id()
    secret = secrets.token_urlsafe(32)
    row = MachineToken(
        id=token_id,
        tenant_id=tenant_id,
        name=name,
        secret_hash=_hash(secret),
        scopes=[s.value for s in parsed],
        created_at=now,
        expires_at=None if ttl is None else now + ttl,
    )
    session.add(row)
    session.flush()
    value = f"{PREFIX}_{uuid.UUID(tenant_id).hex}_{uuid.UUID(token_id).hex}_{secret}"
    return IssuedToken(token_id=token_id, value=value, expires_at=row.expires_at)


def revoke_token(session: Session, token_id: str, *, clock: Clock = utc_now) -> MachineToken:
    """Revoke a token of the session's tenant; revoking twice keeps the first time."""
    row = session.get(MachineToken, token_id)
    if row is None:
        raise NotFound("no such token")
    if row.revoked_at is None:
        row.revoked_at = clock()
    return row


def list_tokens(session: Session) -> list[MachineToken]:
    return list(session.scalars(select(MachineToken).order_by(MachineToken.created_at)))


def parse_token(value: str) -> tuple[TenantId, str, str]:
    """Split a presented token into (tenant id, token id, secret) or fail."""
    if len(value) > MAX_TOKEN_LENGTH:
        raise AuthenticationFailed("invalid token")
    parts = value.split("_", 3)
    if len(parts) != 4 or parts[0] != PREFIX:
        raise AuthenticationFailed("invalid token")
    try:
        tenant = uuid.UUID(hex=parts[1])
        token = uuid.UUID(hex=parts[2])
    except ValueError as exc:
        raise AuthenticationFailed("invalid token") from exc
    if len(parts[1]) != 32 or len(parts[2]) != 32 or not parts[3]:
        raise AuthenticationFailed("invalid token")
    return TenantId(str(tenant)), str(token), parts[3]


def authenticate(
    db: Database,
    value: str,
    *,
    clock: Clock = utc_now,
    source_ip: str | None = None,
    check_network: bool = False,
) -> MachinePrincipal:
    """Check a presented token. Says why only once the secret is proven right.

    With ``check_network``, the caller's address must also be inside the
    tenant's IP allowlist (``identity_policies.allowed_networks``).
    """
    tenant_id, token_id, secret = parse_token(value)
    now = clock()
    with db.tenant_session(TenantContext(tenant_id)) as session:
        row = session.get(MachineToken, token_id)
        # Compare even when the row is missing, so timing does not tell.
        expected = row.secret_hash if row is not None else _hash("")
        if not hmac.compare_digest(expected, _hash(secret)) or row is None:
            raise AuthenticationFailed("invalid token")
        if row.revoked_at is not None:
            raise AuthenticationFailed("token revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise AuthenticationFailed("token expired")
        tenant = session.get(Tenant, tenant_id)
        if tenant is None or tenant.status != "active":
            raise AuthenticationFailed("tenant is not active")
        if check_network:
            check_allowed(source_ip, get_policy(session, tenant_id, clock=clock).allowed_networks)
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
        scopes = frozenset(Scope(s) for s in row.scopes if s in Scope._value2member_map_)
        return MachinePrincipal(tenant_id=tenant_id, token_id=row.id, name=row.name, scopes=scopes)


__all__ = [
    "IssuedToken",
    "MachinePrincipal",
    "authenticate",
    "create_token",
    "list_tokens",
    "parse_token",
    "revoke_token",
]
