"""Provider configuration: pinned discovery and JWKS, bad providers, sealed client secret."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from rempart.errors import ValidationFailed
from rempart.identity.context import IdentityContext
from rempart.identity.discovery import (
    IdpMisconfigured,
    IdpUnavailable,
    PinnedDocuments,
    fetch_documents,
    http_client,
)
from rempart.identity.idp import (
    ClaimMapping,
    IdpSettings,
    client_secret,
    configure_idp,
    prepare_idp,
    refresh_idp,
)
from rempart.identity.keys import NoUsableKey
from rempart.identity.models import IdentityProvider
from rempart.storage import Database
from rempart.types import TenantId
from tests.conftest import make_tenant
from tests.identity.conftest import BOTH_LANES
from tests.identity.oidc_server import REDIRECT_URI, OidcServer
from tests.pg import free_port

ISSUER = "https://idp.example"


def settings(issuer: str = ISSUER, **kw: Any) -> IdpSettings:
    kw.setdefault("redirect_uri", REDIRECT_URI)
    return IdpSettings(issuer=issuer, client_id="c1", **kw)


def mock_idp(discovery: dict[str, Any], jwks: dict[str, Any]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json=discovery)
        if request.url.path == "/jwks":
            return httpx.Response(200, json=jwks)
        return httpx.Response(404)

    return http_client(httpx.MockTransport(handler))


def discovery(**changes: Any) -> dict[str, Any]:
    doc = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/auth",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }
    doc.update(changes)
    return doc


def test_configuration_pins_the_checked_documents(oidc: OidcServer) -> None:
    with http_client() as http:
        docs, sealed = prepare_idp(
            settings(oidc.issuer, insecure_http_loopback=True),
            TenantId("t"),
            http=http,
            sealer=None,
        )
    assert sealed is None
    assert docs.discovery["issuer"] == oidc.issuer
    assert docs.discovery["jwks_uri"] == f"{oidc.issuer}/jwks"
    assert [k["kid"] for k in docs.jwks["keys"]] == [oidc.key.kid]
    assert all("d" not in k for k in docs.jwks["keys"]), "no private member is pinned"


def test_plain_http_issuer_is_refused_unless_explicitly_loopback(oidc: OidcServer) -> None:
    with http_client() as http, pytest.raises(IdpMisconfigured, match="https"):
        prepare_idp(settings(oidc.issuer), TenantId("t"), http=http, sealer=None)
    with (
        mock_idp(discovery(), {"keys": []}) as http,
        pytest.raises(IdpMisconfigured, match="https"),
    ):
        prepare_idp(
            settings("http://idp.example", insecure_http_loopback=True),
            TenantId("t"),
            http=http,
            sealer=None,
        )


def test_unreachable_idp_is_a_clear_error() -> None:
    with http_client() as http, pytest.raises(IdpUnavailable, match="could not be reached"):
        prepare_idp(
            settings(f"http://127.0.0.1:{free_port()}", insecure_http_loopback=True),
            TenantId("t"),
            http=http,
            sealer=None,
        )


def test_discovery_document_naming_another_issuer_is_refused() -> None:
    with (
        mock_idp(discovery(issuer="https://evil.example"), {"keys": []}) as http,
        pytest.raises(IdpMisconfigured, match="another issuer"),
    ):
        prepare_idp(settings(), TenantId("t"), http=http, sealer=None)


@pytest.mark.parametrize(
    "jwks",
    [
        {"keys": []},
        {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
        {"keys": [{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]},
        {"keys": [{"kty": "RSA", "n": "!!", "e": "AQAB"}]},
        {"nokeys": True},
    ],
)
def test_jwks_without_a_usable_key_is_refused(jwks: dict[str, Any]) -> None:
    with mock_idp(discovery(), jwks) as http, pytest.raises(NoUsableKey):
        prepare_idp(settings(), TenantId("t"), http=http, sealer=None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"jwks_uri": None}, "jwks_uri"),
        ({"token_endpoint": "http://idp.example/token"}, "https"),
        ({"code_challenge_methods_supported": ["plain"]}, "PKCE"),
        ({"response_types_supported": ["id_token"]}, "code flow"),
    ],
)
def test_discovery_without_what_rempart_needs_is_refused(
    changes: dict[str, Any], message: str
) -> None:
    with (
        mock_idp(discovery(**changes), {"keys": []}) as http,
        pytest.raises(IdpMisconfigured, match=message),
    ):
        prepare_idp(settings(), TenantId("t"), http=http, sealer=None)


def test_non_json_or_huge_discovery_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("huge"):
            return httpx.Response(200, content=b"{" + b" " * (300 * 1024) + b"}")
        return httpx.Response(200, content=b"<html>")

    from rempart.identity.discovery import fetch_json

    with http_client(httpx.MockTransport(handler)) as http:
        with pytest.raises(IdpMisconfigured, match="not JSON"):
            fetch_json(http, "https://idp.example/x")
        with pytest.raises(IdpMisconfigured, match="too large"):
            fetch_json(http, "https://idp.example/huge")


@pytest.mark.parametrize(
    "kw",
    [
        {"algorithms": ("HS256",)},
        {"algorithms": ("none",)},
        {"algorithms": ()},
        {"scopes": ("profile",)},
        {"redirect_uri": "http://rempart.example/cb"},
        {"redirect_uri": "https://rempart.example/cb#frag"},
        {"assurance_mapping": {"acr": {"x": 7}}},
    ],
)
def test_settings_that_would_weaken_validation_are_refused(kw: dict[str, Any]) -> None:
    with mock_idp(discovery(), {"keys": []}) as http, pytest.raises(ValidationFailed):
        prepare_idp(settings(**kw), TenantId("t"), http=http, sealer=None)


@BOTH_LANES
def test_client_secret_is_sealed_by_the_vault(
    db: Database, identity: IdentityContext, oidc: OidcServer
) -> None:
    ctx = make_tenant(db)
    s = settings(oidc.issuer, insecure_http_loopback=True, client_secret=SecretStr("s3cr3t-value"))
    with http_client() as http:
        docs, sealed = prepare_idp(s, ctx.tenant_id, http=http, sealer=identity.sealer)
    assert sealed is not None
    assert b"s3cr3t-value" not in sealed
    with db.tenant_session(ctx) as session:
        configure_idp(session, ctx.tenant_id, s, documents=docs, sealed_secret=sealed)
    with db.tenant_session(ctx) as session:
        row = session.scalar(select(IdentityProvider))
        assert row is not None
        assert client_secret(row, identity.sealer) == "s3cr3t-value"
        assert "s3cr3t" not in json.dumps(row.discovery) + repr(row.__dict__.get("client_id"))
        with pytest.raises(IdpMisconfigured):
            client_secret(row, None)


def test_refresh_keeps_the_pin_when_the_issuer_changes(db: Database, oidc: OidcServer) -> None:
    ctx = make_tenant(db)
    s = settings(oidc.issuer, insecure_http_loopback=True)
    with http_client() as http:
        docs, _ = prepare_idp(s, ctx.tenant_id, http=http, sealer=None)
    with db.tenant_session(ctx) as session:
        configure_idp(session, ctx.tenant_id, s, documents=docs, sealed_secret=None)
    moved = discovery(issuer="https://moved.example")
    with mock_idp(moved, {"keys": []}) as http, pytest.raises(IdpMisconfigured):
        fetch_documents(http, oidc.issuer, allow_http_loopback=True)

    with pytest.raises(IdpMisconfigured), db.tenant_session(ctx) as session:
        refresh_idp(session, PinnedDocuments(discovery=moved, jwks=docs.jwks))
    with db.tenant_session(ctx) as session:
        row = session.scalar(select(IdentityProvider))
        assert row is not None
        assert row.discovery["issuer"] == oidc.issuer


def test_claim_mapping_grants_only_mapped_groups() -> None:
    mapping = ClaimMapping.from_config({"roles": {"cc-agents": "agent", "cc-sup": ["supervisor"]}})
    claims = {"groups": ["cc-agents", "Domain Admins"], "roles": "cc-sup"}
    assert mapping.roles_from_claims(claims) == ["agent", "supervisor"]
    assert mapping.roles_from_claims({"groups": ["Domain Admins"]}) == []
    with pytest.raises(ValidationFailed):
        ClaimMapping.from_config({"roles": {"g": [""]}})
