"""Repeated failed sign-ins then a success, through the real identity provider, raise the
pack's alert; the same failures followed by a success from another address do not.

A failed sign-in is recorded before anyone is identified (the actor is anonymous), so
the pack groups sign-ins by source address (``docs/detection.md``).
"""

from __future__ import annotations

from tests.detection.helpers import logged_detections
from tests.identity.conftest import App, begin, configure, sign_in
from tests.identity.oidc_server import OidcServer, callback_params

GUESSED = "Repeated Failed Logins Then Success"


def fail(app: App, slug: str, address: str) -> None:
    """One sign-in the identity provider refuses, from ``address``."""
    via = {"X-Forwarded-For": address}
    authorize = app.client.get(f"/auth/{slug}/login", headers=via, follow_redirects=False)
    assert authorize.status_code == 302
    state = callback_params(str(authorize.headers["location"]))["state"]
    refused = app.client.get(
        "/auth/callback", params={"state": state, "error": "access_denied"}, headers=via
    )
    assert refused.status_code == 401
    assert refused.json()["reason"] == "idp-error"


def succeed(app: App, slug: str, address: str) -> None:
    app.client.headers["X-Forwarded-For"] = address
    try:
        assert sign_in(app.client, slug, "alice").status_code == 303
    finally:
        del app.client.headers["X-Forwarded-For"]


def test_five_failures_then_a_success_from_one_address_raise_an_alert(
    app: App, oidc: OidcServer
) -> None:
    t = configure(app.db, app.identity, oidc)
    for _ in range(5):
        fail(app, t.slug, "203.0.113.9")
    succeed(app, t.slug, "198.51.100.4")  # another address: not the guessed password
    assert logged_detections(app.db, t.ctx) == []
    succeed(app, t.slug, "203.0.113.9")
    [(title, entry)] = logged_detections(app.db, t.ctx)
    assert title == GUESSED
    assert entry["api"]["operation"] == "auth.login"
    assert entry["status"] == "Success"
    assert entry["src_endpoint"]["ip"] == "203.0.113.9"


def test_four_failures_then_a_success_raise_nothing(app: App, oidc: OidcServer) -> None:
    t = configure(app.db, app.identity, oidc)
    for _ in range(4):
        fail(app, t.slug, "203.0.113.9")
    succeed(app, t.slug, "203.0.113.9")
    assert logged_detections(app.db, t.ctx) == []
    assert begin(app.client, t.slug)  # the tenant still signs people in
