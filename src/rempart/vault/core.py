"""``Vault``: the one object the rest of Rempart uses for keys and ciphertext."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from rempart.config import Settings, ensure_data_dir
from rempart.types import Clock, TenantId, utc_now
from rempart.vault.cache import CacheLimits, DekCache
from rempart.vault.events import VaultEventSink, discard_events
from rempart.vault.fields import FieldCipher
from rempart.vault.format import FieldContext
from rempart.vault.keyring import Keyring
from rempart.vault.lookup import Normalizer, normalize_text
from rempart.vault.lookup import blind_index as _blind_index
from rempart.vault.lookup import pseudonym as _pseudonym
from rempart.vault.providers.base import KeyProvider
from rempart.vault.providers.local import DEFAULT_FILE_NAME, LocalKeyFileProvider
from rempart.vault.records import DATA_KEY, INDEX_KEY, TenantKeyring, subject_key_id
from rempart.vault.store import KeyringStore, MemoryKeyringStore
from rempart.vault.stream import DEFAULT_CHUNK_SIZE, decrypt_stream, encrypt_stream
from rempart.vault.tokens import CardToken, CardTokenizer


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
        self.cards = CardTokenizer(self.keys, store, self.fields)

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
        return self.keys.shred_subject(tenant, subject, reason=reason)


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
