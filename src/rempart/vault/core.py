"""``Vault``: the one object the rest of Rempart uses for keys and ciphertext."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from rempart.config import Settings, ensure_data_dir
from rempart.errors import CryptoError
from rempart.types import Clock, TenantId, utc_now
from rempart.vault.cache import CacheLimits, DekCache
from rempart.vault.events import VaultEventSink, discard_events
from rempart.vault.fields import FieldCipher
from rempart.vault.format import FieldContext
from rempart.vault.hazmat import constant_time_equal
from rempart.vault.keyring import Keyring
from rempart.vault.lookup import Normalizer, normalize_text, subject_verifier
from rempart.vault.lookup import blind_index as _blind_index
from rempart.vault.lookup import pseudonym as _pseudonym
from rempart.vault.providers.base import KeyProvider
from rempart.vault.providers.local import DEFAULT_FILE_NAME, LocalKeyFileProvider
from rempart.vault.records import (
    DATA_KEY,
    INDEX_KEY,
    SubjectIndexRecord,
    TenantKeyring,
    subject_key_id,
)
from rempart.vault.store import KeyringStore, MemoryKeyringStore
from rempart.vault.stream import DEFAULT_CHUNK_SIZE, decrypt_stream, encrypt_stream
from rempart.vault.tokens import CardToken, CardTokenizer, DetokenizePermission


class SubjectIndexHolder(Protocol):
    """Anything outside the vault that stores blind indexes of data subjects' values.

    Registered with ``Vault.register_subject_index``; ``shred_subject`` calls
    ``purge_subject`` before it destroys the subject's key, so the holder deletes
    (or nulls) every index entry of that subject. It must be idempotent; if it
    raises, the shredding stops before any key is destroyed and can be repeated.
    """

    def purge_subject(self, tenant: TenantId, subject: str) -> int:
        """Delete the subject's index entries; return how many."""
        ...


