"""Ingestion extras: signed webhooks, idempotency keys, in-flight chat redaction.

The public face is listed in ``__all__``; the API routes (``api/routes/ingest.py``,
``api/routes/chat.py``) and the CLI (``cli/webhooks.py``) are thin over it.
"""

from rempart.ingest.chat import AmendedSpan, ChatResult, ChatSessions, chat_policy
from rempart.ingest.cleanup import PurgeReport, purge_expired
from rempart.ingest.config import DEFAULT_CONFIG, IngestConfig
from rempart.ingest.errors import (
    ChatMessageReused,
    IdempotencyKeyInUse,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    SignatureExpired,
    SignatureInvalid,
    SignatureMalformed,
    SignatureMissing,
    SignatureReplayed,
    VaultUnavailable,
    WebhookRefused,
)
from rempart.ingest.idempotency import Reserved, StoredResponse
from rempart.ingest.signatures import header_value, sign
from rempart.ingest.webhooks import (
    IssuedSecret,
    Verified,
    create_secret,
    list_secrets,
    revoke_secrets,
    rotate_secret,
    verify_delivery,
)

__all__ = [
    "DEFAULT_CONFIG",
    "AmendedSpan",
    "ChatMessageReused",
    "ChatResult",
    "ChatSessions",
    "IdempotencyKeyInUse",
    "IdempotencyKeyInvalid",
    "IdempotencyKeyReused",
    "IngestConfig",
    "IssuedSecret",
    "PurgeReport",
    "Reserved",
    "SignatureExpired",
    "SignatureInvalid",
    "SignatureMalformed",
    "SignatureMissing",
    "SignatureReplayed",
    "StoredResponse",
    "VaultUnavailable",
    "Verified",
    "WebhookRefused",
    "chat_policy",
    "create_secret",
    "header_value",
    "list_secrets",
    "purge_expired",
    "revoke_secrets",
    "rotate_secret",
    "sign",
    "verify_delivery",
]
