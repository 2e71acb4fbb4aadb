"""Webhook secrets (create, rotate, revoke) and verification of a signed delivery.

A secret is shown once, when created, and stored sealed by the vault under the
tenant's data key, bound to its row. Verification, in order: the header is
read; every usable secret of the tenant is tried (constant-time compares); only
then is the timestamp checked against the window and the delivery recorded as
seen, so "expired" and "replayed" are told only to a holder of a valid
signature. The seen-delivery row is written in the caller's transaction: the
caller commits it before doing the work, so a replay racing the original is
refused by the unique constraint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rempart.errors import Conflict, NotFound, ValidationFailed
from rempart.ingest.errors import SignatureExpired, SignatureInvalid, SignatureReplayed
from rempart.ingest.models import ACTIVE, RETIRING, REVOKED, WebhookReplay, WebhookSecret
from rempart.ingest.signatures import delivery_digest, matches, new_secret, parse_header
from rempart.storage.base import new_id
from rempart.storage.tenancy import session_tenant
from rempart.types import TenantId
from rempart.vault import FieldContext, Vault

TABLE = "webhook_secrets"
COLUMN = "secret"


@dataclass(frozen=True)
class IssuedSecret:
    """A new secret: its value exists only here, to be shown once."""

    secret_id: str
    value: str = field(repr=False)
    retiring: tuple[str, ...] = ()
    retiring_until: datetime | None = None

    def __repr__(self) -> str:
        return f"IssuedSecret(secret_id={self.secret_id!r}, value='whsec_***')"


@dataclass(frozen=True, slots=True)
class Verified:
    """A delivery whose signature one of the tenant's secrets made."""

    tenant_id: TenantId
    secret_id: str
    timestamp: int


def _tenant(session: Session) -> TenantId:
    tenant = session_tenant(session)
    if tenant is None:
        raise ValidationFailed("no tenant in context")
    return TenantId(tenant)


def _seal(vault: Vault, tenant: TenantId, row_id: str, value: str) -> bytes:
    vault.ensure_tenant(tenant)
    return vault.encrypt_field(FieldContext(tenant, TABLE, COLUMN, row_id), value.encode())


def _issue(session: Session, vault: Vault, *, actor: str, now: datetime) -> IssuedSecret:
    tenant = _tenant(session)
    row_id = new_id()
    value = new_secret()
    session.add(
        WebhookSecret(
            id=row_id,
            tenant_id=tenant,
            secret_ct=_seal(vault, tenant, row_id, value),
            status=ACTIVE,
            created_at=now,
            created_by=actor,
        )
    )
    session.flush()
    return IssuedSecret(row_id, value)


def _active(session: Session) -> list[WebhookSecret]:
    return list(session.scalars(select(WebhookSecret).where(WebhookSecret.status == ACTIVE)))


def create_secret(session: Session, vault: Vault, *, actor: str, now: datetime) -> IssuedSecret:
    """The tenant's first secret (or a new one after a revocation)."""
    if _active(session):
        raise Conflict("the tenant already has an active webhook secret: rotate it instead")
    return _issue(session, vault, actor=actor, now=now)


def rotate_secret(
    session: Session, vault: Vault, *, actor: str, now: datetime, grace: timedelta
) -> IssuedSecret:
    """A new active secret; the previous one still verifies for ``grace``, then never."""
    if grace < timedelta(0):
        raise ValidationFailed("the grace period cannot be negative")
    current = _active(session)
    if not current:
        raise NotFound("the tenant has no active webhook secret: create one")
    until = now + grace
    for row in current:
        row.status = RETIRING
        row.expires_at = until
    issued = _issue(session, vault, actor=actor, now=now)
    return IssuedSecret(issued.secret_id, issued.value, tuple(r.id for r in current), until)


def revoke_secrets(session: Session, *, now: datetime, secret_id: str | None = None) -> list[str]:
    """Revoke one secret, or every secret of the tenant; their ciphertext is erased."""
    stmt = select(WebhookSecret).where(WebhookSecret.status != REVOKED)
    if secret_id is not None:
        stmt = stmt.where(WebhookSecret.id == secret_id)
    rows = list(session.scalars(stmt))
    if secret_id is not None and not rows:
        raise NotFound("no such webhook secret (or already revoked)")
    for row in rows:
        row.status = REVOKED
        row.revoked_at = now
        row.secret_ct = None
    session.flush()
    return [r.id for r in rows]


def list_secrets(session: Session) -> list[WebhookSecret]:
    return list(session.scalars(select(WebhookSecret).order_by(WebhookSecret.created_at)))


def usable_secrets(session: Session, vault: Vault, now: datetime) -> list[tuple[str, str]]:
    """(id, value) of the active secret and of retiring ones still in their grace period."""
    tenant = _tenant(session)
    stmt = select(WebhookSecret).where(
        WebhookSecret.secret_ct.is_not(None),
        or_(
            WebhookSecret.status == ACTIVE,
            (WebhookSecret.status == RETIRING) & (WebhookSecret.expires_at > now),
        ),
    )
    out = []
    for row in session.scalars(stmt.order_by(WebhookSecret.created_at.desc())):
        if row.secret_ct is None:  # pragma: no cover - filtered by the query
            continue
        ctx = FieldContext(tenant, TABLE, COLUMN, row.id)
        out.append((row.id, vault.decrypt_field(ctx, row.secret_ct).decode()))
    return out


def verify_delivery(
    session: Session,
    vault: Vault,
    *,
    header: str | None,
    body: bytes,
    now: datetime,
    tolerance: timedelta,
) -> Verified:
    """Check a signed delivery for the session's tenant and record it as seen.

    Raises a ``WebhookRefused`` subclass naming what failed; on success the
    delivery's digest is inserted (commit it before acting on the delivery).
    """
    tenant = _tenant(session)
    parsed = parse_header(header)
    matched: str | None = None
    for secret_id, value in usable_secrets(session, vault, now):
        if matches(value, parsed, body) and matched is None:
            matched = secret_id
    if matched is None:
        raise SignatureInvalid("the signature was not made by a webhook secret of this tenant")
    signed_at = datetime.fromtimestamp(parsed.timestamp, UTC)
    if abs(now - signed_at) > tolerance:
        raise SignatureExpired(
            f"the signature's timestamp is more than {int(tolerance.total_seconds())} s "
            "from the server's clock"
        )
    digest = delivery_digest(parsed, body)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = session.execute(
        insert(WebhookReplay)
        .values(
            id=new_id(),
            tenant_id=tenant,
            digest=digest,
            seen_at=now,
            expires_at=signed_at + tolerance,
        )
        .on_conflict_do_nothing()
        .returning(WebhookReplay.id)
    )
    if result.first() is None:
        raise SignatureReplayed("this signed delivery was already received")
    return Verified(tenant, matched, parsed.timestamp)


__all__ = [
    "IssuedSecret",
    "Verified",
    "create_secret",
    "list_secrets",
    "revoke_secrets",
    "rotate_secret",
    "usable_secrets",
    "verify_delivery",
]
