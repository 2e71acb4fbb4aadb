"""Fixtures for identity: a real OpenID provider (npm oidc-provider), an app over each lane."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rempart.api import AppContext, create_app
from rempart.config import load_settings
from rempart.identity.assurance import Level
from rempart.identity.context import IdentityContext
from rempart.identity.discovery import http_client
from rempart.identity.idp import (
    ClaimMapping,
    IdpSettings,
    PolicySettings,
    configure_idp,
    prepare_idp,
    set_policy,
)
from rempart.identity.sessions import COOKIE_NAME
from rempart.storage import Database, TenantContext
from rempart.storage.migrate import upgrade
from rempart.storage.tenants import Tenant
from rempart.vault import Vault, open_local_vault
from rempart.vault.sql_store import SqlKeyringStore
from tests.api.conftest import MutableClock
from tests.conftest import PostgresLane, make_tenant
from tests.identity.oidc_server import (
    POST_LOGOUT_URI,
    REDIRECT_URI,
    Client,
    OidcServer,
    drive_login,
    node_available,
    start_server,
)
from tests.pg import free_port

BOTH_LANES = pytest.mark.parametrize(
    "db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
"""Marks a test to run on PostgreSQL (as the RLS-bound app role) too; others run on SQLite."""


_DEFAULT_LANES = (
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
    if os.environ.get("REMPART_IDENTITY_ALL_LANES") == "1"
    else ["sqlite"]
)


@pytest.fixture(params=_DEFAULT_LANES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """SQLite by default (flows do real HTTP to the IdP); both lanes when marked."""
    if request.param == "sqlite":
        database = Database.from_url(f"sqlite:///{tmp_path / 'rempart.db'}")
        upgrade(database.engine)
    else:
        lane: PostgresLane = request.getfixturevalue("pg_lane")
        database = Database.from_url(lane.app_url, pool_size=2)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def oidc() -> Iterator[OidcServer]:
    if not node_available():
        pytest.fail("the test OpenID provider is not installed: run `make test` (npm ci)")
    # A third client whose back-channel logout URI is a real Rempart server the
    # back-channel test starts on this port, for a tenant with this slug.
    rempart_port = free_port()
    bcl_slug = f"bcl-{secrets.token_hex(6)}"
    bcl = Client(
        "rempart-bcl",
        "secret-bcl",
        backchannel_logout_uri=f"http://127.0.0.1:{rempart_port}/auth/{bcl_slug}/backchannel-logout",
    )
    server = start_server([Client("rempart-a", "secret-a"), Client("rempart-b", "secret-b"), bcl])
    server.extra.update(rempart_port=rempart_port, bcl_slug=bcl_slug)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def other_oidc() -> Iterator[OidcServer]:
    """A second, unrelated identity provider (another tenant's)."""
    if not node_available():
        pytest.fail("the test OpenID provider is not installed: run `make test` (npm ci)")
    server = start_server([Client("rempart-a", "secret-a")])
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def real_clock() -> MutableClock:
    """A hand-moved clock starting now (ID tokens from the real IdP carry real times)."""
    from rempart.types import utc_now

    return MutableClock(utc_now())


@pytest.fixture
def vault(db: Database, tmp_path: Path) -> Vault:
    settings = load_settings(data_dir=tmp_path / "vault")
    return open_local_vault(settings, store=SqlKeyringStore(db))


@pytest.fixture
def identity(db: Database, vault: Vault, real_clock: MutableClock) -> IdentityContext:
    return IdentityContext(db=db, sealer=vault, clock=real_clock)


@dataclass
class App:
    client: TestClient
    db: Database
    identity: IdentityContext
    clock: MutableClock


@pytest.fixture
def app(
    db: Database, tmp_path: Path, identity: IdentityContext, real_clock: MutableClock
) -> Iterator[App]:
    settings = load_settings(data_dir=tmp_path / "data", trusted_proxies=("testclient",))
    application = create_app(AppContext(settings=settings, db=db, clock=real_clock))
    application.state.identity = identity
    with TestClient(application, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield App(c, db, identity, real_clock)


@dataclass
class TenantIdp:
    ctx: TenantContext
    slug: str
    server: OidcServer
    client_id: str


def configure(
    db: Database,
    identity: IdentityContext,
    server: OidcServer,
    *,
    client: str = "rempart-a",
    tenant: TenantContext | None = None,
    min_assurance: Level = Level.SINGLE_FACTOR,
    provisioning: str = "jit",
    networks: tuple[str, ...] = (),
    **policy: Any,
) -> TenantIdp:
    ctx = tenant or make_tenant(db, "idp")
    settings = IdpSettings(
        issuer=server.issuer,
        client_id=client,
        client_secret=SecretStr("secret-" + client.removeprefix("rempart-")),
        redirect_uri=REDIRECT_URI,
        post_logout_redirect_uri=POST_LOGOUT_URI,
        scopes=("openid", "profile", "email", "groups"),
        claim_mapping=ClaimMapping.from_config(
            {"roles": {"cc-agents": "agent", "cc-sup": ["supervisor", "agent"]}}
        ),
        provisioning=provisioning,  # type: ignore[arg-type]
        insecure_http_loopback=True,
    )
    with http_client() as http:
        docs, sealed = prepare_idp(settings, ctx.tenant_id, http=http, sealer=identity.sealer)
    with db.tenant_session(ctx) as session:
        configure_idp(session, ctx.tenant_id, settings, documents=docs, sealed_secret=sealed)
        set_policy(
            session,
            ctx.tenant_id,
            PolicySettings(min_assurance=min_assurance, allowed_networks=networks, **policy),
        )
    with db.platform_session() as session:
        row = session.get(Tenant, ctx.tenant_id)
        assert row is not None
        slug = row.slug
    return TenantIdp(ctx, slug, server, client)


def begin(client: TestClient, slug: str, **params: str) -> str:
    """GET the sign-in route; return the IdP authorization URL it redirects to."""
    response = client.get(f"/auth/{slug}/login", params=params, follow_redirects=False)
    assert response.status_code == 302, response.text
    return str(response.headers["location"])


def to_callback(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def sign_in(
    client: TestClient,
    slug: str,
    user: str = "alice",
    *,
    acr: str | None = None,
    amr: list[str] | None = None,
    params: dict[str, str] | None = None,
) -> Any:
    """A complete login over HTTP; returns the callback response (303 on success)."""
    authorize = begin(client, slug, **(params or {}))
    callback = drive_login(authorize, user, acr=acr, amr=amr)
    return client.get(to_callback(callback), follow_redirects=False)


def me(client: TestClient) -> dict[str, Any]:
    response = client.get("/auth/me")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def session_cookie(client: TestClient) -> str | None:
    value = client.cookies.get(COOKIE_NAME)
    return value


__all__ = [
    "App",
    "TenantIdp",
    "begin",
    "configure",
    "me",
    "session_cookie",
    "sign_in",
    "to_callback",
]
