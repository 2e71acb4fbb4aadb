"""Limits and windows of the ingestion extras, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """Set on ``app.state.ingest`` to change a default; every field has a safe one."""

    # A signed callback is accepted only if its timestamp is this close to our clock.
    webhook_tolerance: timedelta = timedelta(seconds=300)
    # How long a rotated-out webhook secret still verifies, by default.
    webhook_rotation_grace: timedelta = timedelta(hours=24)
    # How long the first answer to an Idempotency-Key is kept for retries.
    idempotency_ttl: timedelta = timedelta(hours=24)
    # A reservation older than this whose request never finished (crashed worker)
    # may be taken over by a retry.
    idempotency_lease: timedelta = timedelta(minutes=5)
    # Interactions in one batch request (the body is also bounded by max_request_bytes).
    max_batch_items: int = 100
    # In-flight chat: conversations whose redaction state is kept, and for how long idle.
    chat_max_conversations: int = 10_000
    chat_idle_ttl: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.webhook_tolerance <= timedelta(0):
            raise ValueError("webhook_tolerance must be positive")
        if self.idempotency_ttl <= timedelta(0) or self.idempotency_lease <= timedelta(0):
            raise ValueError("idempotency windows must be positive")
        if not 1 <= self.max_batch_items <= 1000:
            raise ValueError("max_batch_items must be between 1 and 1000")
        if self.chat_max_conversations < 1 or self.chat_idle_ttl <= timedelta(0):
            raise ValueError("chat limits must be positive")


DEFAULT_CONFIG = IngestConfig()

__all__ = ["DEFAULT_CONFIG", "IngestConfig"]
