"""The exception tree of Rempart.

Every error raised on purpose by Rempart derives from ``RempartError``. The API
turns each into an RFC 9457 ``application/problem+json`` response using the
class attributes ``status``, ``title`` and ``slug``; the CLI prints the message
on one line and exits non-zero. Foreign errors are translated at the boundary
with ``raise ... from exc``.

    RempartError
    ├── ConfigurationError        invalid settings or environment (500)
    ├── BadRequest                malformed input (400)
    │   ├── ValidationFailed      well-formed but invalid content (422)
    │   ├── UnsupportedMediaType  wrong Content-Type (415)
    │   └── PayloadTooLarge       body over the configured limit (413)
    ├── AuthenticationFailed      missing, unknown, expired or revoked credentials (401)
    ├── PermissionDenied          authenticated but not allowed (403)
    ├── NotFound                  absent, or belongs to another tenant (404)
    ├── Conflict                  clashes with existing state (409)
    └── CryptoError               any cryptographic failure, deliberately opaque

Messages never contain secrets, tokens or message bodies.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RempartError(Exception):
    """Root of every error Rempart raises on purpose."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    slug: ClassVar[str] = "internal-error"

    def __init__(self, detail: str = "", **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        # Extra members for the problem document (must not carry secrets).
        self.extensions: dict[str, Any] = extensions


class ConfigurationError(RempartError):
    title = "Configuration error"
    slug = "configuration-error"


class BadRequest(RempartError):
    status = 400
    title = "Bad request"
    slug = "bad-request"


class ValidationFailed(BadRequest):
    status = 422
    title = "Validation failed"
    slug = "validation-failed"


class UnsupportedMediaType(BadRequest):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class PayloadTooLarge(BadRequest):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class AuthenticationFailed(RempartError):
    status = 401
    title = "Authentication required"
    slug = "authentication-failed"


class PermissionDenied(RempartError):
    status = 403
    title = "Permission denied"
    slug = "permission-denied"


class NotFound(RempartError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(RempartError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class CryptoError(RempartError):
    """Any cryptographic failure. Never says which check failed."""

    title = "Cryptographic operation failed"
    slug = "crypto-error"

    def __init__(self, detail: str = "") -> None:
        super().__init__("Cryptographic operation failed")


__all__ = [
    "AuthenticationFailed",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "CryptoError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RempartError",
    "UnsupportedMediaType",
    "ValidationFailed",
]
