"""The keyring store: where wrapped keys, key metadata and card tokens persist.

``KeyringStore`` is the small protocol the vault needs; ``MemoryKeyringStore``
implements it in memory (tests, benchmarks, single-process tools). A store
never sees an unwrapped key. Every write is atomic on its own, and re-wrapping
uses compare-and-set so that a crashed or concurrent job leaves each DEK either
under its old KEK or under its new one, never in between.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from rempart.types import TenantId
from rempart.vault.errors import KeyStateConflict, UnknownKey
from rempart.vault.records import (
    DekRecord,
    KekRecord,
    KeyStatus,
    SubjectIndexRecord,
    TenantKeyring,
    TokenRecord,
)


@dataclass(frozen=True, slots=True)
class Rewrap:
    """One compare-and-set re-wrap: replace ``from_kek``'s wrapping with ``to_kek``'s."""

    key_id: str
    version: int
    from_kek: int
    to_kek: int
    wrapped: bytes


class KeyringStore(Protocol):
    # Tenants.
    def add_tenant(self, keyring: TenantKeyring) -> None:
        """Record a tenant's keyring; ``KeyStateConflict`` if it exists."""

    def get_tenant(self, tenant: TenantId) -> TenantKeyring | None: ...

    def mark_tenant_shredded(self, tenant: TenantId) -> None: ...

    # KEKs.
    def add_kek(self, kek: KekRecord) -> None:
        """``KeyStateConflict`` if that version exists."""

    def list_keks(self, tenant: TenantId) -> list[KekRecord]:
        """Every KEK version of the tenant, oldest first."""

    def set_kek_status(self, tenant: TenantId, version: int, status: KeyStatus) -> None: ...

    def settle_kek(
        self, tenant: TenantId, version: int, status: KeyStatus, key_ref: str | None = None
    ) -> bool:
        """Compare-and-set a PENDING KEK to ``status`` (and its handle, if given); False
        when it is no longer pending (confirmed, or abandoned by a recovery sweep)."""

    # DEKs.
    def add_dek(self, dek: DekRecord) -> None:
        """``KeyStateConflict`` if that key id and version exist."""

    def get_dek(self, tenant: TenantId, key_id: str, version: int) -> DekRecord | None: ...

    def active_dek(self, tenant: TenantId, key_id: str) -> DekRecord | None: ...

    def list_deks(self, tenant: TenantId, key_id: str | None = None) -> list[DekRecord]: ...

    def set_dek_status(
        self, tenant: TenantId, key_id: str, version: int, status: KeyStatus
    ) -> None:
        """Change a DEK's status; RETIRED and DESTROYED also wipe its wrapped bytes."""

    def deks_under_kek(self, tenant: TenantId, kek_version: int, limit: int) -> list[DekRecord]:
        """Up to ``limit`` usable DEKs still wrapped by ``kek_version``, in a stable order."""

    def count_deks_under_kek(self, tenant: TenantId, kek_version: int) -> int: ...

    def apply_rewraps(self, tenant: TenantId, rewraps: Sequence[Rewrap]) -> int:
        """Apply each re-wrap whose DEK is still under ``from_kek``; return how many applied."""

    def reserve_encryptions(self, tenant: TenantId, key_id: str, version: int, count: int) -> int:
        """Atomically add ``count`` to the DEK's encryption counter; return the new total."""

    def destroy_tenant_material(self, tenant: TenantId) -> None:
        """Wipe every wrapped DEK and token of the tenant (crypto-shredding)."""

    # Blind indexes of data subjects.
    def add_subject_index(self, record: SubjectIndexRecord) -> None:
        """Record (or replace) the entry of that subject, field, index and tag."""

    def find_subject_index(
        self, tenant: TenantId, field: str, index: str, tag: bytes
    ) -> list[SubjectIndexRecord]: ...

    def delete_subject_index(self, tenant: TenantId, subject: str) -> int:
        """Delete every entry of the subject; return how many."""

    # Card tokens.
    def add_token(self, token: TokenRecord) -> None: ...

    def get_token(self, tenant: TenantId, token: str) -> TokenRecord | None: ...

    def find_token(self, tenant: TenantId, lookup_hash: bytes) -> TokenRecord | None: ...

    def delete_token(self, tenant: TenantId, token: str) -> None: ...

    def delete_expired_tokens(self, tenant: TenantId, now: datetime) -> int: ...


_Key = tuple[TenantId, str, int]