class Vault(FieldCipher):
    """Encrypt, decrypt, index, pseudonymise, tokenize, rotate and shred, per tenant.

    Key management (rotation, re-wrap, retirement, shredding) is on ``vault.keys``.
    Field encryption (``encrypt_field``, ``decrypt_field``, ``encrypt_many``,
    ``decrypt_many``) is inherited from ``FieldCipher``, so that the hot path is
    one plain method call.
    """

    def __init__(
        self,
        store: KeyringStore,
        providers: Iterable[KeyProvider],
        *,
        default_provider: str | None = None,
        cache_limits: CacheLimits | None = None,
        clock: Clock = utc_now,
        on_event: VaultEventSink = discard_events,
        rotate_after_encryptions: int = 1 << 31,
        monotonic: Callable[[], float] = time.monotonic,
        detokenize_permission: DetokenizePermission | None = None,
    ) -> None:
        self.keys = Keyring(
            store,
            providers,
            default_provider=default_provider,
            cache=DekCache(cache_limits, monotonic=monotonic),
            clock=clock,
            on_event=on_event,
            rotate_after_encryptions=rotate_after_encryptions,
        )
        FieldCipher.__init__(self, self.keys)
        self.fields: FieldCipher = self
        self.cards = CardTokenizer(self.keys, store, self.fields, permission=detokenize_permission)
        self._index_holders: list[SubjectIndexHolder] = []

    def __repr__(self) -> str:
        return f"Vault(providers={sorted(self.keys.providers)!r})"

    # Tenants.
    def create_tenant(self, tenant: TenantId, *, provider: str | None = None) -> TenantKeyring:
        return self.keys.create_tenant(tenant, provider=provider)

    def ensure_tenant(self, tenant: TenantId, *, provider: str | None = None) -> TenantKeyring:
        found = self.keys.store.get_tenant(tenant)
        return found if found is not None else self.create_tenant(tenant, provider=provider)

    def reencrypt_field(self, ctx: FieldContext, ciphertext: bytes) -> bytes:
        return self.reencrypt(ctx, ciphertext)

    # Lookups.
    def blind_index(
        self,
        tenant: TenantId,
        field: str,
        value: str,
        *,
        index: str = "exact",
        length: int = 16,
        normalizer: Normalizer = normalize_text,
    ) -> bytes:
        key = self.keys.active_key(tenant, INDEX_KEY)
        return _blind_index(key, field, value, index=index, length=length, normalizer=normalizer)

    def register_subject_index(self, holder: SubjectIndexHolder) -> None:
        """Have ``shred_subject`` purge the subject's entries from ``holder`` too."""
        self._index_holders.append(holder)

    def index_subject(
        self,
        tenant: TenantId,
        subject: str,
        field: str,
        value: str,
        *,
        index: str = "exact",
        length: int = 16,
        normalizer: Normalizer = normalize_text,
    ) -> bytes:
        """Record a blind index of one of a data subject's values, for ``find_subjects``.

        The entry holds the blind index (tenant index key) and a verifier under the
        subject's own key; ``shred_subject`` deletes the entries, and a copy that
        survives (a backup) no longer verifies once the subject's key is destroyed.
        Returns the blind index.
        """
        key_id = subject_key_id(subject)
        tag = self.blind_index(
            tenant, field, value, index=index, length=length, normalizer=normalizer
        )
        subject_key = self.keys.active_key(tenant, key_id)
        verifier = subject_verifier(subject_key, field, value, index=index, normalizer=normalizer)
        self.keys.store.add_subject_index(
            SubjectIndexRecord(
                tenant, subject, field, index, tag, verifier, subject_key.version, self.keys.clock()
            )
        )
        return tag

    def find_subjects(
        self,
        tenant: TenantId,
        field: str,
        value: str,
        *,
        index: str = "exact",
        length: int = 16,
        normalizer: Normalizer = normalize_text,
    ) -> list[str]:
        """The data subjects whose indexed ``field`` has this value (exact match).

        An entry counts only if its verifier is recomputed under the subject's live
        key: after crypto-shredding, nothing of the subject is found, even from
        entries restored from a backup. Loads each candidate subject's key (cached).
        """
        tag = self.blind_index(
            tenant, field, value, index=index, length=length, normalizer=normalizer
        )
        found: list[str] = []
        for entry in self.keys.store.find_subject_index(tenant, field, index, tag):
            try:
                key = self.keys.decryption_key(
                    tenant, subject_key_id(entry.subject), entry.key_version
                )
            except CryptoError:
                continue  # shredded or retired: the entry is meaningless
            expected = subject_verifier(key, field, value, index=index, normalizer=normalizer)
            if constant_time_equal(expected, entry.verifier) and entry.subject not in found:
                found.append(entry.subject)
        return sorted(found)

    def pseudonym(
        self,
        tenant: TenantId,
        value: str | bytes,
        *,
        domain: str = "default",
        normalizer: Normalizer | None = None,
    ) -> str:
        """A stable keyed pseudonym of ``value`` within the tenant (and domain)."""
        if normalizer is not None:
            value = normalizer(value if isinstance(value, str) else value.decode())
        return _pseudonym(self.keys.active_key(tenant, INDEX_KEY), value, domain=domain)

    # Large objects.
    def encrypt_stream(
        self,
        ctx: FieldContext,
        src: BinaryIO,
        dst: BinaryIO,
        *,
        subject: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> int:
        key_id = DATA_KEY if subject is None else subject_key_id(subject)
        return encrypt_stream(self.keys, ctx, src, dst, key_id=key_id, chunk_size=chunk_size)

    def decrypt_stream(self, ctx: FieldContext, src: BinaryIO, dst: BinaryIO) -> int:
        return decrypt_stream(self.keys, ctx, src, dst)

    # Cards.
    def tokenize_card(
        self, tenant: TenantId, pan: str, *, expires_at: datetime, keep_last_four: bool = False
    ) -> CardToken:
        return self.cards.tokenize(
            tenant, pan, expires_at=expires_at, keep_last_four=keep_last_four
        )

    def detokenize_card(self, tenant: TenantId, token: str, *, actor: str, reason: str) -> str:
        return self.cards.detokenize(tenant, token, actor=actor, reason=reason)

    # Shredding.
    def shred_tenant(self, tenant: TenantId, *, reason: str) -> None:
        self.keys.shred_tenant(tenant, reason=reason)

    def shred_subject(self, tenant: TenantId, subject: str, *, reason: str) -> int:
        """Destroy every version of the subject's key, after deleting the subject's blind
        indexes (the vault's own and every registered holder's); return the number of
        key versions destroyed. Idempotent."""
        subject_key_id(subject)  # validates the subject id before anything changes
        purged = sum(holder.purge_subject(tenant, subject) for holder in self._index_holders)
        purged += self.keys.store.delete_subject_index(tenant, subject)
        return self.keys.shred_subject(tenant, subject, reason=reason, indexes_purged=purged)


def open_local_vault(
    settings: Settings,
    *,
    passphrase: str | None = None,
    store: KeyringStore | None = None,
    on_event: VaultEventSink = discard_events,
    key_file: Path | None = None,
) -> Vault:
    """A vault with the local key file only (``open_vault`` adds the HSM and KMS).

    The key file, its passphrase and derivation come from the settings
    (``vault_key_file``, default ``<data_dir>/vault-keys.json``, 0600;
    ``vault_passphrase``; ``vault_passphrase_kdf``) unless given here.
    """
    path = key_file or settings.vault_key_file or ensure_data_dir(settings) / DEFAULT_FILE_NAME
    if passphrase is None and settings.vault_passphrase is not None:
        passphrase = settings.vault_passphrase.get_secret_value()
    provider = LocalKeyFileProvider(path, passphrase=passphrase, kdf=settings.vault_passphrase_kdf)
    provider.check()
    return Vault(store or MemoryKeyringStore(), [provider], on_event=on_event)


__all__ = ["Vault", "open_local_vault"]
