"""Idempotency keys: the first answer to a keyed request is kept and replayed to its retries.

Per tenant and key: ``begin`` reserves the key (a row under a unique
constraint, committed before the work, so of two concurrent requests exactly
one wins and the other is told the key is in use), or returns the stored
answer when the same request was already answered, or refuses the key when it
came with another request. ``complete`` stores the answer, sealed by the
vault; ``release`` drops a reservation whose answer must not be replayed
(server errors, refused credentials), so that a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rempart.errors import ValidationFailed
from rempart.ingest.errors import IdempotencyKeyInUse, IdempotencyKeyInvalid, IdempotencyKeyReused
from rempart.ingest.models import IdempotencyRecord
from rempart.storage.base import new_id
from rempart.storage.tenancy import session_tenant
from rempart.types import TenantId
from rempart.vault import FieldContext, Vault

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
_KEY: Final = re.compile(r"^[\x21-\x7e]{1,255}$")
# Answers that are not kept: refused credentials or scope, "retry later" kinds.
_NOT_KEPT: Final = frozenset({401, 403, 408, 409, 425, 429})
# Response headers that are kept with the answer.
KEPT_HEADERS: Final = ("content-type", "location")


@dataclass(frozen=True)
class StoredResponse:
    """An answer as kept: status, a few headers, the body."""

    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Reserved:
    """The key is ours: do the work, then ``complete`` or ``release``."""

    record_id: str
    tenant_id: TenantId


def check_key(value: str) -> str:
    if not _KEY.match(value):
        raise IdempotencyKeyInvalid(
            f"the {HEADER} header must be 1 to 255 printable ASCII characters without spaces"
        )
    return value


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What "the same request" means: method, path and the exact body bytes."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def keeps(status: int) -> bool:
    """Whether an answer with this status is kept for retries."""
    return status < 500 and status not in _NOT_KEPT


def _tenant(session: Session) -> TenantId:
    tenant = session_tenant(session)
    if tenant is None:
        raise ValidationFailed("no tenant in context")
    return TenantId(tenant)


def _ctx(tenant: TenantId, record_id: str) -> FieldContext:
    return FieldContext(tenant, "idempotency_keys", "response", record_id)


def begin(
    session: Session,
    vault: Vault,
    *,
    key: str,
    request_sha256: str,
    now: datetime,
    ttl: timedelta,
    lease: timedelta,
) -> Reserved | StoredResponse:
    """Reserve ``key`` for this request, or return the answer already kept for it.

    Raises ``IdempotencyKeyReused`` (another request came with this key) or
    ``IdempotencyKeyInUse`` (the first request is still running). Commit the
    session before doing the work.
    """
    tenant = _tenant(session)
    check_key(key)
    # An expired record is forgotten: the key is free again.
    session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.key == key, IdempotencyRecord.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    record_id = new_id()
    result = session.execute(
        insert(IdempotencyRecord)
        .values(
            id=record_id,
            tenant_id=tenant,
            key=key,
            request_sha256=request_sha256,
            created_at=now,
            expires_at=now + ttl,
        )
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.id)
    )
    if result.first() is not None:
        return Reserved(record_id, tenant)
    row = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == key))
    if row is None:  # deleted between our insert and our read: let the client retry
        raise IdempotencyKeyInUse("the request with this key is being processed; retry later")
    if row.request_sha256 != request_sha256:
        raise IdempotencyKeyReused(
            "this idempotency key was used with another request (method, path or body)"
        )
    if row.completed_at is not None and row.response_ct is not None:
        body = vault.decrypt_field(_ctx(tenant, row.id), row.response_ct)
        return StoredResponse(int(row.status_code or 200), dict(row.response_headers or {}), body)
    if now - row.created_at < lease:
        raise IdempotencyKeyInUse("the request with this key is being processed; retry later")
    # Abandoned (the worker died mid-request): take it over, compare-and-set on the start.
    taken = session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == row.id,
            IdempotencyRecord.created_at == row.created_at,
            IdempotencyRecord.completed_at.is_(None),
        )
        .values(created_at=now)
        .returning(IdempotencyRecord.id)
        .execution_options(synchronize_session=False)
    )
    if taken.first() is None:
        raise IdempotencyKeyInUse("the request with this key is being processed; retry later")
    return Reserved(row.id, tenant)


def complete(
    session: Session, vault: Vault, reserved: Reserved, response: StoredResponse, *, now: datetime
) -> None:
    """Keep the answer (sealed) for the retries of the reserved request."""
    headers = {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS}
    vault.ensure_tenant(reserved.tenant_id)
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == reserved.record_id)
        .values(
            completed_at=now,
            status_code=response.status,
            response_headers=json.loads(json.dumps(headers)),
            response_ct=vault.encrypt_field(
                _ctx(reserved.tenant_id, reserved.record_id), response.body
            ),
        )
        .execution_options(synchronize_session=False)
    )


def release(session: Session, reserved: Reserved) -> None:
    """Drop a reservation that did not produce a keepable answer."""
    session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.id == reserved.record_id, IdempotencyRecord.completed_at.is_(None))
        .execution_options(synchronize_session=False)
    )


def purge_expired(session: Session, *, now: datetime, limit: int = 1000) -> int:
    """Delete up to ``limit`` expired records of the session's tenant; how many went."""
    ids = list(
        session.scalars(
            select(IdempotencyRecord.id).where(IdempotencyRecord.expires_at <= now).limit(limit)
        )
    )
    if ids:
        session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    return len(ids)


__all__ = [
    "HEADER",
    "KEPT_HEADERS",
    "REPLAYED_HEADER",
    "Reserved",
    "StoredResponse",
    "begin",
    "check_key",
    "complete",
    "fingerprint",
    "keeps",
    "purge_expired",
    "release",
]
