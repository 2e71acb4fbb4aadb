"""Audit hook: the vault reports what it did to keys through an ``on_event`` callback.

The audit package plugs in later by passing any callable that accepts a
``VaultEvent``; the vault never imports it. A sink that raises makes the
operation fail *after* the key change for rotations and shredding (the change
stands, the error tells the caller the audit record is missing), and *before*
any plaintext is returned for detokenization.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from rempart.types import TenantId


class VaultAction(StrEnum):
    TENANT_CREATED = "vault.tenant.created"
    KEK_CREATED = "vault.kek.created"
    KEK_RETIRED = "vault.kek.retired"
    KEK_ABANDONED = "vault.kek.abandoned"
    DEK_CREATED = "vault.dek.created"
    DEK_RETIRED = "vault.dek.retired"
    REWRAP_PROGRESS = "vault.rewrap.progress"
    REWRAP_COMPLETED = "vault.rewrap.completed"
    TENANT_SHREDDED = "vault.tenant.shredded"
    SUBJECT_SHREDDED = "vault.subject.shredded"
    CARD_TOKENIZED = "vault.card.tokenized"
    CARD_DETOKENIZED = "vault.card.detokenized"
    CARD_DETOKENIZE_DENIED = "vault.card.detokenize-denied"


@dataclass(frozen=True, slots=True)
class VaultEvent:
    """One thing the vault did. Never carries key material or plaintext."""

    action: VaultAction
    tenant: TenantId
    at: datetime
    key_id: str | None = None
    version: int | None = None
    details: Mapping[str, str] = field(default_factory=dict)


class VaultEventSink(Protocol):
    def __call__(self, event: VaultEvent, /) -> None: ...


def discard_events(event: VaultEvent, /) -> None:
    """The default sink: drops events (the audit package replaces it)."""


__all__ = ["VaultAction", "VaultEvent", "VaultEventSink", "discard_events"]
