"""Erasure certificates: canonical JSON signed with the platform's Ed25519 audit key.

A certificate file is JSON::

    {"certificate": {...}, "signature": {"algorithm": "Ed25519",
                                          "key": "<name>+<hash>+<base64 key>",
                                          "value": "<base64 signature>"}}

The signature covers ``DOMAIN || RFC 8785 canonical bytes of "certificate"``,
so re-indenting the file changes nothing and changing any value breaks it;
the domain prefix keeps a certificate signature from ever passing for a
checkpoint note signed by the same key, and the reverse. ``verify`` needs the
file and the public key only (offline).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Final

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from rempart.audit.errors import CheckpointError
from rempart.audit.note import NoteSigner, NoteVerifier, verifier_key
from rempart.privacy.errors import CertificateInvalid

CERTIFICATE_FORMAT: Final = "rempart-erasure-certificate"
DOMAIN: Final = b"rempart/privacy/erasure-certificate/v1\n"
_MAX_SIZE: Final = 64 * 1024
_REQUIRED: Final = (
    "format",
    "version",
    "tenant",
    "request_id",
    "subject",
    "legal_basis",
    "requested_at",
    "completed_at",
    "counts",
    "key_versions_destroyed",
    "audit_entry",
)


def _message(certificate: dict[str, Any]) -> bytes:
    return DOMAIN + rfc8785.dumps(certificate)


def sign_certificate(certificate: dict[str, Any], signer: NoteSigner) -> str:
    """The certificate file (JSON text, newline-terminated) signed by ``signer``."""
    missing = [k for k in _REQUIRED if k not in certificate]
    if missing:
        raise ValueError(f"certificate lacks {', '.join(missing)}")
    signature = signer.sign(_message(certificate))
    document = {
        "certificate": certificate,
        "signature": {
            "algorithm": "Ed25519",
            "key": verifier_key(signer),
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def verify_certificate(text: str, key: str) -> dict[str, Any]:
    """The certificate if ``text`` bears a valid signature by ``key``, else ``CertificateInvalid``.

    ``key`` is the public verifier key (``name+hash+base64``), as in
    ``audit-checkpoint.pub``.
    """
    try:
        verifier = NoteVerifier.from_vkey(key)
    except CheckpointError as exc:
        raise CertificateInvalid(f"the public key is not usable: {exc.detail}") from exc
    if len(text) > _MAX_SIZE:
        raise CertificateInvalid("the certificate file is too large")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CertificateInvalid("the certificate file is not JSON") from exc
    if not isinstance(document, dict) or set(document) != {"certificate", "signature"}:
        raise CertificateInvalid("the certificate file lacks its certificate or signature")
    certificate, signature = document["certificate"], document["signature"]
    if not isinstance(certificate, dict) or not isinstance(signature, dict):
        raise CertificateInvalid("the certificate file lacks its certificate or signature")
    if signature.get("algorithm") != "Ed25519":
        raise CertificateInvalid("the signature is not an Ed25519 signature")
    named = signature.get("key")
    if not isinstance(named, str):
        raise CertificateInvalid("the signature does not name its key")
    try:
        signed_by = NoteVerifier.from_vkey(named)
    except CheckpointError as exc:
        raise CertificateInvalid("the signature names a malformed key") from exc
    if (signed_by.name, signed_by.key_hash) != (verifier.name, verifier.key_hash):
        raise CertificateInvalid(f"the certificate is not signed by key {verifier.name!r}")
    try:
        raw = base64.b64decode(str(signature.get("value", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CertificateInvalid("the signature is not base64") from exc
    try:
        message = _message(certificate)
    except rfc8785.CanonicalizationError as exc:
        raise CertificateInvalid("the certificate cannot be put in canonical form") from exc
    try:
        Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(raw, message)
    except InvalidSignature as exc:
        raise CertificateInvalid("the signature does not match the certificate") from exc
    if certificate.get("format") != CERTIFICATE_FORMAT or certificate.get("version") != 1:
        raise CertificateInvalid("not an erasure certificate of format version 1")
    missing = [k for k in _REQUIRED if k not in certificate]
    if missing:
        raise CertificateInvalid(f"the certificate lacks {', '.join(missing)}")
    return certificate


__all__ = ["CERTIFICATE_FORMAT", "DOMAIN", "sign_certificate", "verify_certificate"]
