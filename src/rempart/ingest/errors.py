"""Errors of the ingestion extras; each carries its HTTP status and problem slug.

AuthenticationFailed
└── WebhookRefused              a signed callback was not accepted (401)
    ├── SignatureMissing        no ``Rempart-Signature`` header
    ├── SignatureMalformed      the header cannot be read
    ├── SignatureInvalid        no secret of the tenant made this signature
    ├── SignatureExpired        valid, but its timestamp is outside the window
    └── SignatureReplayed       valid, but this delivery was already accepted
BadRequest
└── IdempotencyKeyInvalid       the key is empty, too long or not printable ASCII (400)
ValidationFailed
└── IdempotencyKeyReused        same key, another request (422)
Conflict
├── IdempotencyKeyInUse         the first request with this key is still running (409)
└── ChatMessageReused           same message id, other text (409)
VaultUnavailable                no vault configured: fail closed (503)
"""

from __future__ import annotations

from rempart.errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    RempartError,
    ValidationFailed,
)


class WebhookRefused(AuthenticationFailed):
    title = "Webhook refused"
    slug = "webhook-refused"


class SignatureMissing(WebhookRefused):
    title = "Webhook signature missing"
    slug = "webhook-signature-missing"


class SignatureMalformed(WebhookRefused):
    title = "Webhook signature malformed"
    slug = "webhook-signature-malformed"


class SignatureInvalid(WebhookRefused):
    title = "Webhook signature invalid"
    slug = "webhook-signature-invalid"


class SignatureExpired(WebhookRefused):
    title = "Webhook signature expired"
    slug = "webhook-signature-expired"


class SignatureReplayed(WebhookRefused):
    title = "Webhook replayed"
    slug = "webhook-replayed"


class IdempotencyKeyInvalid(BadRequest):
    title = "Invalid idempotency key"
    slug = "idempotency-key-invalid"


class IdempotencyKeyReused(ValidationFailed):
    title = "Idempotency key reused"
    slug = "idempotency-key-reused"


class IdempotencyKeyInUse(Conflict):
    title = "Idempotency key in use"
    slug = "idempotency-key-in-use"


class ChatMessageReused(Conflict):
    title = "Chat message id reused"
    slug = "chat-message-reused"


class VaultUnavailable(RempartError):
    status = 503
    title = "Vault unavailable"
    slug = "vault-unavailable"


__all__ = [
    "ChatMessageReused",
    "IdempotencyKeyInUse",
    "IdempotencyKeyInvalid",
    "IdempotencyKeyReused",
    "SignatureExpired",
    "SignatureInvalid",
    "SignatureMalformed",
    "SignatureMissing",
    "SignatureReplayed",
    "VaultUnavailable",
    "WebhookRefused",
]
