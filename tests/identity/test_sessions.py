"""Server-side sessions: timeouts, CSRF, list and revoke, step-up, logout (RP and back-channel)."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from rempart.identity.bootstrap import ADMIN_ROLE
from rempart.identity.jwt import BACKCHANNEL_LOGOUT_EVENT
from rempart.identity.models import User, UserSession
from rempart.identity.sessions import COOKIE_NAME
from tests.identity.conftest import BOTH_LANES, App, configure, me, sign_in, to_callback
from tests.identity.oidc_server import OidcServer, callback_params, drive_login


def _make_admin(app: App, tenant_ctx: object, user_id: str) -> None:
    from rempart.storage import TenantContext

    assert isinstance(tenant_ctx, TenantContext)
    with app.db.tenant_session(tenant_ctx) as s:
        s.execute(update(User).where(User.id == user_id).values(granted_roles=[ADMIN_ROLE]))


def test_request_without_session_is_refused(app: App) -> None:
    response = app.client.get("/auth/me")
    assert response.status_code == 401
    app.client.cookies.set(COOKIE_NAME, "rs1." + "0" * 32 + "." + "x" * 43)
    assert app.client.get("/auth/me").status_code == 401


@BOTH_LANES
def test_idle_timeout_ends_the_session(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc, idle_timeout_s=600, absolute_timeout_s=3600)
    assert sign_in(app.client, t.slug).status_code == 303
    app.clock.advance(timedelta(minutes=9))
    assert app.client.get("/auth/me").status_code == 200  # activity resets the idle timer
    app.clock.advance(timedelta(minutes=9))
    assert app.client.get("/auth/me").status_code == 200
    app.clock.advance(timedelta(minutes=11))
    response = app.client.get("/auth/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "session expired"


def test_absolute_timeout_ends_an_active_session(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc, idle_timeout_s=600, absolute_timeout_s=1200)
    assert sign_in(app.client, t.slug).status_code == 303
    for _ in range(2):
        app.clock.advance(timedelta(minutes=9))
        assert app.client.get("/auth/me").status_code == 200
    app.clock.advance(timedelta(minutes=3))
    assert app.client.get("/auth/me").status_code == 401


def test_state_changing_requests_need_the_csrf_token(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    assert sign_in(app.client, t.slug).status_code == 303
    who = me(app.client)
    path = f"/auth/sessions/{who['session_id']}/revoke"
    assert app.client.post(path).status_code == 403
    assert app.client.post(path, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert app.client.post(path, data={"csrf_token": "wrong"}).status_code == 403
    assert app.client.get("/auth/me").status_code == 200
    ok = app.client.post(path, data={"csrf_token": who["csrf_token"]})
    assert ok.status_code == 204
    assert app.client.get("/auth/me").status_code == 401


@BOTH_LANES
def test_user_lists_and_revokes_own_sessions_but_not_others(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    laptop = app.client
    phone = TestClient(app.client.app, base_url="https://testserver")
    sam = TestClient(app.client.app, base_url="https://testserver")
    assert sign_in(laptop, t.slug, "alice").status_code == 303
    assert sign_in(phone, t.slug, "alice").status_code == 303
    assert sign_in(sam, t.slug, "sam").status_code == 303
    mine = laptop.get("/auth/sessions").json()
    assert len(mine) == 2
    assert sum(1 for s in mine if s["current"]) == 1
    phone_id = me(phone)["session_id"]
    sam_id = me(sam)["session_id"]
    csrf = {"X-CSRF-Token": me(laptop)["csrf_token"]}
    assert laptop.post(f"/auth/sessions/{sam_id}/revoke", headers=csrf).status_code == 404
    assert sam.get("/auth/me").status_code == 200
    assert laptop.post(f"/auth/sessions/{phone_id}/revoke", headers=csrf).status_code == 204
    assert phone.get("/auth/me").status_code == 401
    assert laptop.get("/auth/me").status_code == 200


def test_admin_actions_need_the_role_and_a_recent_strong_authentication(
    app: App, oidc: OidcServer
) -> None:
    t = configure(app.db, app.identity, oidc)
    assert sign_in(app.client, t.slug, "alice").status_code == 303
    who = me(app.client)
    assert app.client.get("/auth/admin/sessions").status_code == 403
    _make_admin(app, t.ctx, who["user_id"])
    assert app.client.get("/auth/admin/sessions").status_code == 200
    victim = TestClient(app.client.app, base_url="https://testserver")
    assert sign_in(victim, t.slug, "sam").status_code == 303
    sam_id = me(victim)["user_id"]
    path = f"/auth/admin/users/{sam_id}/revoke-sessions"
    response = app.client.post(path, headers={"X-CSRF-Token": who["csrf_token"]})
    # One factor is not enough: RFC 9470 challenge, nothing revoked.
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert 'acr_values="urn:rempart:loa:2"' in challenge
    assert 'max_age="900"' in challenge
    assert victim.get("/auth/me").status_code == 200
    # Step up: the IdP is asked for the stronger acr and a fresh login.
    step = app.client.get(f"/auth/{t.slug}/step-up", params={"level": 2}, follow_redirects=False)
    assert step.status_code == 302
    asked = callback_params(step.headers["location"])
    assert asked["acr_values"] == "urn:rempart:loa:2"
    assert asked["max_age"] == "0"
    assert asked["prompt"] == "login"
    callback = drive_login(
        step.headers["location"], "alice", acr="urn:rempart:loa:2", amr=["pwd", "otp"]
    )
    old_cookie = app.client.cookies.get(COOKIE_NAME)
    assert app.client.get(to_callback(callback), follow_redirects=False).status_code == 303
    stepped = me(app.client)
    assert stepped["assurance"] == 2
    assert stepped["session_id"] != who["session_id"]
    stale = TestClient(app.client.app, base_url="https://testserver")
    stale.cookies.set(COOKIE_NAME, str(old_cookie))
    assert stale.get("/auth/me").status_code == 401, "step-up must rotate the session"
    done = app.client.post(path, headers={"X-CSRF-Token": stepped["csrf_token"]})
    assert done.status_code == 200
    assert done.json()["sessions_ended"] == 1
    assert victim.get("/auth/me").status_code == 401
    # Later, the strong authentication is too old for the sensitive action.
    app.clock.advance(timedelta(minutes=16))
    again = app.client.post(path, headers={"X-CSRF-Token": stepped["csrf_token"]})
    assert again.status_code == 401
    assert "insufficient_user_authentication" in again.headers["www-authenticate"]


def test_step_up_that_stays_weak_opens_no_session(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    assert sign_in(app.client, t.slug, "alice").status_code == 303
    before = me(app.client)["session_id"]
    step = app.client.get(f"/auth/{t.slug}/step-up", params={"level": 2}, follow_redirects=False)
    callback = drive_login(step.headers["location"], "alice")
    response = app.client.get(to_callback(callback), follow_redirects=False)
    assert response.status_code == 401
    assert response.json()["reason"] == "assurance-too-low"
    assert me(app.client)["session_id"] == before


def test_rp_initiated_logout_ends_the_session_and_sends_the_browser_to_the_idp(
    app: App, oidc: OidcServer
) -> None:
    t = configure(app.db, app.identity, oidc)
    assert sign_in(app.client, t.slug).status_code == 303
    who = me(app.client)
    assert app.client.post("/auth/logout").status_code == 403
    response = app.client.post(
        "/auth/logout", headers={"X-CSRF-Token": who["csrf_token"]}, follow_redirects=False
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{oidc.issuer}/session/end")
    assert callback_params(location)["client_id"] == "rempart-a"
    assert callback_params(location)["post_logout_redirect_uri"] == "https://testserver/"
    assert app.client.get("/auth/me").status_code == 401
    with app.db.tenant_session(t.ctx) as s:
        row = s.get(UserSession, who["session_id"])
        assert row is not None
        assert row.revoked_reason == "logout"


@BOTH_LANES
def test_backchannel_logout_token_ends_the_matching_sessions(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    alice = app.client
    sam = TestClient(app.client.app, base_url="https://testserver")
    assert sign_in(alice, t.slug, "alice").status_code == 303
    assert sign_in(sam, t.slug, "sam").status_code == 303
    with app.db.tenant_session(t.ctx) as s:
        sid = s.scalar(select(UserSession.idp_sid).where(UserSession.id == me(alice)["session_id"]))
    assert sid
    now = int(time.time())
    base = {
        "iss": oidc.issuer,
        "aud": "rempart-a",
        "iat": now,
        "exp": now + 120,
        "jti": "jti-1",
        "sid": sid,
    }
    url = f"/auth/{t.slug}/backchannel-logout"
    no_event = oidc.mint(base, header={"typ": "logout+jwt"})
    refused = alice.post(url, data={"logout_token": no_event})
    assert refused.status_code == 400
    assert alice.get("/auth/me").status_code == 200
    token = oidc.mint(
        {**base, "events": {BACKCHANNEL_LOGOUT_EVENT: {}}}, header={"typ": "logout+jwt"}
    )
    assert alice.post(url, data={"logout_token": token}).status_code == 200
    assert alice.get("/auth/me").status_code == 401
    assert sam.get("/auth/me").status_code == 200


def test_backchannel_logout_by_subject_ends_all_of_its_sessions(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    first = app.client
    second = TestClient(app.client.app, base_url="https://testserver")
    assert sign_in(first, t.slug, "alice").status_code == 303
    assert sign_in(second, t.slug, "alice").status_code == 303
    now = int(time.time())
    token = oidc.mint(
        {
            "iss": oidc.issuer,
            "aud": "rempart-a",
            "iat": now,
            "exp": now + 120,
            "jti": "jti-2",
            "sub": "alice",
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        },
        header={"typ": "logout+jwt"},
    )
    response = first.post(f"/auth/{t.slug}/backchannel-logout", data={"logout_token": token})
    assert response.status_code == 200
    assert first.get("/auth/me").status_code == 401
    assert second.get("/auth/me").status_code == 401


def test_rp_initiated_logout_is_accepted_by_the_real_idp(app: App, oidc: OidcServer) -> None:
    import re

    import httpx

    from tests.identity.conftest import begin

    t = configure(app.db, app.identity, oidc)
    with httpx.Client(timeout=10) as idp_browser:
        callback = drive_login(begin(app.client, t.slug), "alice", browser=idp_browser)
        assert app.client.get(to_callback(callback), follow_redirects=False).status_code == 303
        csrf = me(app.client)["csrf_token"]
        out = app.client.post(
            "/auth/logout", headers={"X-CSRF-Token": csrf}, follow_redirects=False
        )
        assert out.status_code == 303
        page = idp_browser.get(out.headers["location"], follow_redirects=False)
        assert page.status_code == 200, page.text[:300]
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text)
        assert xsrf is not None
        done = idp_browser.post(
            f"{oidc.issuer}/session/end/confirm",
            data={"xsrf": xsrf.group(1), "logout": "yes"},
            follow_redirects=False,
        )
        assert done.status_code in (302, 303)
        assert done.headers["location"].startswith("https://testserver/")
        # The IdP session is gone too: a new authorization asks for a login again.
        again = idp_browser.get(begin(app.client, t.slug), follow_redirects=False)
        assert "/interaction/" in again.headers["location"]
