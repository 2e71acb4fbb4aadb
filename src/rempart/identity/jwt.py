"""Strict validation of ID tokens and back-channel logout tokens, written once (joserfc).

Every token Rempart accepts from an identity provider passes through
``validate_id_token`` or ``validate_logout_token``. The rules:

* compact JWS only, at most ``MAX_TOKEN_BYTES``; the header is parsed here
  before any key is touched;
* ``alg`` must be in the provider's allowlist, which may hold asymmetric
  algorithms only (``none`` and the HMAC family can never be configured);
* keys come only from the pinned JWKS: ``jku``, ``x5u``, ``x5c`` and an
  embedded ``jwk`` are ignored, an unknown ``crit`` extension is refused;
* an unknown ``kid`` triggers at most one JWKS refresh per interval
  (``keys.PinnedKeys``), then the token is refused;
* claims: exact ``iss``, ``aud`` containing the client id (and ``azp`` equal
  to it when there are several audiences or ``azp`` is present), ``exp``,
  ``iat`` and ``nbf`` within a small clock skew, ``nonce`` equal to the one
  sent, ``auth_time`` within ``max_age`` when asked.

A refusal is a ``TokenRejected`` whose ``reason`` names the rule; the reason is
safe to show (it says nothing about keys or secrets) and is audited.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import Key

from rempart.errors import AuthenticationFailed

MAX_TOKEN_BYTES = 16 * 1024
DEFAULT_LEEWAY = timedelta(seconds=60)
# An ID token is minted at the code exchange; one older than this is not fresh.
DEFAULT_MAX_IAT_AGE = timedelta(minutes=10)
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class TokenRejected(AuthenticationFailed):
    """A token from the identity provider failed a validation rule."""

    title = "Token refused"
    slug = "token-rejected"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the identity provider's token was refused: {reason}", reason=reason)
        self.reason = reason


class KeySource(Protocol):
    """Where verification keys come from: the provider's pinned JWKS only."""

    def key_for(self, kid: str | None, alg: str) -> Key:
        """The pinned key for ``kid`` usable with ``alg``; raise ``TokenRejected`` otherwise."""
        ...


@dataclass(frozen=True, slots=True)
class ValidationPolicy:
    """What one provider's tokens must satisfy."""

    issuer: str
    client_id: str
    algorithms: frozenset[str]
    leeway: timedelta = DEFAULT_LEEWAY
    max_iat_age: timedelta = DEFAULT_MAX_IAT_AGE

    def __post_init__(self) -> None:
        bad = set(self.algorithms) - ASYMMETRIC_ALGORITHMS
        if bad or not self.algorithms:
            raise ValueError(
                f"allowed algorithms must be a non-empty subset of {sorted(ASYMMETRIC_ALGORITHMS)}"
            )


@dataclass(frozen=True, slots=True)
class IdTokenClaims:
    """The validated claims of an ID token."""

    issuer: str
    subject: str
    issued_at: datetime
    auth_time: datetime | None
    acr: str | None
    amr: tuple[str, ...]
    sid: str | None
    claims: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class LogoutClaims:
    """The validated claims of a back-channel logout token."""

    issuer: str
    subject: str | None
    sid: str | None
    jti: str


def _b64decode(part: str) -> bytes:
    if not part or "=" in part:
        raise TokenRejected("malformed")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenRejected("malformed") from exc


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TokenRejected("malformed") from exc
    if not isinstance(value, dict):
        raise TokenRejected("malformed")
    return value


def read_header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS, after the size and shape checks."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected("too-large" if isinstance(token, str) else "malformed")
    parts = token.split(".")
    if len(parts) != 3 or not parts[2]:
        raise TokenRejected("malformed")
    return _json_object(_b64decode(parts[0]))


def verify_signature(token: str, keys: KeySource, policy: ValidationPolicy) -> dict[str, Any]:
    """Check the header rules and the signature; return the payload as a JSON object."""
    header = read_header(token)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in policy.algorithms:
        raise TokenRejected("alg-not-allowed")
    if "crit" in header:
        raise TokenRejected("crit-unsupported")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenRejected("malformed")
    # jku, x5u, x5c and jwk are deliberately never read: keys come from the pin.
    key = keys.key_for(kid, alg)
    try:
        verified = jws.deserialize_compact(token, key, algorithms=[alg])
    except (JoseError, ValueError, TypeError) as exc:
        raise TokenRejected("bad-signature") from exc
    return _json_object(verified.payload)


