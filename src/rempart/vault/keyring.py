"""The key hierarchy: per-tenant KEKs in a key provider, DEKs wrapped by them.

``Keyring`` creates, finds, caches, rotates, re-wraps, retires and shreds keys.
It hands ``DekMaterial`` to the ciphers of this package; nothing else sees an
unwrapped key.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from rempart.errors import CryptoError
from rempart.types import Clock, TenantId, utc_now
from rempart.vault.cache import CacheKey, CacheLimits, DekCache
from rempart.vault.errors import KeyStateConflict, ProviderUnavailable, UnknownKey
from rempart.vault.events import VaultAction, VaultEvent, VaultEventSink, discard_events
from rempart.vault.format import lp
from rempart.vault.hazmat import generate_key
from rempart.vault.material import DekMaterial
from rempart.vault.providers.base import KeyProvider
from rempart.vault.records import (
    DATA_KEY,
    INDEX_KEY,
    SUBJECT_PREFIX,
    DekRecord,
    KekRecord,
    KeyStatus,
    TenantKeyring,
    subject_key_id,
)
from rempart.vault.store import KeyringStore, Rewrap

_U32 = struct.Struct(">I")
GCM_RANDOM_NONCE_LIMIT = 1 << 32
"""NIST SP 800-38D: at most 2^32 encryptions with random 96-bit nonces per key."""


@dataclass(frozen=True, slots=True)
class RewrapProgress:
    tenant: TenantId
    target_kek: int
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class RewrapReport:
    tenant: TenantId
    target_kek: int
    rewrapped: int
    remaining: int
    seconds: float


def wrap_aad(tenant: TenantId, key_id: str, version: int, kek_version: int) -> bytes:
    """Associated data of a DEK wrapping: which tenant, key id, DEK and KEK version."""
    return b"".join(
        (
            b"rempart/vault/v1/dek-wrap",
            lp(tenant.encode()),
            lp(key_id.encode()),
            _U32.pack(version),
            _U32.pack(kek_version),
        )
    )


class Keyring:
    """Per-tenant key management over a ``KeyringStore`` and named ``KeyProvider``s."""

    def __init__(
        self,
        store: KeyringStore,
        providers: Iterable[KeyProvider],
        *,
        default_provider: str | None = None,
        cache: DekCache | None = None,
        clock: Clock = utc_now,
        on_event: VaultEventSink = discard_events,
        rotate_after_encryptions: int = 1 << 31,
        reservation_block: int = 4096,
    ) -> None:
        self.store = store
        self.providers: Mapping[str, KeyProvider] = {p.name: p for p in providers}
        if not self.providers:
            raise ValueError("at least one key provider is needed")
        self.default_provider = default_provider or next(iter(self.providers))
        if self.default_provider not in self.providers:
            raise ValueError(f"unknown default provider: {self.default_provider}")
        if not 1 <= rotate_after_encryptions <= GCM_RANDOM_NONCE_LIMIT - reservation_block:
            raise ValueError("rotate_after_encryptions must stay below 2^32")
        if reservation_block < 1:
            raise ValueError("reservation_block must be positive")
        self.cache = cache if cache is not None else DekCache(CacheLimits())
        self.clock = clock
        self.on_event = on_event
        self.rotate_after_encryptions = rotate_after_encryptions
        self.reservation_block = reservation_block
        self._lock = threading.RLock()
        self._load_locks: dict[CacheKey, threading.Lock] = {}
        self.provider_calls = 0

    def provider(self, name: str) -> KeyProvider:
        """The provider of that name; ``ProviderUnavailable`` when it is not configured."""
        found = self.providers.get(name)
        if found is None:
            raise ProviderUnavailable(f"key provider {name!r} is not configured")
        return found

    # Tenants.
    def create_tenant(self, tenant: TenantId, *, provider: str | None = None) -> TenantKeyring:
        """Create the tenant's KEK v1, data key v1 and index key v1.

        A creation interrupted by a crash (keyring recorded, KEK or keys missing) is
        resumed: its abandoned KEK intent is swept (``recover``) and the missing keys
        are made. A complete keyring is ``KeyStateConflict``.
        """
        name = provider or self.default_provider
        if name not in self.providers:
            raise UnknownKey(f"unknown key provider: {name}")
        existing = self.store.get_tenant(tenant)
        if existing is not None:
            return self._resume_tenant(existing)
        keyring = TenantKeyring(tenant, name, self.clock())
        self.store.add_tenant(keyring)
        self._new_kek(keyring, 1)
        self._emit(VaultAction.TENANT_CREATED, tenant, details={"provider": name})
        for key_id in (DATA_KEY, INDEX_KEY):
            self._new_dek(tenant, key_id, 1)
        return keyring

    def is_complete(self, tenant: TenantId) -> bool:
        """Whether the tenant's keyring is usable as created (or shredded): an active KEK
        and active data and index keys. False after a creation a crash interrupted."""
        keyring = self.tenant(tenant)
        if keyring.shredded:
            return True
        return any(k.status is KeyStatus.ACTIVE for k in self.store.list_keks(tenant)) and all(
            self.store.active_dek(tenant, k) is not None for k in (DATA_KEY, INDEX_KEY)
        )

    def _resume_tenant(self, keyring: TenantKeyring) -> TenantKeyring:
        tenant = keyring.tenant
        with self._lock:
            keks = self.store.list_keks(tenant)
            missing = [k for k in (DATA_KEY, INDEX_KEY) if self.store.active_dek(tenant, k) is None]
            has_active = any(k.status is KeyStatus.ACTIVE for k in keks)
            if keyring.shredded or (has_active and not missing):
                raise KeyStateConflict("tenant keyring exists")
            if not has_active:
                self.recover(tenant)
                keks = self.store.list_keks(tenant)
                if any(k.status is KeyStatus.PENDING for k in keks):
                    raise KeyStateConflict("the tenant's KEK is being created; retry later")
                self._new_kek(keyring, max((k.version for k in keks), default=0) + 1)
                self._emit(
                    VaultAction.TENANT_CREATED,
                    tenant,
                    details={"provider": keyring.provider, "resumed": "true"},
                )
            for key_id in missing:
                self._new_dek(tenant, key_id, None)
            return keyring

    def tenant(self, tenant: TenantId) -> TenantKeyring:
        found = self.store.get_tenant(tenant)
        if found is None:
            raise UnknownKey("no keyring for this tenant")
        return found

    def has_tenant(self, tenant: TenantId) -> bool:
        found = self.store.get_tenant(tenant)
        return found is not None and not found.shredded

    # Keys for the ciphers.
    def encryption_key(self, tenant: TenantId, key_id: str, nbytes: int) -> DekMaterial:
        """The active DEK of ``key_id``, counted against the cache and GCM limits.

        A subject key is created on first use; other missing keys are ``UnknownKey``.
        """
        material = self.cache.checkout((tenant, key_id, 0), nbytes)
        if material is None:
            loaded = self._load_active(tenant, key_id)
            # Count this first use against the fresh entry's limits too.
            material = self.cache.checkout((tenant, key_id, 0), nbytes) or loaded
        # A fresh copy has no budget yet: grant it first, without spending a count.
        if material.budget == 0 or not material.take_encryption():
            material = self._extend_budget(material)
        return material

    def active_key(self, tenant: TenantId, key_id: str = INDEX_KEY) -> DekMaterial:
        """The active DEK of a key used for derivation only (no GCM budget is taken)."""
        material = self.cache.get((tenant, key_id, 0))
        return material if material is not None else self._load_active(tenant, key_id)

    def decryption_key(self, tenant: TenantId, key_id: str, version: int) -> DekMaterial:
        """A usable DEK version; anything else is the opaque ``CryptoError``."""
        material = self.cache.get((tenant, key_id, version))
        if material is not None:
            return material
        with self._load_lock((tenant, key_id, version)):
            material = self.cache.get((tenant, key_id, version))
            if material is None:
                dek = self.store.get_dek(tenant, key_id, version)
                if dek is None or not dek.status.usable:
                    raise CryptoError()
                material = self._unwrap(dek)
                self.cache.put((tenant, key_id, version), material)
        return material

    def _load_active(self, tenant: TenantId, key_id: str) -> DekMaterial:
        with self._load_lock((tenant, key_id, 0)):
            material = self.cache.get((tenant, key_id, 0))
            if material is not None:
                return material
            dek = self.store.active_dek(tenant, key_id)
            if dek is None:
                if not key_id.startswith(SUBJECT_PREFIX):
                    raise UnknownKey("no active key of this id for this tenant")
                # A new subject key: its material is in hand, no unwrap round trip
                # (one provider call and two store reads fewer per new customer).
                dek, raw = self._create_dek(tenant, key_id, None)
                material = DekMaterial(tenant, key_id, dek.version, raw)
            else:
                material = self._unwrap(dek)
            self.cache.put((tenant, key_id, 0), material)
            self.cache.put((tenant, key_id, dek.version), material)
            return material

    def _unwrap(self, dek: DekRecord) -> DekMaterial:
        keyring = self.store.get_tenant(dek.tenant)
        if keyring is None or keyring.shredded or dek.wrapped is None:
            raise CryptoError()
        kek = self._kek(dek.tenant, dek.kek_version)
        if kek is None or not kek.status.usable:
            raise CryptoError()
        self.provider_calls += 1
        raw = self.provider(kek.provider).unwrap(
            kek.key_ref, dek.wrapped, wrap_aad(dek.tenant, dek.key_id, dek.version, kek.version)
        )
        return DekMaterial(dek.tenant, dek.key_id, dek.version, raw)

    def _extend_budget(self, material: DekMaterial) -> DekMaterial:
        """Grant more GCM encryptions to a cached copy of a DEK (reserved in the store),
        rotating the DEK before the GCM limit is reached; a copy that has been granted
        the cache's message limit is replaced by a fresh one (one provider call)."""
        with self._lock:
            if material.budget and material.take_encryption():
                return material
            tenant, key_id = material.tenant, material.key_id
            room = self.cache.limits.max_messages - material.budget
            if room <= 0:
                self.cache.discard((tenant, key_id, 0), material)
                return self._extend_budget(self._load_active(tenant, key_id))
            block = min(self.reservation_block, room)
            total = self.store.reserve_encryptions(tenant, key_id, material.version, block)
            # Grant only what stays within the limit; nothing left means rotate first.
            granted = min(block, self.rotate_after_encryptions - (total - block))
            if granted > 0:
                material.add_budget(granted)
            else:
                active = self.store.active_dek(tenant, key_id)
                if active is not None and active.version == material.version:
                    self.rotate_dek(tenant, key_id, reason="gcm-usage-limit")
                else:
                    self.cache.evict(tenant, key_id)
                return self._extend_budget(self._load_active(tenant, key_id))
            if not material.take_encryption():
                return self._extend_budget(material)
            return material

    def _load_lock(self, key: CacheKey) -> threading.Lock:
        with self._lock:
            return self._load_locks.setdefault(key, threading.Lock())

    # KEKs and DEKs.
    def _kek(self, tenant: TenantId, version: int) -> KekRecord | None:
        for kek in self.store.list_keks(tenant):
            if kek.version == version:
                return kek
        return None

    def active_kek(self, tenant: TenantId) -> KekRecord:
        active = [k for k in self.store.list_keks(tenant) if k.status is KeyStatus.ACTIVE]
        if not active:
            raise UnknownKey("tenant has no active KEK")
        return active[-1]

    def _new_kek(self, keyring: TenantKeyring, version: int) -> KekRecord:
        """Intent, creation, confirmation: a crash at any point leaves a PENDING record
        that ``recover`` can find, so a key made in the provider is never lost track of."""
        provider = self.provider(keyring.provider)
        created_at = self.clock()
        # 1. The intent, before the provider makes anything.
        self.store.add_kek(
            KekRecord(keyring.tenant, version, provider.name, "", KeyStatus.PENDING, created_at)
        )
        # 2. The key (a KMS key is tagged with tenant and version, so it can be found).
        self.provider_calls += 1
        key_ref = provider.create_kek(keyring.tenant, version)
        # 3. The confirmation, compare-and-set: a sweep that abandoned the intent meanwhile
        # wins, and the key it destroys is never used.
        if not self.store.settle_kek(keyring.tenant, version, KeyStatus.ACTIVE, key_ref):
            raise KeyStateConflict("KEK creation was abandoned by a recovery sweep; retry")
        kek = KekRecord(
            keyring.tenant, version, provider.name, key_ref, KeyStatus.ACTIVE, created_at
        )
        self._emit(
            VaultAction.KEK_CREATED,
            keyring.tenant,
            version=version,
            details={"provider": provider.name},
        )
        return kek

    def _new_dek(
        self, tenant: TenantId, key_id: str, version: int | None, reason: str = "created"
    ) -> DekRecord:
        return self._create_dek(tenant, key_id, version, reason)[0]

    def _create_dek(
        self, tenant: TenantId, key_id: str, version: int | None, reason: str = "created"
    ) -> tuple[DekRecord, bytes]:
        """A new DEK version, wrapped and stored; the record and its raw key."""
        keyring = self.tenant(tenant)
        if keyring.shredded:
            raise KeyStateConflict("tenant keys were shredded")
        if version is None:
            version = max((d.version for d in self.store.list_deks(tenant, key_id)), default=0) + 1
        kek = self.active_kek(tenant)
        raw = generate_key()
        self.provider_calls += 1
        wrapped = self.provider(kek.provider).wrap(
            kek.key_ref, raw, wrap_aad(tenant, key_id, version, kek.version)
        )
        dek = DekRecord(
            tenant, key_id, version, kek.version, wrapped, KeyStatus.ACTIVE, self.clock()
        )
        self.store.add_dek(dek)
        self._emit(
            VaultAction.DEK_CREATED,
            tenant,
            key_id=key_id,
            version=version,
            details={"reason": reason},
        )
        return dek, raw

    def recover(
        self, tenant: TenantId, *, older_than: timedelta = timedelta(minutes=15)
    ) -> list[int]:
        """The recovery sweep: abandon KEK intents older than ``older_than`` that were
        never confirmed (a crash between recording the intent and confirming), and
        destroy whatever key the provider made for them (KMS: disabled and scheduled
        for deletion). Returns the abandoned versions.

        An intent is first settled as DESTROYED (compare-and-set), then the provider's
        keys for that tenant and version are destroyed, so a creator still running
        cannot confirm and use a key the sweep destroys. The grace period keeps the
        sweep away from creations in progress. A rotation interrupted after its
        confirmation (two active KEKs) is finished: older active KEKs become
        decrypt-only.
        """
        now = self.clock()
        abandoned: list[int] = []
        keks = self.store.list_keks(tenant)
        # A rotation that crashed after confirming its new KEK but before demoting the
        # old one leaves two active KEKs: the newest wins, the others only unwrap.
        active = [k for k in keks if k.status is KeyStatus.ACTIVE]
        for old in active[:-1]:
            self.store.set_kek_status(tenant, old.version, KeyStatus.DECRYPT_ONLY)
        for kek in keks:
            if kek.status is not KeyStatus.PENDING or now - kek.created_at < older_than:
                continue
            if not self.store.settle_kek(tenant, kek.version, KeyStatus.DESTROYED):
                continue  # confirmed or swept by someone else meanwhile
            self._destroy_orphans(kek)
            abandoned.append(kek.version)
        return abandoned

    def _destroy_orphans(self, kek: KekRecord) -> int:
        provider = self.provider(kek.provider)
        refs = provider.find_keks(kek.tenant, kek.version)
        for ref in refs:
            provider.destroy_kek(ref)
        self._emit(
            VaultAction.KEK_ABANDONED,
            kek.tenant,
            version=kek.version,
            details={"provider": kek.provider, "orphans_destroyed": str(len(refs))},
        )
        return len(refs)

    # Rotation.
    def rotate_dek(
        self, tenant: TenantId, key_id: str = DATA_KEY, *, reason: str = "manual"
    ) -> DekRecord:
        """A new active version of ``key_id``; older versions keep decrypting until retired."""
        with self._lock:
            previous = self.store.active_dek(tenant, key_id)
            if previous is None and not key_id.startswith(SUBJECT_PREFIX):
                raise UnknownKey("no active key of this id for this tenant")
            dek = self._new_dek(tenant, key_id, None, reason)
            for old in self.store.list_deks(tenant, key_id):
                if old.version != dek.version and old.status is KeyStatus.ACTIVE:
                    self.store.set_dek_status(tenant, key_id, old.version, KeyStatus.DECRYPT_ONLY)
            self.cache.evict(tenant, key_id)
            return dek

    def rotate_kek(self, tenant: TenantId) -> KekRecord:
        """A new active KEK; run ``rewrap`` to move DEKs under it."""
        with self._lock:
            keyring = self.tenant(tenant)
            if keyring.shredded:
                raise KeyStateConflict("tenant keys were shredded")
            self.recover(tenant)  # an earlier rotation's crash leaves an intent to sweep
            keks = self.store.list_keks(tenant)
            kek = self._new_kek(keyring, max((k.version for k in keks), default=0) + 1)
            for old in keks:
                if old.status is KeyStatus.ACTIVE:
                    self.store.set_kek_status(tenant, old.version, KeyStatus.DECRYPT_ONLY)
            return kek

    def rotate_due(
        self, tenant: TenantId, *, dek_max_age: timedelta, kek_max_age: timedelta | None = None
    ) -> list[str]:
        """Scheduled rotation: rotate the data key (and KEK) when older than the limits."""
        now = self.clock()
        done: list[str] = []
        if kek_max_age is not None and now - self.active_kek(tenant).created_at >= kek_max_age:
            self.rotate_kek(tenant)
            self.rewrap(tenant)
            done.append("kek")
        data = self.store.active_dek(tenant, DATA_KEY)
        if data is not None and now - data.created_at >= dek_max_age:
            self.rotate_dek(tenant, DATA_KEY, reason="schedule")
            done.append(DATA_KEY)
        return done

    def rewrap(
        self,
        tenant: TenantId,
        *,
        batch_size: int = 1000,
        progress: Callable[[RewrapProgress], None] | None = None,
        max_batches: int | None = None,
    ) -> RewrapReport:
        """Move every usable DEK under the active KEK, in batches.

        Each batch is one atomic compare-and-set in the store, so a job that stops
        (crash, ``max_batches``) leaves every DEK under its old or its new KEK, both
        usable; running it again resumes where it stopped.
        """
        started = time.perf_counter()
        target = self.active_kek(tenant)
        target_provider = self.provider(target.provider)
        old_keks = [
            k
            for k in self.store.list_keks(tenant)
            if k.version != target.version and k.status.usable
        ]
        total = sum(self.store.count_deks_under_kek(tenant, k.version) for k in old_keks)
        done = batches = 0
        for old in old_keks:
            old_provider = self.provider(old.provider)
            while max_batches is None or batches < max_batches:
                deks = self.store.deks_under_kek(tenant, old.version, batch_size)
                if not deks:
                    break
                rewraps = []
                for dek in deks:
                    if dek.wrapped is None:  # pragma: no cover - the store lists usable DEKs
                        continue
                    raw = old_provider.unwrap(
                        old.key_ref,
                        dek.wrapped,
                        wrap_aad(tenant, dek.key_id, dek.version, old.version),
                    )
                    wrapped = target_provider.wrap(
                        target.key_ref,
                        raw,
                        wrap_aad(tenant, dek.key_id, dek.version, target.version),
                    )
                    rewraps.append(
                        Rewrap(dek.key_id, dek.version, old.version, target.version, wrapped)
                    )
                self.provider_calls += 2 * len(rewraps)
                done += self.store.apply_rewraps(tenant, rewraps)
                batches += 1
                if progress is not None:
                    progress(RewrapProgress(tenant, target.version, done, total))
        remaining = sum(self.store.count_deks_under_kek(tenant, k.version) for k in old_keks)
        if remaining == 0:
            self._emit(
                VaultAction.REWRAP_COMPLETED,
                tenant,
                version=target.version,
                details={"rewrapped": str(done)},
            )
        return RewrapReport(tenant, target.version, done, remaining, time.perf_counter() - started)

    def retire_dek(self, tenant: TenantId, key_id: str, version: int) -> None:
        """Stop a DEK version for good (its wrapped key is wiped); not the active one."""
        with self._lock:
            dek = self.store.get_dek(tenant, key_id, version)
            if dek is None:
                raise UnknownKey("no such DEK version")
            if dek.status is KeyStatus.ACTIVE:
                raise KeyStateConflict("rotate before retiring the active key version")
            self.store.set_dek_status(tenant, key_id, version, KeyStatus.RETIRED)
            self.cache.evict(tenant, key_id)
            self._emit(VaultAction.DEK_RETIRED, tenant, key_id=key_id, version=version)

    def retire_kek(self, tenant: TenantId, version: int) -> None:
        """Destroy an old KEK in its provider once no DEK is wrapped by it any more."""
        with self._lock:
            kek = self._kek(tenant, version)
            if kek is None:
                raise UnknownKey("no such KEK version")
            if kek.status is KeyStatus.ACTIVE:
                raise KeyStateConflict("rotate before retiring the active KEK")
            if kek.status is KeyStatus.PENDING:
                raise KeyStateConflict("KEK creation unconfirmed: 'recover' sweeps it")
            if self.store.count_deks_under_kek(tenant, version):
                raise KeyStateConflict("DEKs are still wrapped by this KEK: re-wrap first")
            self.provider(kek.provider).destroy_kek(kek.key_ref)
            self.store.set_kek_status(tenant, version, KeyStatus.RETIRED)
            self._emit(VaultAction.KEK_RETIRED, tenant, version=version)

    # Crypto-shredding.
    def shred_tenant(self, tenant: TenantId, *, reason: str) -> None:
        """Destroy every key of the tenant: wrapped DEKs, tokens, then the KEKs themselves.

        Idempotent: a call interrupted by an unreachable provider can be repeated.
        """
        with self._lock:
            self.tenant(tenant)
            self.store.mark_tenant_shredded(tenant)
            self.cache.evict(tenant)
            self.store.destroy_tenant_material(tenant)
            for kek in self.store.list_keks(tenant):
                if kek.status is KeyStatus.PENDING:
                    # An unconfirmed creation: whatever the provider made goes too.
                    if self.store.settle_kek(tenant, kek.version, KeyStatus.DESTROYED):
                        self._destroy_orphans(kek)
                elif kek.status is not KeyStatus.DESTROYED:
                    self.provider(kek.provider).destroy_kek(kek.key_ref)
                    self.store.set_kek_status(tenant, kek.version, KeyStatus.DESTROYED)
            self._emit(VaultAction.TENANT_SHREDDED, tenant, details={"reason": reason})

    def shred_subject(
        self, tenant: TenantId, subject: str, *, reason: str, indexes_purged: int = 0
    ) -> int:
        """Destroy every version of a data subject's key; return how many were destroyed."""
        key_id = subject_key_id(subject)
        with self._lock:
            destroyed = 0
            for dek in self.store.list_deks(tenant, key_id):
                if dek.status is not KeyStatus.DESTROYED:
                    self.store.set_dek_status(tenant, key_id, dek.version, KeyStatus.DESTROYED)
                    destroyed += 1
            self.cache.evict(tenant, key_id)
            self._emit(
                VaultAction.SUBJECT_SHREDDED,
                tenant,
                key_id=key_id,
                details={
                    "reason": reason,
                    "versions": str(destroyed),
                    "indexes_purged": str(indexes_purged),
                },
            )
            return destroyed

    def _emit(
        self,
        action: VaultAction,
        tenant: TenantId,
        *,
        key_id: str | None = None,
        version: int | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        self.on_event(
            VaultEvent(action, tenant, self.clock(), key_id, version, dict(details or {}))
        )

    def emit(
        self, action: VaultAction, tenant: TenantId, *, details: Mapping[str, str] | None = None
    ) -> None:
        """Report an event on behalf of a cipher of this package (tokenization)."""
        self._emit(action, tenant, details=details)


__all__ = ["GCM_RANDOM_NONCE_LIMIT", "Keyring", "RewrapProgress", "RewrapReport", "wrap_aad"]
