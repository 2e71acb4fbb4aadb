"""The token attack suite: every forged or misused token is refused by the one validator.

Keys are the real provider's, fetched over HTTP from its JWKS; tokens are
minted with its real private key (or an attacker's) so that each test
changes exactly one thing against a token the validator otherwise accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import RSAKey

from rempart.identity.discovery import fetch_jwks, http_client
from rempart.identity.jwt import (
    BACKCHANNEL_LOGOUT_EVENT,
    MAX_TOKEN_BYTES,
    TokenRejected,
    ValidationPolicy,
    validate_id_token,
    validate_logout_token,
)
from rempart.identity.keys import PinnedKeys
from tests.api.conftest import MutableClock
from tests.identity.oidc_server import OidcServer

CLIENT = "rempart-a"
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def keys(oidc: OidcServer, clock: MutableClock) -> Iterator[PinnedKeys]:
    with http_client() as http:
        jwks = fetch_jwks(http, f"{oidc.issuer}/jwks")

        def refresh() -> dict[str, Any]:
            with http_client() as h:
                return fetch_jwks(h, f"{oidc.issuer}/jwks")

        yield PinnedKeys(jwks, fetched_at=clock(), refresh=refresh, clock=clock)


@pytest.fixture
def policy(oidc: OidcServer) -> ValidationPolicy:
    return ValidationPolicy(issuer=oidc.issuer, client_id=CLIENT, algorithms=frozenset({"RS256"}))


def claims(oidc: OidcServer, clock: MutableClock, **changes: Any) -> dict[str, Any]:
    now = int(clock().timestamp())
    base: dict[str, Any] = {
        "iss": oidc.issuer,
        "sub": "alice",
        "aud": CLIENT,
        "exp": now + 300,
        "iat": now,
        "auth_time": now - 5,
        "nonce": NONCE,
        "acr": "urn:rempart:loa:1",
        "amr": ["pwd"],
        "sid": "sid-1",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )


def refused(
    token: str, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock, **kw: Any
) -> str:
    with pytest.raises(TokenRejected) as info:
        validate_id_token(token, keys, policy, nonce=kw.pop("nonce", NONCE), now=clock(), **kw)
    return info.value.reason


def test_a_well_formed_token_is_accepted(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    token = oidc.mint(claims(oidc, clock))
    got = validate_id_token(token, keys, policy, nonce=NONCE, now=clock())
    assert (got.subject, got.acr, got.amr, got.sid) == (
        "alice",
        "urn:rempart:loa:1",
        ("pwd",),
        "sid-1",
    )


def test_alg_none_is_refused(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    payload = claims(oidc, clock)
    assert refused(unsigned({"alg": "none"}, payload), keys, policy, clock) == "malformed"
    with_sig = unsigned({"alg": "none"}, payload, b"x")
    assert refused(with_sig, keys, policy, clock) == "alg-not-allowed"
    assert (
        refused(unsigned({"alg": "None"}, payload, b"x"), keys, policy, clock) == "alg-not-allowed"
    )


def test_hs256_signed_with_the_rsa_public_key_is_refused(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    public = RSAKey.import_key(oidc.key.as_dict(private=False))
    pem = public.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": oidc.key.kid}
    signing_input = ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims(oidc, clock)).encode())]
    )
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert refused(f"{signing_input}.{b64(mac)}", keys, policy, clock) == "alg-not-allowed"


def test_hmac_algorithms_can_never_be_allowed() -> None:
    for alg in ("HS256", "none"):
        with pytest.raises(ValueError, match="algorithms"):
            ValidationPolicy(issuer="https://idp", client_id="c", algorithms=frozenset({alg}))


def test_unknown_kid_is_refused_after_one_bounded_refresh(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    attacker = RSAKey.generate_key(2048, parameters={"kid": "evil"})
    token = oidc.mint(claims(oidc, clock), header={"kid": "evil"}, key=attacker)
    clock.advance(timedelta(minutes=6))
    assert refused(token, keys, policy, clock) == "unknown-kid"
    assert keys.refreshes == 1
    for _ in range(5):
        assert refused(token, keys, policy, clock) == "unknown-kid"
    assert keys.refreshes == 1, "an unknown kid must not make Rempart hammer the provider"


@pytest.mark.parametrize("member", ["jku", "x5u", "jwk"])
def test_keys_named_in_the_header_are_ignored(
    member: str,
    oidc: OidcServer,
    keys: PinnedKeys,
    policy: ValidationPolicy,
    clock: MutableClock,
) -> None:
    attacker = RSAKey.generate_key(2048, parameters={"kid": str(oidc.key.kid)})
    value: Any = (
        attacker.as_dict(private=False) if member == "jwk" else "https://attacker.example/keys"
    )
    token = oidc.mint(claims(oidc, clock), header={member: value}, key=attacker)
    assert refused(token, keys, policy, clock) == "bad-signature"


def test_unknown_critical_header_is_refused(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    header = {"alg": "RS256", "kid": oidc.key.kid, "crit": ["urn:x:policy"], "urn:x:policy": 1}
    token = oidc.mint_raw(header, claims(oidc, clock))
    assert refused(token, keys, policy, clock) == "crit-unsupported"


def test_tampered_payload_is_refused(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    head, _, sig = oidc.mint(claims(oidc, clock)).split(".")
    evil = b64(json.dumps(claims(oidc, clock, sub="admin")).encode())
    assert refused(f"{head}.{evil}.{sig}", keys, policy, clock) == "bad-signature"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "http://127.0.0.1:1"}, "wrong-issuer"),
        ({"iss": None}, "wrong-issuer"),
        ({"aud": "another-client"}, "wrong-audience"),
        ({"aud": ["another-client"]}, "wrong-audience"),
        ({"aud": None}, "wrong-audience"),
        ({"aud": [CLIENT, "another-client"]}, "wrong-azp"),
        ({"aud": [CLIENT, "another-client"], "azp": "another-client"}, "wrong-azp"),
        ({"azp": "another-client"}, "wrong-azp"),
        ({"sub": None}, "missing-sub"),
        ({"exp": None}, "missing-exp"),
        ({"iat": None}, "missing-iat"),
        ({"exp": "tomorrow"}, "malformed-exp"),
        ({"amr": "pwd"}, "malformed-amr"),
        ({"events": {BACKCHANNEL_LOGOUT_EVENT: {}}}, "wrong-token-type"),
    ],
)
def test_wrong_claims_are_refused(
    changes: dict[str, Any],
    reason: str,
    oidc: OidcServer,
    keys: PinnedKeys,
    policy: ValidationPolicy,
    clock: MutableClock,
) -> None:
    assert refused(oidc.mint(claims(oidc, clock, **changes)), keys, policy, clock) == reason


def test_several_audiences_with_our_azp_are_accepted(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    token = oidc.mint(claims(oidc, clock, aud=[CLIENT, "other"], azp=CLIENT))
    assert validate_id_token(token, keys, policy, nonce=NONCE, now=clock()).subject == "alice"


def test_expired_token_is_refused_beyond_the_clock_skew(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    now = int(clock().timestamp())
    within = oidc.mint(claims(oidc, clock, exp=now - 30, iat=now - 300))
    assert validate_id_token(within, keys, policy, nonce=NONCE, now=clock()).subject == "alice"
    expired = oidc.mint(claims(oidc, clock, exp=now - 61, iat=now - 300))
    assert refused(expired, keys, policy, clock) == "expired"


def test_not_yet_valid_token_is_refused(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    now = int(clock().timestamp())
    assert refused(oidc.mint(claims(oidc, clock, nbf=now + 120)), keys, policy, clock) == (
        "not-yet-valid"
    )
    assert refused(oidc.mint(claims(oidc, clock, iat=now + 120)), keys, policy, clock) == (
        "issued-in-future"
    )


def test_stale_token_is_refused(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    now = int(clock().timestamp())
    old = oidc.mint(claims(oidc, clock, iat=now - 3600, exp=now + 3600))
    assert refused(old, keys, policy, clock) == "stale"


def test_replayed_or_foreign_nonce_is_refused(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    token = oidc.mint(claims(oidc, clock))
    # The token answered another login attempt, whose nonce was NONCE.
    assert refused(token, keys, policy, clock, nonce="fresh-attempt-nonce") == "nonce-mismatch"
    no_nonce = oidc.mint(claims(oidc, clock, nonce=None))
    assert refused(no_nonce, keys, policy, clock) == "nonce-mismatch"


def test_authentication_older_than_max_age_is_refused(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    now = int(clock().timestamp())
    old = oidc.mint(claims(oidc, clock, auth_time=now - 600))
    assert refused(old, keys, policy, clock, max_age=timedelta(seconds=60)) == "auth-too-old"
    missing = oidc.mint(claims(oidc, clock, auth_time=None))
    assert refused(missing, keys, policy, clock, max_age=timedelta(seconds=60)) == (
        "missing-auth_time"
    )


def test_id_token_from_another_tenants_idp_is_refused(
    oidc: OidcServer,
    other_oidc: OidcServer,
    keys: PinnedKeys,
    policy: ValidationPolicy,
    clock: MutableClock,
) -> None:
    foreign = other_oidc.mint(claims(oidc, clock, iss=other_oidc.issuer))
    assert refused(foreign, keys, policy, clock) in ("wrong-issuer", "unknown-kid", "bad-signature")
    # Same kid name, forged issuer: the pinned key still refuses the signature.
    forged = other_oidc.mint(claims(oidc, clock))
    assert refused(forged, keys, policy, clock) == "bad-signature"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.e30.sig",
        f"{b64(b'[1]')}.e30.c2ln",
        f"{b64(b'not json')}.e30.c2ln",
        "x" * (MAX_TOKEN_BYTES + 1),
    ],
)
def test_malformed_or_oversize_tokens_are_refused(
    token: str, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    assert refused(token, keys, policy, clock) in ("malformed", "too-large")


def logout_claims(oidc: OidcServer, clock: MutableClock, **changes: Any) -> dict[str, Any]:
    now = int(clock().timestamp())
    base: dict[str, Any] = {
        "iss": oidc.issuer,
        "aud": CLIENT,
        "iat": now,
        "exp": now + 120,
        "jti": f"jti-{time.monotonic_ns()}",
        "sub": "alice",
        "sid": "sid-1",
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_logout_token_is_accepted_when_valid(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    token = oidc.mint(logout_claims(oidc, clock), header={"typ": "logout+jwt"})
    got = validate_logout_token(token, keys, policy, now=clock())
    assert (got.subject, got.sid) == ("alice", "sid-1")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"events": None}, "missing-logout-event"),
        ({"events": {"http://example.com/other": {}}}, "missing-logout-event"),
        ({"events": {BACKCHANNEL_LOGOUT_EVENT: "yes"}}, "missing-logout-event"),
        ({"nonce": "n"}, "nonce-in-logout-token"),
        ({"jti": None}, "missing-jti"),
        ({"sub": None, "sid": None}, "missing-sub-and-sid"),
        ({"aud": "someone-else"}, "wrong-audience"),
        ({"iss": "https://other.example"}, "wrong-issuer"),
    ],
)
def test_bad_logout_tokens_are_refused(
    changes: dict[str, Any],
    reason: str,
    oidc: OidcServer,
    keys: PinnedKeys,
    policy: ValidationPolicy,
    clock: MutableClock,
) -> None:
    token = oidc.mint(logout_claims(oidc, clock, **changes), header={"typ": "logout+jwt"})
    with pytest.raises(TokenRejected) as info:
        validate_logout_token(token, keys, policy, now=clock())
    assert info.value.reason == reason


def test_an_id_token_is_not_a_logout_token(
    oidc: OidcServer, keys: PinnedKeys, policy: ValidationPolicy, clock: MutableClock
) -> None:
    id_token = oidc.mint(claims(oidc, clock))
    with pytest.raises(TokenRejected) as info:
        validate_logout_token(id_token, keys, policy, now=clock())
    assert info.value.reason in ("missing-logout-event", "nonce-in-logout-token")
