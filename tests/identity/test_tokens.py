"""Machine tokens: shown once, stored as a hash, bound to one tenant, expire and revoke."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from rempart.errors import AuthenticationFailed, NotFound, ValidationFailed
from rempart.identity.models import MachineToken
from rempart.identity.scopes import Scope
from rempart.identity.tokens import authenticate, create_token, parse_token, revoke_token
from rempart.storage import Database, TenantContext

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def test_only_the_hash_of_the_secret_is_stored(db: Database, tenant_a: TenantContext) -> None:
    with db.tenant_session(tenant_a) as s:
        issued = create_token(s, tenant_a.tenant_id, "ccaas", ["interaction:write"], clock=clock)
    secret = issued.value.split("_", 3)[3]
    with db.tenant_session(tenant_a) as s:
        row = s.scalars(select(MachineToken)).one()
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row.__dict__)
    principal = authenticate(db, issued.value, clock=clock)
    assert principal.tenant_id == tenant_a.tenant_id
    assert principal.scopes == frozenset({Scope.INTERACTION_WRITE})


def test_secrets_are_long_and_never_repeat(db: Database, tenant_a: TenantContext) -> None:
    with db.tenant_session(tenant_a) as s:
        values = {
            create_token(s, tenant_a.tenant_id, "t", ["interaction:read"]).value for _ in range(20)
        }
    assert len(values) == 20
    assert all(len(v.split("_", 3)[3]) >= 43 for v in values)  # 256 bits in base64url


def test_expiry_and_revocation(db: Database, tenant_a: TenantContext) -> None:
    with db.tenant_session(tenant_a) as s:
        issued = create_token(
            s, tenant_a.tenant_id, "t", ["interaction:read"], ttl=timedelta(minutes=5), clock=clock
        )
    authenticate(db, issued.value, clock=lambda: NOW + timedelta(minutes=4))
    with pytest.raises(AuthenticationFailed, match="expired"):
        authenticate(db, issued.value, clock=lambda: NOW + timedelta(minutes=5))
    with db.tenant_session(tenant_a) as s:
        revoke_token(s, issued.token_id, clock=clock)
    with pytest.raises(AuthenticationFailed, match="revoked"):
        authenticate(db, issued.value, clock=clock)


def test_a_tenant_cannot_revoke_another_tenants_token(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    with db.tenant_session(tenant_a) as s:
        issued = create_token(s, tenant_a.tenant_id, "t", ["interaction:read"])
    with pytest.raises(NotFound), db.tenant_session(tenant_b) as s:
        revoke_token(s, issued.token_id)
    authenticate(db, issued.value)


def test_suspended_tenant_tokens_stop_working(db: Database, tenant_a: TenantContext) -> None:
    from rempart.storage.tenants import Tenant

    with db.tenant_session(tenant_a) as s:
        issued = create_token(s, tenant_a.tenant_id, "t", ["interaction:read"])
    with db.platform_session() as s:
        tenant = s.get(Tenant, tenant_a.tenant_id)
        assert tenant is not None
        tenant.status = "suspended"
    with pytest.raises(AuthenticationFailed, match="not active"):
        authenticate(db, issued.value)


@pytest.mark.parametrize(
    ("name", "scopes", "ttl"),
    [
        ("", ["interaction:read"], timedelta(days=1)),
        ("x" * 101, ["interaction:read"], timedelta(days=1)),
        ("t", [], timedelta(days=1)),
        ("t", ["admin:everything"], timedelta(days=1)),
        ("t", ["interaction:read"], timedelta(0)),
    ],
)
def test_invalid_token_requests_are_refused(
    db: Database, tenant_a: TenantContext, name: str, scopes: list[str], ttl: timedelta
) -> None:
    with pytest.raises(ValidationFailed), db.tenant_session(tenant_a) as s:
        create_token(s, tenant_a.tenant_id, name, scopes, ttl=ttl)
    with db.tenant_session(tenant_a) as s:
        assert s.scalars(select(MachineToken)).all() == []


@given(st.text(max_size=300))
def test_parse_never_crashes_and_only_accepts_well_formed_tokens(value: str) -> None:
    try:
        tenant, token, secret = parse_token(value)
    except AuthenticationFailed:
        return
    assert value.startswith("rmp_")
    assert secret
    assert len(tenant) == 36
    assert len(token) == 36
