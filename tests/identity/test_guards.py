"""Network and abuse controls (allowlists, rate limit, lockout) and first-admin bootstrap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from rempart.audit import query
from rempart.errors import Conflict
from rempart.identity.allowlist import is_allowed
from rempart.identity.bootstrap import ADMIN_ROLE, create_bootstrap_link
from rempart.identity.ratelimit import Limit, Lockout, RateLimiter, TooManyRequests
from rempart.storage import TenantContext
from tests.api.conftest import MutableClock
from tests.identity.conftest import BOTH_LANES, App, begin, configure, me, sign_in, to_callback
from tests.identity.oidc_server import OidcServer, callback_params, drive_login


@pytest.mark.parametrize(
    ("address", "networks", "allowed"),
    [
        ("10.1.2.3", [], True),
        ("10.1.2.3", ["10.0.0.0/8"], True),
        ("11.1.2.3", ["10.0.0.0/8"], False),
        ("::ffff:10.1.2.3", ["10.0.0.0/8"], True),
        ("2001:db8::1", ["2001:db8::/32"], True),
        ("2001:db9::1", ["2001:db8::/32", "10.0.0.0/8"], False),
        ("not-an-ip", ["10.0.0.0/8"], False),
        (None, ["10.0.0.0/8"], False),
    ],
)
def test_allowlist_matches_ipv4_and_ipv6_cidrs(
    address: str | None, networks: list[str], allowed: bool
) -> None:
    assert is_allowed(address, networks) is allowed


def _via(ip: str) -> dict[str, str]:
    # The test client's peer is a trusted proxy in these tests' settings.
    return {"X-Forwarded-For": ip}


@BOTH_LANES
def test_login_and_sessions_are_refused_outside_the_tenant_allowlist(
    app: App, oidc: OidcServer
) -> None:
    t = configure(app.db, app.identity, oidc, networks=("192.0.2.0/24", "2001:db8::/32"))
    blocked = app.client.get(
        f"/auth/{t.slug}/login", headers=_via("198.51.100.7"), follow_redirects=False
    )
    assert blocked.status_code == 403
    assert blocked.json()["type"].endswith("network-not-allowed")
    authorize = app.client.get(
        f"/auth/{t.slug}/login", headers=_via("2001:db8::5"), follow_redirects=False
    ).headers["location"]
    callback = to_callback(drive_login(authorize, "alice"))
    assert (
        app.client.get(callback, headers=_via("198.51.100.7"), follow_redirects=False).status_code
        == 403
    )
    # The refused callback burnt nothing: a fresh login from inside works.
    authorize = app.client.get(
        f"/auth/{t.slug}/login", headers=_via("192.0.2.10"), follow_redirects=False
    ).headers["location"]
    ok = app.client.get(
        to_callback(drive_login(authorize, "alice")),
        headers=_via("192.0.2.10"),
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert app.client.get("/auth/me", headers=_via("192.0.2.10")).status_code == 200
    assert app.client.get("/auth/me", headers=_via("198.51.100.7")).status_code == 403
    with app.db.tenant_session(t.ctx) as s:
        assert any(e.reason == "network-not-allowed" for e in query(s, action="auth.login_start"))


def test_rate_limiter_refuses_beyond_the_limit_then_recovers() -> None:
    clock = MutableClock(datetime(2026, 1, 1, tzinfo=UTC))
    limiter = RateLimiter(Limit(3, timedelta(seconds=10)), clock=clock)
    for _ in range(3):
        limiter.hit("k")
    with pytest.raises(TooManyRequests):
        limiter.hit("k")
    limiter.hit("other-key")
    clock.advance(timedelta(seconds=10))
    limiter.hit("k")


def test_lockout_after_repeated_failures_is_temporary() -> None:
    clock = MutableClock(datetime(2026, 1, 1, tzinfo=UTC))
    lock = Lockout(
        threshold=3, window=timedelta(minutes=5), duration=timedelta(minutes=10), clock=clock
    )
    assert not lock.failure("k")
    assert not lock.failure("k")
    assert lock.failure("k")
    with pytest.raises(TooManyRequests):
        lock.check("k")
    lock.check("someone-else")
    clock.advance(timedelta(minutes=10))
    lock.check("k")


def test_repeated_failed_callbacks_lock_the_source_out_and_are_audited(
    app: App, oidc: OidcServer
) -> None:
    t = configure(app.db, app.identity, oidc)
    lock = Lockout(threshold=3, duration=timedelta(seconds=30), clock=app.clock)
    app.identity.login_lockout = lock
    for _ in range(lock.threshold):
        state = callback_params(begin(app.client, t.slug))["state"]
        response = app.client.get(
            "/auth/callback", params={"state": state, "error": "access_denied"}
        )
        assert response.status_code == 401
    # Now even a correct login from that address is refused for a while.
    locked = sign_in(app.client, t.slug, "alice")
    assert locked.status_code == 429
    with app.db.tenant_session(t.ctx) as s:
        assert query(s, action="auth.lockout")
    app.clock.advance(lock.duration)
    assert sign_in(app.client, t.slug, "alice").status_code == 303


@BOTH_LANES
def test_bootstrap_link_binds_the_first_admin_once(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    with app.db.tenant_session(t.ctx) as s:
        link = create_bootstrap_link(s, t.ctx.tenant_id, clock=app.clock)
    first = sign_in(app.client, t.slug, "sam", params={"bootstrap": link.secret})
    assert first.status_code == 303
    assert ADMIN_ROLE in me(app.client)["roles"]
    other = TestClient(app.client.app, base_url="https://testserver")
    reuse = other.get(
        f"/auth/{t.slug}/login", params={"bootstrap": link.secret}, follow_redirects=False
    )
    assert reuse.status_code == 401
    assert sign_in(other, t.slug, "alice").status_code == 303
    assert ADMIN_ROLE not in me(other)["roles"]
    with app.db.tenant_session(t.ctx) as s, pytest.raises(Conflict):
        create_bootstrap_link(s, t.ctx.tenant_id, clock=app.clock)


def test_expired_or_forged_bootstrap_link_is_refused(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    with app.db.tenant_session(t.ctx) as s:
        link = create_bootstrap_link(s, t.ctx.tenant_id, ttl=timedelta(minutes=5), clock=app.clock)
    app.clock.advance(timedelta(minutes=6))
    expired = app.client.get(
        f"/auth/{t.slug}/login", params={"bootstrap": link.secret}, follow_redirects=False
    )
    assert expired.status_code == 401
    forged = app.client.get(
        f"/auth/{t.slug}/login", params={"bootstrap": "rb1.x.y"}, follow_redirects=False
    )
    assert forged.status_code == 401


def test_bootstrap_link_expiring_during_login_grants_nothing(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    with app.db.tenant_session(t.ctx) as s:
        link = create_bootstrap_link(s, t.ctx.tenant_id, ttl=timedelta(minutes=2), clock=app.clock)
    authorize = begin(app.client, t.slug, bootstrap=link.secret)
    app.clock.advance(timedelta(minutes=3))
    response = app.client.get(to_callback(drive_login(authorize, "sam")), follow_redirects=False)
    assert response.status_code == 401
    assert app.client.get("/auth/me").status_code == 401


def test_a_newer_bootstrap_link_voids_the_older_one(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    ctx: TenantContext = t.ctx
    with app.db.tenant_session(ctx) as s:
        old = create_bootstrap_link(s, ctx.tenant_id, clock=app.clock)
    app.clock.advance(timedelta(seconds=1))
    with app.db.tenant_session(ctx) as s:
        create_bootstrap_link(s, ctx.tenant_id, clock=app.clock)
    response = app.client.get(
        f"/auth/{t.slug}/login", params={"bootstrap": old.secret}, follow_redirects=False
    )
    assert response.status_code == 401