class MemoryKeyringStore:
    """``KeyringStore`` in process memory, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tenants: dict[TenantId, TenantKeyring] = {}
        self._keks: dict[TenantId, dict[int, KekRecord]] = {}
        self._deks: dict[_Key, DekRecord] = {}
        self._active: dict[tuple[TenantId, str], int] = {}
        # (tenant, kek version) -> keys of usable DEKs wrapped by it, in insertion order.
        self._by_kek: dict[tuple[TenantId, int], dict[_Key, None]] = {}
        self._tokens: dict[tuple[TenantId, str], TokenRecord] = {}
        self._token_hashes: dict[tuple[TenantId, bytes], str] = {}
        self._subject_index: dict[tuple[TenantId, str, str, str, bytes], SubjectIndexRecord] = {}

    # Tenants.
    def add_tenant(self, keyring: TenantKeyring) -> None:
        with self._lock:
            if keyring.tenant in self._tenants:
                raise KeyStateConflict("tenant keyring exists")
            self._tenants[keyring.tenant] = keyring
            self._keks[keyring.tenant] = {}

    def get_tenant(self, tenant: TenantId) -> TenantKeyring | None:
        return self._tenants.get(tenant)

    def mark_tenant_shredded(self, tenant: TenantId) -> None:
        with self._lock:
            self._tenants[tenant] = replace(self._tenant(tenant), shredded=True)

    def _tenant(self, tenant: TenantId) -> TenantKeyring:
        found = self._tenants.get(tenant)
        if found is None:
            raise UnknownKey("no keyring for this tenant")
        return found

    # KEKs.
    def add_kek(self, kek: KekRecord) -> None:
        with self._lock:
            self._tenant(kek.tenant)
            keks = self._keks[kek.tenant]
            if kek.version in keks:
                raise KeyStateConflict("KEK version exists")
            keks[kek.version] = kek

    def list_keks(self, tenant: TenantId) -> list[KekRecord]:
        with self._lock:
            return sorted(self._keks.get(tenant, {}).values(), key=lambda k: k.version)

    def set_kek_status(self, tenant: TenantId, version: int, status: KeyStatus) -> None:
        with self._lock:
            keks = self._keks.get(tenant, {})
            if version not in keks:
                raise UnknownKey("no such KEK version")
            keks[version] = replace(keks[version], status=status)

    def settle_kek(
        self, tenant: TenantId, version: int, status: KeyStatus, key_ref: str | None = None
    ) -> bool:
        with self._lock:
            kek = self._keks.get(tenant, {}).get(version)
            if kek is None or kek.status is not KeyStatus.PENDING:
                return False
            self._keks[tenant][version] = replace(
                kek, status=status, key_ref=kek.key_ref if key_ref is None else key_ref
            )
            return True

    # DEKs.
    def add_dek(self, dek: DekRecord) -> None:
        key = (dek.tenant, dek.key_id, dek.version)
        with self._lock:
            self._tenant(dek.tenant)
            if key in self._deks:
                raise KeyStateConflict("DEK version exists")
            self._deks[key] = dek
            if dek.status is KeyStatus.ACTIVE:
                self._active[(dek.tenant, dek.key_id)] = dek.version
            if dek.status.usable:
                self._by_kek.setdefault((dek.tenant, dek.kek_version), {})[key] = None

    def get_dek(self, tenant: TenantId, key_id: str, version: int) -> DekRecord | None:
        return self._deks.get((tenant, key_id, version))

    def active_dek(self, tenant: TenantId, key_id: str) -> DekRecord | None:
        version = self._active.get((tenant, key_id))
        return None if version is None else self._deks.get((tenant, key_id, version))

    def list_deks(self, tenant: TenantId, key_id: str | None = None) -> list[DekRecord]:
        with self._lock:
            found = [
                d
                for (t, k, _), d in self._deks.items()
                if t == tenant and (key_id is None or k == key_id)
            ]
        return sorted(found, key=lambda d: (d.key_id, d.version))

    def set_dek_status(
        self, tenant: TenantId, key_id: str, version: int, status: KeyStatus
    ) -> None:
        key = (tenant, key_id, version)
        with self._lock:
            dek = self._deks.get(key)
            if dek is None:
                raise UnknownKey("no such DEK version")
            wrapped = dek.wrapped if status.usable else None
            self._deks[key] = replace(dek, status=status, wrapped=wrapped)
            if status is KeyStatus.ACTIVE:
                self._active[(tenant, key_id)] = version
            elif self._active.get((tenant, key_id)) == version:
                del self._active[(tenant, key_id)]
            if not status.usable:
                self._by_kek.get((tenant, dek.kek_version), {}).pop(key, None)

    def deks_under_kek(self, tenant: TenantId, kek_version: int, limit: int) -> list[DekRecord]:
        with self._lock:
            keys = self._by_kek.get((tenant, kek_version), {})
            out: list[DekRecord] = []
            for key in keys:
                if len(out) >= limit:
                    break
                out.append(self._deks[key])
            return out

    def count_deks_under_kek(self, tenant: TenantId, kek_version: int) -> int:
        with self._lock:
            return len(self._by_kek.get((tenant, kek_version), {}))

    def apply_rewraps(self, tenant: TenantId, rewraps: Sequence[Rewrap]) -> int:
        applied = 0
        with self._lock:
            for rw in rewraps:
                key = (tenant, rw.key_id, rw.version)
                dek = self._deks.get(key)
                if dek is None or not dek.status.usable or dek.kek_version != rw.from_kek:
                    continue
                self._deks[key] = replace(dek, kek_version=rw.to_kek, wrapped=rw.wrapped)
                self._by_kek.get((tenant, rw.from_kek), {}).pop(key, None)
                self._by_kek.setdefault((tenant, rw.to_kek), {})[key] = None
                applied += 1
        return applied

    def reserve_encryptions(self, tenant: TenantId, key_id: str, version: int, count: int) -> int:
        key = (tenant, key_id, version)
        with self._lock:
            dek = self._deks.get(key)
            if dek is None:
                raise UnknownKey("no such DEK version")
            total = dek.encryptions + count
            self._deks[key] = replace(dek, encryptions=total)
            return total

    def destroy_tenant_material(self, tenant: TenantId) -> None:
        with self._lock:
            for key, dek in list(self._deks.items()):
                if key[0] == tenant:
                    self._deks[key] = replace(dek, status=KeyStatus.DESTROYED, wrapped=None)
            for akey in [a for a in self._active if a[0] == tenant]:
                del self._active[akey]
            for bkey in [b for b in self._by_kek if b[0] == tenant]:
                del self._by_kek[bkey]
            for tkey in [t for t in self._tokens if t[0] == tenant]:
                self._delete_token(tkey)
            for skey in [k for k in self._subject_index if k[0] == tenant]:
                del self._subject_index[skey]

    # Blind indexes of data subjects.
    def add_subject_index(self, record: SubjectIndexRecord) -> None:
        key = (record.tenant, record.subject, record.field, record.index, record.tag)
        with self._lock:
            self._tenant(record.tenant)
            self._subject_index[key] = record

    def find_subject_index(
        self, tenant: TenantId, field: str, index: str, tag: bytes
    ) -> list[SubjectIndexRecord]:
        with self._lock:
            return [
                r
                for (t, _, f, i, g), r in self._subject_index.items()
                if t == tenant and f == field and i == index and g == tag
            ]

    def delete_subject_index(self, tenant: TenantId, subject: str) -> int:
        with self._lock:
            keys = [k for k in self._subject_index if k[0] == tenant and k[1] == subject]
            for key in keys:
                del self._subject_index[key]
            return len(keys)

    # Card tokens.
    def add_token(self, token: TokenRecord) -> None:
        with self._lock:
            key = (token.tenant, token.token)
            if key in self._tokens or (token.tenant, token.lookup_hash) in self._token_hashes:
                raise KeyStateConflict("token exists")
            self._tokens[key] = token
            self._token_hashes[(token.tenant, token.lookup_hash)] = token.token

    def get_token(self, tenant: TenantId, token: str) -> TokenRecord | None:
        return self._tokens.get((tenant, token))

    def find_token(self, tenant: TenantId, lookup_hash: bytes) -> TokenRecord | None:
        with self._lock:
            token = self._token_hashes.get((tenant, lookup_hash))
            return None if token is None else self._tokens.get((tenant, token))

    def delete_token(self, tenant: TenantId, token: str) -> None:
        with self._lock:
            self._delete_token((tenant, token))

    def delete_expired_tokens(self, tenant: TenantId, now: datetime) -> int:
        with self._lock:
            expired = [k for k, t in self._tokens.items() if k[0] == tenant and t.expires_at <= now]
            for key in expired:
                self._delete_token(key)
            return len(expired)

    def _delete_token(self, key: tuple[TenantId, str]) -> None:
        record = self._tokens.pop(key, None)
        if record is not None:
            self._token_hashes.pop((record.tenant, record.lookup_hash), None)


__all__ = ["KeyringStore", "MemoryKeyringStore", "Rewrap"]
