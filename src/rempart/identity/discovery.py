"""Fetch and check an OpenID provider's discovery document and JWKS, for pinning.

The documents are fetched when an administrator configures (or explicitly
refreshes) a tenant's provider, checked, and stored; logins then use the
stored copies. Checks: the document's ``issuer`` is exactly the configured
one (OpenID Connect Discovery 1.0, section 4.3), the endpoints Rempart uses
are present and HTTPS (plain HTTP only on a loopback address when the
provider is configured with ``insecure_http_loopback``), the code flow with
S256 PKCE is supported, and the JWKS holds at least one usable key.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from rempart.errors import BadRequest, RempartError
from rempart.identity.keys import usable_keys

MAX_DOCUMENT_BYTES = 256 * 1024
TIMEOUT = httpx.Timeout(5.0)
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")
OPTIONAL_ENDPOINTS = ("end_session_endpoint",)


class IdpUnavailable(RempartError):
    """The identity provider could not be reached or answered with an error."""

    status = 502
    title = "Identity provider unavailable"
    slug = "idp-unavailable"


class IdpMisconfigured(BadRequest):
    """The identity provider's documents do not meet Rempart's requirements."""

    title = "Identity provider refused"
    slug = "idp-misconfigured"


@dataclass(frozen=True, slots=True)
class PinnedDocuments:
    discovery: dict[str, Any]
    jwks: dict[str, Any]


def check_url(url: Any, *, allow_http_loopback: bool, what: str) -> str:
    """An absolute HTTPS URL (or HTTP on loopback when allowed), without fragment."""
    if not isinstance(url, str) or len(url) > 1000:
        raise IdpMisconfigured(f"{what} is missing or not a URL")
    parts = urlsplit(url)
    if parts.fragment or not parts.hostname:
        raise IdpMisconfigured(f"{what} must be an absolute URL without a fragment")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_http_loopback and _is_loopback(parts.hostname):
        return url
    raise IdpMisconfigured(f"{what} must use https")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch_json(client: httpx.Client, url: str) -> dict[str, Any]:
    """GET a JSON object, bounded in size and time; provider failures are ``IdpUnavailable``."""
    try:
        with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise IdpUnavailable(f"the identity provider answered {response.status_code}")
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise IdpMisconfigured("the identity provider's document is too large")
    except httpx.HTTPError as exc:
        raise IdpUnavailable("the identity provider could not be reached") from exc
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IdpMisconfigured("the identity provider's document is not JSON") from exc
    if not isinstance(value, dict):
        raise IdpMisconfigured("the identity provider's document is not a JSON object")
    return value


def check_discovery(
    document: dict[str, Any], issuer: str, *, allow_http_loopback: bool
) -> dict[str, Any]:
    """Keep the members Rempart uses, after checking them."""
    if document.get("issuer") != issuer:
        raise IdpMisconfigured("the discovery document names another issuer")
    pinned: dict[str, Any] = {"issuer": issuer}
    for name in REQUIRED_ENDPOINTS:
        pinned[name] = check_url(
            document.get(name), allow_http_loopback=allow_http_loopback, what=name
        )
    for name in OPTIONAL_ENDPOINTS:
        if document.get(name) is not None:
            pinned[name] = check_url(
                document.get(name), allow_http_loopback=allow_http_loopback, what=name
            )
    if "code" not in document.get("response_types_supported", ["code"]):
        raise IdpMisconfigured("the provider does not support the authorization code flow")
    methods = document.get("code_challenge_methods_supported")
    if methods is not None and "S256" not in methods:
        raise IdpMisconfigured("the provider does not support PKCE with S256")
    auth_methods = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    pinned["token_endpoint_auth_methods_supported"] = [
        m for m in auth_methods if m in ("client_secret_basic", "client_secret_post", "none")
    ]
    for name in ("id_token_signing_alg_values_supported", "acr_values_supported"):
        if isinstance(document.get(name), list):
            pinned[name] = [v for v in document[name] if isinstance(v, str)]
    pinned["authorization_response_iss_parameter_supported"] = bool(
        document.get("authorization_response_iss_parameter_supported")
    )
    pinned["backchannel_logout_supported"] = bool(document.get("backchannel_logout_supported"))
    return pinned


def fetch_documents(
    client: httpx.Client, issuer: str, *, allow_http_loopback: bool
) -> PinnedDocuments:
    """Discovery document and JWKS of ``issuer``, checked, ready to pin."""
    check_url(issuer, allow_http_loopback=allow_http_loopback, what="issuer")
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    discovery = check_discovery(
        fetch_json(client, url), issuer, allow_http_loopback=allow_http_loopback
    )
    jwks = fetch_jwks(client, discovery["jwks_uri"])
    return PinnedDocuments(discovery=discovery, jwks=jwks)


def fetch_jwks(client: httpx.Client, jwks_uri: str) -> dict[str, Any]:
    """The provider's JWKS reduced to its usable public signature keys."""
    return {"keys": usable_keys(fetch_json(client, jwks_uri))}


def http_client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The HTTP client used to talk to identity providers: no redirects, short timeouts."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False, transport=transport)


__all__ = [
    "IdpMisconfigured",
    "IdpUnavailable",
    "PinnedDocuments",
    "check_discovery",
    "check_url",
    "fetch_documents",
    "fetch_json",
    "fetch_jwks",
    "http_client",
]
