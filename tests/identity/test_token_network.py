"""Machine tokens can be held to the tenant's IP allowlist (SCIM uses it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rempart.api import AppContext, create_app
from rempart.config import load_settings
from rempart.identity.allowlist import NetworkNotAllowed
from rempart.identity.idp import PolicySettings, set_policy
from rempart.identity.tokens import authenticate, create_token
from rempart.storage import Database
from tests.conftest import make_tenant


def test_token_outside_the_allowlist_is_refused_only_when_asked(db: Database) -> None:
    ctx = make_tenant(db)
    with db.tenant_session(ctx) as s:
        issued = create_token(s, ctx.tenant_id, "scim", ["scim:provision"])
        set_policy(s, ctx.tenant_id, PolicySettings(allowed_networks=("192.0.2.0/24",)))
    inside = authenticate(db, issued.value, source_ip="192.0.2.7", check_network=True)
    assert inside.tenant_id == ctx.tenant_id
    with pytest.raises(NetworkNotAllowed):
        authenticate(db, issued.value, source_ip="198.51.100.7", check_network=True)
    with pytest.raises(NetworkNotAllowed):
        authenticate(db, issued.value, source_ip=None, check_network=True)
    # Callers that do not ask (the interactions API today) are unchanged.
    assert authenticate(db, issued.value).token_id == issued.token_id


def test_scim_refuses_a_valid_token_from_outside_the_allowlist(
    db: Database, tmp_path: Path
) -> None:
    ctx = make_tenant(db)
    with db.tenant_session(ctx) as s:
        issued = create_token(s, ctx.tenant_id, "scim", ["scim:provision"])
        set_policy(s, ctx.tenant_id, PolicySettings(allowed_networks=("2001:db8::/32",)))
    settings = load_settings(data_dir=tmp_path / "d", trusted_proxies=("testclient",))
    app = create_app(AppContext(settings=settings, db=db))
    with TestClient(app, base_url="https://testserver") as client:
        headers = {"Authorization": f"Bearer {issued.value}"}
        outside = client.get("/scim/v2/Users", headers={**headers, "X-Forwarded-For": "192.0.2.1"})
        assert outside.status_code == 403
        inside = client.get("/scim/v2/Users", headers={**headers, "X-Forwarded-For": "2001:db8::1"})
        assert inside.status_code == 200
