"""The vault: per-tenant envelope encryption, the only place that touches keys.

Safe layer: ``Vault`` (encrypt/decrypt fields and streams, blind indexes,
pseudonyms, card tokens, rotation, crypto-shredding), key providers and the
keyring store protocol. Raw primitives live apart in ``rempart.vault.hazmat``,
which nothing outside this package imports. The formats are in docs/vault.md.
"""

from rempart.vault.cache import CacheLimits, DekCache
from rempart.vault.core import SubjectIndexHolder, Vault, open_local_vault
from rempart.vault.errors import (
    KeyFileCorrupt,
    KeyProviderError,
    KeyStateConflict,
    ProviderUnavailable,
    UnknownKey,
    WrongPassphrase,
)
from rempart.vault.events import VaultAction, VaultEvent, VaultEventSink
from rempart.vault.format import FieldContext
from rempart.vault.keyring import Keyring, RewrapProgress, RewrapReport
from rempart.vault.lookup import (
    normalize_email,
    normalize_identifier,
    normalize_phone,
    normalize_text,
    phone_normalizer,
)
from rempart.vault.providers.base import KeyProvider
from rempart.vault.providers.local import LocalKeyFileProvider
from rempart.vault.records import DATA_KEY, INDEX_KEY, KeyStatus
from rempart.vault.setup import key_providers, open_vault, provider_for
from rempart.vault.store import KeyringStore, MemoryKeyringStore
from rempart.vault.tokens import CardToken

__all__ = [
    "DATA_KEY",
    "INDEX_KEY",
    "CacheLimits",
    "CardToken",
    "DekCache",
    "FieldContext",
    "KeyFileCorrupt",
    "KeyProvider",
    "KeyProviderError",
    "KeyStateConflict",
    "KeyStatus",
    "Keyring",
    "KeyringStore",
    "LocalKeyFileProvider",
    "MemoryKeyringStore",
    "ProviderUnavailable",
    "RewrapProgress",
    "RewrapReport",
    "SubjectIndexHolder",
    "UnknownKey",
    "Vault",
    "VaultAction",
    "VaultEvent",
    "VaultEventSink",
    "WrongPassphrase",
    "key_providers",
    "normalize_email",
    "normalize_identifier",
    "normalize_phone",
    "normalize_text",
    "open_local_vault",
    "open_vault",
    "phone_normalizer",
    "provider_for",
]
