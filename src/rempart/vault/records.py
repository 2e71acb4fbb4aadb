"""What the keyring store keeps: tenants, KEK versions, wrapped DEKs and card tokens.

Records hold wrapped keys and metadata only; an unwrapped key never reaches a
record or a store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rempart.types import TenantId

DATA_KEY = "data"
"""The tenant's field and stream encryption key id (rotated freely)."""
INDEX_KEY = "index"
"""The tenant's lookup key id: blind indexes, pseudonyms, token lookup hashes."""
SUBJECT_PREFIX = "subject:"
"""Key ids of per-data-subject keys start with this prefix."""


def subject_key_id(subject: str) -> str:
    """The key id of a data subject's key."""
    key_id = SUBJECT_PREFIX + subject
    if not subject or len(key_id.encode()) > 255:
        raise ValueError("subject id must be 1 to 247 bytes")
    return key_id


class KeyStatus(StrEnum):
    ACTIVE = "active"
    """Encrypts (DEK) or wraps (KEK); at most one active version per key id."""
    DECRYPT_ONLY = "decrypt-only"
    """An older version: still decrypts or unwraps, never encrypts or wraps."""
    RETIRED = "retired"
    """Taken out of use on purpose; its wrapped material is wiped."""
    DESTROYED = "destroyed"
    """Crypto-shredded; its wrapped material is wiped."""
    PENDING = "pending"
    """A KEK being created: recorded before the provider is asked (intent), confirmed
    after; one left behind by a crash is swept by ``Keyring.recover``."""

    @property
    def usable(self) -> bool:
        return self in (KeyStatus.ACTIVE, KeyStatus.DECRYPT_ONLY)


@dataclass(frozen=True, slots=True)
class TenantKeyring:
    tenant: TenantId
    provider: str
    created_at: datetime
    shredded: bool = False


@dataclass(frozen=True, slots=True)
class KekRecord:
    tenant: TenantId
    version: int
    provider: str
    key_ref: str
    """The provider's handle for the KEK (a label, a KMS key id...), never the key."""
    status: KeyStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DekRecord:
    tenant: TenantId
    key_id: str
    version: int
    kek_version: int
    wrapped: bytes | None
    """The DEK wrapped by KEK ``kek_version``; ``None`` once retired or destroyed."""
    status: KeyStatus
    created_at: datetime
    encryptions: int = 0
    """Encryptions reserved so far under this DEK (bounds GCM random-nonce use)."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    tenant: TenantId
    token: str
    lookup_hash: bytes
    """Keyed hash of the whole PAN, to find an existing token without decrypting."""
    pan_ciphertext: bytes
    last_four: str | None
    expires_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SubjectIndexRecord:
    """One blind index of a data subject's value, kept by the vault for lookups.

    ``tag`` is the blind index under the tenant's index key (what a lookup
    computes); ``verifier`` is an HMAC of the same normalised value under a subkey
    of the subject's own key (version ``key_version``), so an entry only counts
    while that key lives: after crypto-shredding it cannot be recomputed, and a
    copy restored from a backup matches nothing.
    """

    tenant: TenantId
    subject: str
    field: str
    index: str
    tag: bytes
    verifier: bytes
    key_version: int
    created_at: datetime


__all__ = [
    "DATA_KEY",
    "INDEX_KEY",
    "SUBJECT_PREFIX",
    "DekRecord",
    "KekRecord",
    "KeyStatus",
    "SubjectIndexRecord",
    "TenantKeyring",
    "TokenRecord",
    "subject_key_id",
]
