"""The DEK cache: unwrapped keys kept in memory within limits, like the AWS Encryption
SDK's caching materials manager.

An entry is dropped when it is older than ``max_age_seconds``, or, for
encryption, once it has protected ``max_messages`` values or ``max_bytes``
bytes; the capacity is bounded by ``max_entries`` (least recently used goes
first). A dropped entry costs one provider call to bring back.
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


class _Entry:
    __slots__ = ("bytes", "last_used", "loaded_at", "material", "messages")

    def __init__(self, material: DekMaterial, loaded_at: float) -> None:
        self.material = material
        self.loaded_at = loaded_at
        self.last_used = loaded_at
        self.messages = 0
        self.bytes = 0


class DekCache:
    """Never hands out an entry past its age; counts uses and bytes against the limits.

    Lookups take no lock (a dictionary read is atomic in CPython); inserts and
    evictions do. Under concurrent encryption the use and byte counters may
    undercount by at most the number of threads racing on one entry, so the
    message and byte limits are soft by that margin. The GCM nonce budget,
    which is a hard limit, is counted elsewhere, atomically (``DekMaterial``).
    """

    def __init__(
        self, limits: CacheLimits | None = None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits if limits is not None else CacheLimits()
        self._now = monotonic
        self._lock = threading.Lock()
        self._entries: dict[CacheKey, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def checkout(self, key: CacheKey, nbytes: int) -> DekMaterial | None:
        """The entry for an encryption of ``nbytes``, counted against its limits."""
        entry = self._entries.get(key)
        if entry is not None:
            limits = self.limits
            now = self._now()
            if (
                now - entry.loaded_at < limits.max_age_seconds
                and entry.messages < limits.max_messages
                and entry.bytes + nbytes <= limits.max_bytes
            ):
                entry.messages += 1
                entry.bytes += nbytes
                entry.last_used = now
                return entry.material
            self._drop(key, entry)
        return None

    def get(self, key: CacheKey) -> DekMaterial | None:
        """The entry for a decryption (only its age limits it)."""
        entry = self._entries.get(key)
        if entry is not None:
            now = self._now()
            if now - entry.loaded_at < self.limits.max_age_seconds:
                entry.last_used = now
                return entry.material
            self._drop(key, entry)
        return None

    def put(self, key: CacheKey, material: DekMaterial) -> None:
        with self._lock:
            self._entries[key] = _Entry(material, self._now())
            while len(self._entries) > self.limits.max_entries:
                oldest = min(self._entries, key=lambda k: self._entries[k].last_used)
                del self._entries[oldest]

    def _drop(self, key: CacheKey, entry: _Entry) -> None:
        with self._lock:
            if self._entries.get(key) is entry:
                del self._entries[key]

    def evict(self, tenant: TenantId, key_id: str | None = None) -> None:
        """Drop a tenant's entries (or one key id's), e.g. after rotation or shredding."""
        with self._lock:
            for key in [
                k for k in self._entries if k[0] == tenant and (key_id is None or k[1] == key_id)
            ]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


__all__ = ["CacheKey", "CacheLimits", "DekCache"]
