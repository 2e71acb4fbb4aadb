"""The DEK cache: unwrapped keys kept in memory within limits, like the AWS Encryption
SDK's caching materials manager.

An entry is dropped when it is older than ``max_age_seconds``, or, for
encryption, once it has protected ``max_messages`` values or ``max_bytes``
bytes; the capacity is bounded by ``max_entries`` (the entry loaded or used on
the long way least recently goes first). A dropped entry costs one provider
call to bring back.

The message limit is enforced through the key's GCM budget (``DekMaterial``):
the keyring grants one cached copy of a key at most ``max_messages``
encryptions in all, then loads a fresh copy, so the limit is exact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from rempart.types import TenantId
from rempart.vault.material import DekMaterial

CacheKey = tuple[TenantId, str, int]
"""(tenant, key id, version); version 0 stands for "the active version, for encryption"."""


@dataclass(frozen=True, slots=True)
class CacheLimits:
    max_age_seconds: float = 300.0
    max_messages: int = 1 << 24
    max_bytes: int = 1 << 34
    max_entries: int = 10_000

    def __post_init__(self) -> None:
        if self.max_age_seconds <= 0 or min(self.max_messages, self.max_bytes) < 1:
            raise ValueError("cache limits must be positive")
        if self.max_entries < 1:
            raise ValueError("cache capacity must be at least one entry")


class CacheEntry:
    """One cached DEK with its counters; the field cipher's hot path reads it directly."""

    __slots__ = (
        "bytes_left",
        "expires",
        "header",
        "last_used",
        "loaded_at",
        "material",
        "open",
        "seal",
    )

    def __init__(
        self, material: DekMaterial, loaded_at: float, max_age: float, max_bytes: int
    ) -> None:
        self.material = material
        self.loaded_at = loaded_at
        self.expires = loaded_at + max_age
        self.last_used = loaded_at
        self.bytes_left = max_bytes
        """Plaintext bytes this entry may still encrypt (counts down)."""
        # Copied from the material so that the hot path reads one attribute, not three.
        self.header = material.field_header
        self.seal = material.field.seal
        self.open = material.field.open_unchecked


IndexKey = str | bytes
"""In ``DekCache.index``: a key id (the active version, for encryption) or a field
ciphertext header up to the nonce (that exact version, for decryption)."""


class DekCache:
    """Never hands out an entry past its age; counts uses and bytes against the limits.

    Lookups take no lock (a dictionary read is atomic in CPython); inserts and
    evictions do. Under concurrent encryption the byte counter may undercount by
    at most the number of threads racing on one entry, so the byte limit is soft
    by that margin. The message limit and the GCM nonce budget are counted
    atomically in ``DekMaterial`` (hard limits). The field cipher's hot path
    reads the clock for the age limit but does not update ``last_used``.

    Besides the entries by ``(tenant, key id, version)``, ``index`` holds, per
    tenant, the entries of field-encrypting keys (data and subject keys) by key id
    (active version) and by ciphertext header (each version), so that field
    encryption finds its key with two dictionary reads and no tuple to build. Both
    views change together, under the lock.
    """

    def __init__(
        self, limits: CacheLimits | None = None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = limits if limits is not None else CacheLimits()
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._entries: dict[CacheKey, CacheEntry] = {}
        self.index: dict[TenantId, dict[IndexKey, CacheEntry]] = {}
        """Read-only outside this class; the same dictionary for the cache's whole life."""

    @property
    def limits(self) -> CacheLimits:
        return self._limits

    def __len__(self) -> int:
        return len(self._entries)

    def checkout(self, key: CacheKey, nbytes: int) -> DekMaterial | None:
        """The entry for an encryption of ``nbytes``, counted against its byte limit
        (the message limit is the material's GCM budget, see ``Keyring``)."""
        entry = self._entries.get(key)
        if entry is not None:
            now = self.monotonic()
            left = entry.bytes_left - nbytes
            if now < entry.expires and left >= 0:
                entry.bytes_left = left
                entry.last_used = now
                return entry.material
            self._drop(key, entry)
        return None

    def get(self, key: CacheKey) -> DekMaterial | None:
        """The entry for a decryption (only its age limits it)."""
        entry = self._entries.get(key)
        if entry is not None:
            now = self.monotonic()
            if now < entry.expires:
                entry.last_used = now
                return entry.material
            self._drop(key, entry)
        return None

    def put(self, key: CacheKey, material: DekMaterial) -> None:
        limits = self._limits
        entry = CacheEntry(material, self.monotonic(), limits.max_age_seconds, limits.max_bytes)
        with self._lock:
            old = self._entries.get(key)
            if old is not None:
                self._unindex(key, old)
            self._entries[key] = entry
            if material.encrypts_fields:
                self.index.setdefault(key[0], {})[_index_key(key, material)] = entry
            while len(self._entries) > self._limits.max_entries:
                oldest = min(self._entries, key=lambda k: self._entries[k].last_used)
                self._unindex(oldest, self._entries.pop(oldest))

    def drop(self, key: CacheKey) -> None:
        """Forget one entry (the next use loads the key again)."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._unindex(key, entry)

    def discard(self, key: CacheKey, material: DekMaterial) -> None:
        """Forget the entry of ``key`` if it still holds ``material``."""
        entry = self._entries.get(key)
        if entry is not None and entry.material is material:
            self._drop(key, entry)

    def _drop(self, key: CacheKey, entry: CacheEntry) -> None:
        with self._lock:
            if self._entries.get(key) is entry:
                del self._entries[key]
                self._unindex(key, entry)

    def _unindex(self, key: CacheKey, entry: CacheEntry) -> None:
        """Remove ``entry`` from ``index`` (the lock is held)."""
        views = self.index.get(key[0])
        if views is not None:
            ikey = _index_key(key, entry.material)
            if views.get(ikey) is entry:
                del views[ikey]
            if not views:
                del self.index[key[0]]

    def evict(self, tenant: TenantId, key_id: str | None = None) -> None:
        """Drop a tenant's entries (or one key id's), e.g. after rotation or shredding."""
        with self._lock:
            for key in [
                k for k in self._entries if k[0] == tenant and (key_id is None or k[1] == key_id)
            ]:
                self._unindex(key, self._entries.pop(key))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.index.clear()


def _index_key(key: CacheKey, material: DekMaterial) -> IndexKey:
    return key[1] if key[2] == 0 else material.field_header


__all__ = ["CacheEntry", "CacheKey", "CacheLimits", "DekCache", "IndexKey"]