def _time(claims: dict[str, Any], name: str, *, required: bool) -> datetime | None:
    value = claims.get(name)
    if value is None:
        if required:
            raise TokenRejected(f"missing-{name}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"malformed-{name}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise TokenRejected(f"malformed-{name}") from exc


def _check_common(
    claims: dict[str, Any], policy: ValidationPolicy, now: datetime
) -> tuple[datetime, datetime]:
    if claims.get("iss") != policy.issuer:
        raise TokenRejected("wrong-issuer")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise TokenRejected("wrong-audience")
    if policy.client_id not in audiences:
        raise TokenRejected("wrong-audience")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != policy.client_id:
        raise TokenRejected("wrong-azp")
    exp = _time(claims, "exp", required=True)
    iat = _time(claims, "iat", required=True)
    nbf = _time(claims, "nbf", required=False)
    if exp is None or iat is None:  # pragma: no cover - required=True raised already
        raise TokenRejected("malformed")
    if now >= exp + policy.leeway:
        raise TokenRejected("expired")
    if nbf is not None and now + policy.leeway < nbf:
        raise TokenRejected("not-yet-valid")
    if iat > now + policy.leeway:
        raise TokenRejected("issued-in-future")
    if now - iat > policy.max_iat_age + policy.leeway:
        raise TokenRejected("stale")
    return exp, iat


def validate_id_token(
    token: str,
    keys: KeySource,
    policy: ValidationPolicy,
    *,
    nonce: str,
    now: datetime,
    max_age: timedelta | None = None,
) -> IdTokenClaims:
    """Validate an ID token received at the code exchange of one login attempt."""
    header = read_header(token)
    typ = header.get("typ")
    if typ is not None and (
        not isinstance(typ, str) or typ.lower() not in ("jwt", "application/jwt")
    ):
        raise TokenRejected("wrong-token-type")
    claims = verify_signature(token, keys, policy)
    _, iat = _check_common(claims, policy, now)
    if "events" in claims:
        raise TokenRejected("wrong-token-type")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise TokenRejected("missing-sub")
    got_nonce = claims.get("nonce")
    if not isinstance(got_nonce, str) or not hmac.compare_digest(
        got_nonce.encode(), nonce.encode()
    ):
        raise TokenRejected("nonce-mismatch")
    auth_time = _time(claims, "auth_time", required=max_age is not None)
    if max_age is not None and auth_time is not None and now - auth_time > max_age + policy.leeway:
        raise TokenRejected("auth-too-old")
    acr = claims.get("acr")
    amr = claims.get("amr", [])
    if not isinstance(amr, list) or not all(isinstance(m, str) for m in amr):
        raise TokenRejected("malformed-amr")
    sid = claims.get("sid")
    return IdTokenClaims(
        issuer=policy.issuer,
        subject=sub,
        issued_at=iat,
        auth_time=auth_time,
        acr=acr if isinstance(acr, str) else None,
        amr=tuple(amr),
        sid=sid if isinstance(sid, str) else None,
        claims=claims,
    )


def validate_logout_token(
    token: str, keys: KeySource, policy: ValidationPolicy, *, now: datetime
) -> LogoutClaims:
    """Validate an OIDC back-channel logout token (OpenID Back-Channel Logout 1.0, 2.6)."""
    header = read_header(token)
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in ("logout+jwt", "jwt")):
        raise TokenRejected("wrong-token-type")
    claims = verify_signature(token, keys, policy)
    _check_common(claims, policy, now)
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise TokenRejected("missing-logout-event")
    if "nonce" in claims:
        raise TokenRejected("nonce-in-logout-token")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise TokenRejected("missing-jti")
    sub = claims.get("sub")
    sid = claims.get("sid")
    sub = sub if isinstance(sub, str) and sub else None
    sid = sid if isinstance(sid, str) and sid else None
    if sub is None and sid is None:
        raise TokenRejected("missing-sub-and-sid")
    return LogoutClaims(issuer=policy.issuer, subject=sub, sid=sid, jti=jti)


__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "BACKCHANNEL_LOGOUT_EVENT",
    "MAX_TOKEN_BYTES",
    "IdTokenClaims",
    "KeySource",
    "LogoutClaims",
    "TokenRejected",
    "ValidationPolicy",
    "read_header",
    "validate_id_token",
    "validate_logout_token",
    "verify_signature",
]
