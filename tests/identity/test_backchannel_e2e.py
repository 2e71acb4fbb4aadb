"""Back-channel logout end to end: the real IdP posts its logout token to a running Rempart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from rempart.audit import query
from rempart.identity.models import UserSession
from rempart.storage import TenantContext
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId
from tests.identity.conftest import App, begin, configure, me, to_callback
from tests.identity.oidc_server import OidcServer, drive_login, logout_at_idp


@pytest.fixture
def served(app: App, oidc: OidcServer) -> Iterator[None]:
    """The same application, also listening on the port the IdP was told about."""
    config = uvicorn.Config(
        app.client.app,
        host="127.0.0.1",
        port=int(oidc.extra["rempart_port"]),
        log_level="warning",
        lifespan="off",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the Rempart test server did not start"
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_signing_out_at_the_idp_ends_the_rempart_session(
    app: App, oidc: OidcServer, served: None
) -> None:
    with app.db.platform_session() as s:
        tenant = create_tenant(s, str(oidc.extra["bcl_slug"]), "Back-channel tenant")
        ctx = TenantContext(TenantId(tenant.id))
    t = configure(app.db, app.identity, oidc, client="rempart-bcl", tenant=ctx)
    with httpx.Client(timeout=10) as idp_browser:
        callback = drive_login(begin(app.client, t.slug), "alice", browser=idp_browser)
        assert app.client.get(to_callback(callback), follow_redirects=False).status_code == 303
        session_id = me(app.client)["session_id"]
        logout_at_idp(idp_browser, oidc.issuer)
    deadline = time.monotonic() + 5
    while app.client.get("/auth/me").status_code == 200:
        assert time.monotonic() < deadline, f"no back-channel logout: {oidc.events()}"
        time.sleep(0.05)
    with app.db.tenant_session(t.ctx) as s:
        reason = s.scalar(select(UserSession.revoked_reason).where(UserSession.id == session_id))
    assert reason == "backchannel-logout"
    assert "backchannel.success rempart-bcl" in oidc.events()
    with app.db.tenant_session(t.ctx) as s:
        events = query(s, action="auth.backchannel_logout")
    assert [e.outcome for e in events] == ["success"]
