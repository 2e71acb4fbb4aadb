"""Webhook secrets and delivery verification, on each storage lane."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from rempart.errors import Conflict, NotFound
from rempart.ingest import (
    SignatureExpired,
    SignatureInvalid,
    SignatureMalformed,
    SignatureMissing,
    SignatureReplayed,
    Verified,
    create_secret,
    header_value,
    list_secrets,
    revoke_secrets,
    rotate_secret,
    sign,
    verify_delivery,
)
from rempart.ingest.models import ACTIVE, RETIRING, REVOKED, WebhookReplay, WebhookSecret
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.ingest.conftest import NOW

BODY = b'{"external_id":"chat-1"}'
TOL = timedelta(seconds=300)
T = int(NOW.timestamp())


def _verify(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    header: str | None,
    body: bytes = BODY,
    now: datetime = NOW,
) -> Verified:
    with db.tenant_session(ctx) as s:
        return verify_delivery(s, vault, header=header, body=body, now=now, tolerance=TOL)


def _issue(db: Database, vault: Vault, ctx: TenantContext) -> str:
    with db.tenant_session(ctx) as s:
        return create_secret(s, vault, actor="test", now=NOW).value


def test_a_signed_delivery_is_verified_once(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    secret = _issue(db, ivault, tenant_a)
    header = header_value(T, [sign(secret, T, BODY)])
    verified = _verify(db, ivault, tenant_a, header)
    assert verified.tenant_id == tenant_a.tenant_id
    with pytest.raises(SignatureReplayed):
        _verify(db, ivault, tenant_a, header)
    # The same delivery signed again later is a new delivery.
    again = header_value(T + 1, [sign(secret, T + 1, BODY)])
    _verify(db, ivault, tenant_a, again)


def test_the_replay_row_expires_with_the_window(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    secret = _issue(db, ivault, tenant_a)
    _verify(db, ivault, tenant_a, header_value(T, [sign(secret, T, BODY)]))
    with db.tenant_session(tenant_a) as s:
        row = s.scalars(select(WebhookReplay)).one()
        assert row.expires_at == NOW + TOL
        assert BODY not in row.digest


def test_a_wrong_secret_is_refused(db: Database, ivault: Vault, tenant_a: TenantContext) -> None:
    _issue(db, ivault, tenant_a)
    header = header_value(T, [sign("whsec_guess", T, BODY)])
    with pytest.raises(SignatureInvalid):
        _verify(db, ivault, tenant_a, header)


def test_another_tenants_secret_is_refused(
    db: Database, ivault: Vault, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    _issue(db, ivault, tenant_a)
    secret_b = _issue(db, ivault, tenant_b)
    header = header_value(T, [sign(secret_b, T, BODY)])
    with pytest.raises(SignatureInvalid):
        _verify(db, ivault, tenant_a, header)
    _verify(db, ivault, tenant_b, header)


def test_a_tenant_without_a_secret_accepts_nothing(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    with pytest.raises(SignatureInvalid):
        _verify(db, ivault, tenant_a, header_value(T, [sign("whsec_x", T, BODY)]))


def test_a_tampered_body_is_refused(db: Database, ivault: Vault, tenant_a: TenantContext) -> None:
    secret = _issue(db, ivault, tenant_a)
    header = header_value(T, [sign(secret, T, BODY)])
    with pytest.raises(SignatureInvalid):
        _verify(db, ivault, tenant_a, header, body=BODY.replace(b"chat-1", b"chat-2"))


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_a_timestamp_outside_the_window_is_refused(
    db: Database, ivault: Vault, tenant_a: TenantContext, offset: int
) -> None:
    secret = _issue(db, ivault, tenant_a)
    t = T + offset
    with pytest.raises(SignatureExpired):
        _verify(db, ivault, tenant_a, header_value(t, [sign(secret, t, BODY)]))


@pytest.mark.parametrize("offset", [-300, 300])
def test_the_window_edges_are_inside(
    db: Database, ivault: Vault, tenant_a: TenantContext, offset: int
) -> None:
    secret = _issue(db, ivault, tenant_a)
    t = T + offset
    _verify(db, ivault, tenant_a, header_value(t, [sign(secret, t, BODY)]))


def test_missing_and_malformed_headers_are_refused(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    _issue(db, ivault, tenant_a)
    with pytest.raises(SignatureMissing):
        _verify(db, ivault, tenant_a, None)
    with pytest.raises(SignatureMalformed):
        _verify(db, ivault, tenant_a, "t=now,v1=abc")


def test_the_secret_is_stored_sealed(db: Database, ivault: Vault, tenant_a: TenantContext) -> None:
    secret = _issue(db, ivault, tenant_a)
    with db.tenant_session(tenant_a) as s:
        stored = s.execute(text("SELECT secret_ct FROM webhook_secrets")).scalars().all()
    assert len(stored) == 1
    assert secret.encode() not in bytes(stored[0])
    assert secret.removeprefix("whsec_").encode() not in bytes(stored[0])


def test_only_one_active_secret_create_twice_is_refused(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    _issue(db, ivault, tenant_a)
    with pytest.raises(Conflict):
        _issue(db, ivault, tenant_a)


def test_rotation_keeps_the_old_secret_for_the_grace_period_only(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    old = _issue(db, ivault, tenant_a)
    with db.tenant_session(tenant_a) as s:
        new = rotate_secret(s, ivault, actor="test", now=NOW, grace=timedelta(hours=1))
    assert new.value != old
    assert new.retiring_until == NOW + timedelta(hours=1)
    # Both verify during the grace period, alone or side by side.
    _verify(db, ivault, tenant_a, header_value(T, [sign(old, T, BODY)]))
    _verify(db, ivault, tenant_a, header_value(T + 1, [sign(new.value, T + 1, BODY)]))
    t2 = T + 2
    _verify(
        db, ivault, tenant_a, header_value(t2, [sign(old, t2, BODY), sign(new.value, t2, BODY)])
    )
    # After it, only the new one does.
    later = NOW + timedelta(hours=1, seconds=1)
    tl = int(later.timestamp())
    with pytest.raises(SignatureInvalid):
        _verify(db, ivault, tenant_a, header_value(tl, [sign(old, tl, BODY)]), now=later)
    _verify(db, ivault, tenant_a, header_value(tl, [sign(new.value, tl, BODY)]), now=later)
    with db.tenant_session(tenant_a) as s:
        assert sorted(r.status for r in list_secrets(s)) == [ACTIVE, RETIRING]


def test_rotating_without_a_secret_is_refused(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    with db.tenant_session(tenant_a) as s, pytest.raises(NotFound):
        rotate_secret(s, ivault, actor="test", now=NOW, grace=timedelta(hours=1))


def test_a_revoked_secret_verifies_nothing_and_its_ciphertext_is_gone(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    secret = _issue(db, ivault, tenant_a)
    with db.tenant_session(tenant_a) as s:
        assert len(revoke_secrets(s, now=NOW)) == 1
    with pytest.raises(SignatureInvalid):
        _verify(db, ivault, tenant_a, header_value(T, [sign(secret, T, BODY)]))
    with db.tenant_session(tenant_a) as s:
        row = s.scalars(select(WebhookSecret)).one()
        assert row.status == REVOKED
        assert row.secret_ct is None
        with pytest.raises(NotFound):
            revoke_secrets(s, now=NOW, secret_id=row.id)
    # A new secret can then be created.
    _issue(db, ivault, tenant_a)


def test_a_retiring_secret_can_be_revoked_alone(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    old = _issue(db, ivault, tenant_a)
    with db.tenant_session(tenant_a) as s:
        new = rotate_secret(s, ivault, actor="test", now=NOW, grace=timedelta(hours=24))
        revoke_secrets(s, now=NOW, secret_id=new.retiring[0])
    with pytest.raises(SignatureInvalid):
        _verify(db, ivault, tenant_a, header_value(T, [sign(old, T, BODY)]))
    _verify(db, ivault, tenant_a, header_value(T, [sign(new.value, T, BODY)]))


def test_one_tenant_sees_none_of_another_tenants_secrets(
    db: Database, ivault: Vault, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    _issue(db, ivault, tenant_a)
    with db.tenant_session(tenant_b) as s:
        assert list_secrets(s) == []
        assert revoke_secrets(s, now=NOW) == []
    with db.tenant_session(tenant_a) as s:
        assert len(list_secrets(s)) == 1
