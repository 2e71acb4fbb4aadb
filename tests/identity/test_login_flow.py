"""Single sign-on against a real OpenID provider over HTTP: code + PKCE + nonce + state."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from rempart.audit import query
from rempart.identity.assurance import Level
from rempart.identity.login import LOGIN_COOKIE
from rempart.identity.models import IdentityProvider, LoginAttempt, User, UserSession
from rempart.identity.sessions import COOKIE_NAME
from rempart.storage import Database, TenantContext
from tests.identity.conftest import BOTH_LANES, App, begin, configure, me, sign_in, to_callback
from tests.identity.oidc_server import OidcServer, callback_params, drive_login


def _sessions(db: Database, ctx: TenantContext) -> int:
    with db.tenant_session(ctx) as s:
        return int(s.scalar(select(func.count()).select_from(UserSession)) or 0)


def _reasons(db: Database, ctx: TenantContext, action: str = "auth.login") -> list[str]:
    with db.tenant_session(ctx) as s:
        return [
            str(e.details.get("reason")) for e in query(s, action=action) if e.outcome == "failure"
        ]


@BOTH_LANES
def test_login_opens_a_session_with_hardened_cookie_and_mapped_roles(
    app: App, oidc: OidcServer
) -> None:
    t = configure(app.db, app.identity, oidc)
    response = sign_in(app.client, t.slug, "alice", params={"return_to": "/console"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console"
    raw = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    session_header = next(h for h in raw if h.startswith(COOKIE_NAME))
    lowered = session_header.lower()
    assert "secure" in lowered
    assert "httponly" in lowered
    assert "samesite=lax" in lowered
    assert "path=/" in lowered
    assert "domain" not in lowered
    who = me(app.client)
    assert who["roles"] == ["agent"]
    assert who["assurance"] == int(Level.SINGLE_FACTOR)
    assert who["amr"] == ["pwd"]
    with app.db.tenant_session(t.ctx) as s:
        user = s.scalar(select(User))
        assert user is not None
        assert (user.issuer, user.subject) == (oidc.issuer, "alice")


def test_authorization_request_uses_pkce_s256_nonce_state_and_exact_redirect(
    app: App, oidc: OidcServer
) -> None:
    t = configure(app.db, app.identity, oidc)
    params = callback_params(begin(app.client, t.slug))
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["nonce"]) >= 43
    assert len(params["state"]) >= 43
    assert params["redirect_uri"] == "https://testserver/auth/callback"
    assert params["response_type"] == "code"


def test_open_redirect_in_return_to_is_neutralised(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    response = sign_in(app.client, t.slug, params={"return_to": "//evil.example/x"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_state_mismatch_is_refused_and_opens_no_session(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    callback = drive_login(begin(app.client, t.slug), "alice")
    params = callback_params(callback)
    forged = (
        params["state"][:33] + ("A" if params["state"][33] != "A" else "B") + params["state"][34:]
    )
    response = app.client.get("/auth/callback", params={**params, "state": forged})
    assert response.status_code == 401
    assert response.json()["reason"] == "state-mismatch"
    assert _sessions(app.db, t.ctx) == 0


def test_callback_in_another_browser_is_refused(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    callback = drive_login(begin(app.client, t.slug), "alice")
    other = TestClient(app.client.app, base_url="https://testserver")
    other.cookies.set(LOGIN_COOKIE, "someone-elses-browser")
    response = other.get(to_callback(callback), follow_redirects=False)
    assert response.status_code == 401
    assert response.json()["reason"] == "browser-mismatch"
    assert _sessions(app.db, t.ctx) == 0
    assert "browser-mismatch" in _reasons(app.db, t.ctx)


@BOTH_LANES
def test_replayed_callback_is_refused(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    callback = drive_login(begin(app.client, t.slug), "alice")
    first = app.client.get(to_callback(callback), follow_redirects=False)
    assert first.status_code == 303
    again = app.client.get(to_callback(callback), follow_redirects=False)
    assert again.status_code == 401
    assert again.json()["reason"] == "state-mismatch"
    assert _sessions(app.db, t.ctx) == 1


def test_wrong_pkce_verifier_is_refused_by_the_provider(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    authorize = begin(app.client, t.slug)
    with app.db.tenant_session(t.ctx) as s:
        s.execute(update(LoginAttempt).values(code_verifier="x" * 64))
    response = app.client.get(to_callback(drive_login(authorize, "alice")), follow_redirects=False)
    assert response.status_code == 401
    assert response.json()["reason"] == "code-exchange-refused"
    assert _sessions(app.db, t.ctx) == 0


def test_authorization_response_from_another_issuer_is_refused(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    params = callback_params(drive_login(begin(app.client, t.slug), "alice"))
    response = app.client.get("/auth/callback", params={**params, "iss": "https://mixup.example"})
    assert response.status_code == 401
    assert response.json()["reason"] == "issuer-mismatch"
    assert _sessions(app.db, t.ctx) == 0


def test_provider_error_response_opens_no_session(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    params = callback_params(begin(app.client, t.slug))
    response = app.client.get(
        "/auth/callback", params={"state": params["state"], "error": "access_denied"}
    )
    assert response.status_code == 401
    assert response.json()["reason"] == "idp-error"
    assert _sessions(app.db, t.ctx) == 0


@BOTH_LANES
def test_login_below_the_tenant_minimum_assurance_is_refused(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc, min_assurance=Level.MULTI_FACTOR)
    response = sign_in(app.client, t.slug, "alice")
    assert response.status_code == 401
    assert response.json()["reason"] == "assurance-too-low"
    assert _sessions(app.db, t.ctx) == 0
    assert "assurance-too-low" in _reasons(app.db, t.ctx)
    ok = sign_in(app.client, t.slug, "sam")
    assert ok.status_code == 303
    assert me(app.client)["assurance"] == int(Level.MULTI_FACTOR)


@BOTH_LANES
def test_same_idp_for_two_tenants_gives_two_separate_users(app: App, oidc: OidcServer) -> None:
    a = configure(app.db, app.identity, oidc, client="rempart-a")
    b = configure(app.db, app.identity, oidc, client="rempart-b")
    assert sign_in(app.client, a.slug, "alice").status_code == 303
    user_a = me(app.client)["user_id"]
    other = TestClient(app.client.app, base_url="https://testserver")
    assert sign_in(other, b.slug, "alice").status_code == 303
    user_b = me(other)["user_id"]
    assert user_a != user_b
    with app.db.tenant_session(a.ctx) as s:
        assert s.get(User, user_b) is None


def test_a_new_login_rotates_the_session(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    assert sign_in(app.client, t.slug, "alice").status_code == 303
    first = app.client.cookies.get(COOKIE_NAME)
    first_id = me(app.client)["session_id"]
    assert sign_in(app.client, t.slug, "alice").status_code == 303
    second = app.client.cookies.get(COOKIE_NAME)
    assert first != second
    assert me(app.client)["session_id"] != first_id
    stale = TestClient(app.client.app, base_url="https://testserver")
    stale.cookies.set(COOKIE_NAME, str(first), domain="testserver")
    assert stale.get("/auth/me").status_code == 401


def test_unknown_tenant_or_unconfigured_idp_is_a_clear_error(app: App, oidc: OidcServer) -> None:
    assert app.client.get("/auth/no-such-tenant/login", follow_redirects=False).status_code == 404
    from tests.conftest import make_tenant

    bare = make_tenant(app.db, "bare")
    from rempart.storage.tenants import Tenant

    with app.db.platform_session() as s:
        row = s.get(Tenant, bare.tenant_id)
        assert row is not None
        slug = row.slug
    response = app.client.get(f"/auth/{slug}/login", follow_redirects=False)
    assert response.status_code == 404
    assert "identity provider" in response.json()["detail"]


def test_cookie_flags_parse_as_a_host_prefixed_cookie(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    response = sign_in(app.client, t.slug)
    cookie: SimpleCookie = SimpleCookie()
    for key, value in response.headers.multi_items():
        if key == "set-cookie" and value.startswith(COOKIE_NAME):
            cookie.load(value)
    morsel = cookie[COOKIE_NAME]
    assert COOKIE_NAME.startswith("__Host-")
    assert morsel["secure"]
    assert morsel["httponly"]
    assert morsel["path"] == "/"
    assert not morsel["domain"]


def test_unreachable_token_endpoint_is_a_clear_error_and_opens_no_session(
    app: App, oidc: OidcServer
) -> None:
    from tests.pg import free_port

    t = configure(app.db, app.identity, oidc)
    with app.db.tenant_session(t.ctx) as s:
        row = s.scalar(select(IdentityProvider))
        assert row is not None
        row.discovery = {**row.discovery, "token_endpoint": f"http://127.0.0.1:{free_port()}/token"}
    response = sign_in(app.client, t.slug)
    assert response.status_code == 502
    assert response.json()["type"].endswith("idp-unavailable")
    assert _sessions(app.db, t.ctx) == 0
    with app.db.tenant_session(t.ctx) as s:
        assert any(e.outcome == "failure" for e in query(s, action="auth.login"))


def test_login_starts_are_rate_limited_per_address(app: App, oidc: OidcServer) -> None:
    from datetime import timedelta

    from rempart.identity.ratelimit import Limit, RateLimiter

    t = configure(app.db, app.identity, oidc)
    app.identity.login_rate = RateLimiter(Limit(2, timedelta(minutes=1)), clock=app.clock)
    for _ in range(2):
        assert app.client.get(f"/auth/{t.slug}/login", follow_redirects=False).status_code == 302
    limited = app.client.get(f"/auth/{t.slug}/login", follow_redirects=False)
    assert limited.status_code == 429


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 20000])
def test_backchannel_logout_refuses_malformed_tokens(
    token: str, app: App, oidc: OidcServer
) -> None:
    t = configure(app.db, app.identity, oidc)
    response = app.client.post(f"/auth/{t.slug}/backchannel-logout", data={"logout_token": token})
    assert response.status_code in (400, 422)


def test_oversize_callback_parameters_are_refused(app: App) -> None:
    response = app.client.get("/auth/callback", params={"state": "s" * 3000, "code": "c"})
    assert response.status_code == 422
    response = app.client.get("/auth/callback", params={"state": "not-a-state", "code": "c"})
    assert response.status_code == 401


def test_stale_login_attempts_are_swept(app: App, oidc: OidcServer) -> None:
    from datetime import timedelta

    t = configure(app.db, app.identity, oidc)
    begin(app.client, t.slug)
    begin(app.client, t.slug)
    app.clock.advance(timedelta(days=2))
    begin(app.client, t.slug)
    with app.db.tenant_session(t.ctx) as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 1
