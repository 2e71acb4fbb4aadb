"""Webhook signatures: ``Rempart-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]``.

``v1`` is HMAC-SHA256, keyed with the secret as printed (``whsec_...``, UTF-8),
over ``<t>.<raw body>``. Several ``v1`` values are allowed so that a sender can
sign with the old and the new secret during a rotation; unknown schemes are
ignored (a later ``v2`` will not break v1 receivers). Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

from rempart.ingest.errors import SignatureMalformed, SignatureMissing

HEADER: Final = "Rempart-Signature"
SCHEME: Final = "v1"
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a label, not a secret
MAX_HEADER_CHARS: Final = 2048
MAX_SIGNATURES: Final = 8
_TIMESTAMP: Final = re.compile(r"^[0-9]{1,12}$")
_HEX_MAC: Final = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    """What a ``Rempart-Signature`` header says: the timestamp and the v1 MACs."""

    timestamp: int
    macs: tuple[bytes, ...]


def new_secret() -> str:
    """A fresh secret: 256 random bits, URL-safe, with a recognisable prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signed_bytes(timestamp: int, body: bytes) -> bytes:
    return str(timestamp).encode() + b"." + body


def mac(secret: str, timestamp: int, body: bytes) -> bytes:
    return hmac.new(secret.encode(), signed_bytes(timestamp, body), hashlib.sha256).digest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The v1 signature (hex) of ``body`` at ``timestamp``."""
    return mac(secret, timestamp, body).hex()


def header_value(timestamp: int, signatures: list[str]) -> str:
    """A header carrying ``signatures`` (v1 hex values), e.g. old and new secret."""
    return ",".join([f"t={timestamp}", *(f"{SCHEME}={s}" for s in signatures)])


def parse_header(value: str | None) -> SignatureHeader:
    """Read the header; missing or unreadable is refused before any secret is touched."""
    if value is None or not value.strip():
        raise SignatureMissing(f"the {HEADER} header is required")
    if len(value) > MAX_HEADER_CHARS:
        raise SignatureMalformed(f"the {HEADER} header is too long")
    timestamp: int | None = None
    macs: list[bytes] = []
    for part in value.split(","):
        name, sep, item = part.strip().partition("=")
        if not sep:
            raise SignatureMalformed(f"the {HEADER} header must be a list of name=value")
        if name == "t":
            if timestamp is not None or not _TIMESTAMP.match(item):
                raise SignatureMalformed("t must appear once, as Unix seconds")
            timestamp = int(item)
        elif name == SCHEME:
            if not _HEX_MAC.match(item):
                raise SignatureMalformed("v1 must be 64 lower-case hex digits")
            macs.append(bytes.fromhex(item))
    if timestamp is None:
        raise SignatureMalformed("t (Unix seconds) is missing")
    if not macs:
        raise SignatureMalformed("no v1 signature")
    if len(macs) > MAX_SIGNATURES:
        raise SignatureMalformed(f"at most {MAX_SIGNATURES} v1 signatures")
    return SignatureHeader(timestamp, tuple(macs))


def matches(secret: str, header: SignatureHeader, body: bytes) -> bool:
    """Whether any v1 MAC of the header is ``secret``'s; each compared in constant time."""
    expected = mac(secret, header.timestamp, body)
    found = False
    for candidate in header.macs:
        # No early exit: how many values were tried does not depend on which matched.
        found |= hmac.compare_digest(expected, candidate)
    return found


def delivery_digest(header: SignatureHeader, body: bytes) -> bytes:
    """Names one signed delivery (whatever secrets signed it) for replay detection."""
    return hashlib.sha256(
        b"rempart/webhook/delivery/v1\x00" + signed_bytes(header.timestamp, body)
    ).digest()


__all__ = [
    "HEADER",
    "MAX_SIGNATURES",
    "SCHEME",
    "SECRET_PREFIX",
    "SignatureHeader",
    "delivery_digest",
    "header_value",
    "mac",
    "matches",
    "new_secret",
    "parse_header",
    "sign",
    "signed_bytes",
]
