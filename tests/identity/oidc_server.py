"""Start the npm ``oidc-provider`` test IdP (tests/oidc) on 127.0.0.1 and drive logins.

The signing keys are made here, so tests can also mint tokens with the IdP's
real key (expired, wrong audience, logout tokens...) to attack the validator.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from joserfc import jws
from joserfc.jwk import RSAKey

from tests.pg import free_port

OIDC_DIR = Path(__file__).resolve().parent.parent / "oidc"
REDIRECT_URI = "https://testserver/auth/callback"
POST_LOGOUT_URI = "https://testserver/"

USERS: dict[str, dict[str, Any]] = {
    "alice": {
        "claims": {"name": "Alice Agent", "email": "alice@example.test", "groups": ["cc-agents"]},
        "acr": "urn:rempart:loa:1",
        "amr": ["pwd"],
    },
    "sam": {
        "claims": {"name": "Sam Supervisor", "email": "sam@example.test", "groups": ["cc-sup"]},
        "acr": "urn:rempart:loa:2",
        "amr": ["pwd", "otp"],
    },
    "nina": {
        "claims": {"name": "Nina", "email": "nina@example.test", "groups": []},
        "acr": "urn:rempart:loa:0",
        "amr": [],
    },
}


@dataclass
class Client:
    client_id: str
    secret: str
    backchannel_logout_uri: str | None = None


@dataclass
class OidcServer:
    issuer: str
    key: RSAKey
    clients: list[Client]
    process: subprocess.Popen[bytes]
    root: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def mint(
        self,
        claims: dict[str, Any],
        *,
        header: dict[str, Any] | None = None,
        key: Any = None,
    ) -> str:
        """A JWS signed with the IdP's own key (or ``key``), for attack and logout tests."""
        hdr = {"alg": "RS256", "kid": self.key.kid, **(header or {})}
        return jws.serialize_compact(
            hdr, json.dumps(claims).encode(), key or self.key, algorithms=[hdr["alg"]]
        )

    def mint_raw(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        """RS256 over any header at all (joserfc would refuse to sign some attacks)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        private = self.key.private_key
        assert private is not None
        signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64(signature)}"

    def events(self) -> list[str]:
        """What the provider recorded (back-channel deliveries, logouts)."""
        log = self.root / "events.log"
        return log.read_text().splitlines() if log.exists() else []

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        shutil.rmtree(self.root, ignore_errors=True)


def node_available() -> bool:
    return (
        shutil.which("node") is not None and (OIDC_DIR / "node_modules" / "oidc-provider").is_dir()
    )


def start_server(
    clients: list[Client], users: dict[str, dict[str, Any]] | None = None
) -> OidcServer:
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig", "alg": "RS256"})
    root = Path(tempfile.mkdtemp(prefix="rempart-oidc-"))
    config = {
        "port": 0,
        "issuer": "http://127.0.0.1:0",
        "jwks": {"keys": [key.as_dict(private=True)]},
        "acrValues": ["urn:rempart:loa:0", "urn:rempart:loa:1", "urn:rempart:loa:2", "phr"],
        "users": USERS if users is None else users,
        "clients": [
            {
                "client_id": c.client_id,
                "client_secret": c.secret,
                "redirect_uris": [REDIRECT_URI],
                "post_logout_redirect_uris": [POST_LOGOUT_URI],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
                "backchannel_logout_uri": c.backchannel_logout_uri
                or "https://testserver/auth/backchannel-logout",
                "backchannel_logout_session_required": True,
            }
            for c in clients
        ],
    }
    # The issuer must name the port, so find one first and hand it over.
    port = free_port()
    config["port"] = port
    config["issuer"] = f"http://127.0.0.1:{port}"
    config["log"] = str(root / "events.log")
    path = root / "config.json"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(
        ["node", str(OIDC_DIR / "provider.mjs"), str(path)],
        cwd=OIDC_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 20
    line = process.stdout.readline().decode()
    if not line.startswith("READY") or time.monotonic() > deadline:
        process.kill()
        err = process.stderr.read().decode() if process.stderr else ""
        raise RuntimeError(f"the test OpenID provider did not start: {line!r} {err[:2000]}")
    return OidcServer(str(config["issuer"]), key, clients, process, root)


def drive_login(
    authorization_url: str,
    user: str,
    *,
    acr: str | None = None,
    amr: list[str] | None = None,
    browser: httpx.Client | None = None,
) -> str:
    """Follow the IdP's redirects as a browser would; return the callback URL it sends back.

    ``browser`` keeps the IdP's cookies between logins (single sign-on session).
    """
    own = browser is None
    client = browser or httpx.Client(timeout=10)
    try:
        url = authorization_url
        for _ in range(20):
            if url.startswith(REDIRECT_URI):
                return url
            response = client.get(url, follow_redirects=False)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                continue
            match = re.search(r"/interaction/([^/?#]+)$", urlsplit(url).path)
            if response.status_code == 200 and match:
                params: dict[str, str] = {"user": user}
                if acr is not None:
                    params["acr"] = acr
                if amr is not None:
                    params["amr"] = ",".join(amr)
                url = httpx.URL(url.rstrip("/") + "/auto", params=params).__str__()
                continue
            raise AssertionError(
                f"unexpected IdP answer {response.status_code}: {response.text[:300]}"
            )
        raise AssertionError("too many redirects at the IdP")
    finally:
        if own:
            client.close()


def logout_at_idp(browser: httpx.Client, issuer: str) -> None:
    """The person signs out at the IdP itself (confirming its form): every RP is told."""
    page = browser.get(f"{issuer}/session/end", follow_redirects=False)
    assert page.status_code == 200, page.text[:300]
    match = re.search(r'name="xsrf" value="([^"]+)"', page.text)
    assert match, "the IdP's logout form carries no xsrf value"
    done = browser.post(
        f"{issuer}/session/end/confirm",
        data={"xsrf": match.group(1), "logout": "yes"},
        follow_redirects=False,
    )
    assert done.status_code in (200, 302, 303), done.text[:300]


def callback_params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


__all__ = [
    "Client",
    "OidcServer",
    "callback_params",
    "drive_login",
    "node_available",
    "start_server",
]
