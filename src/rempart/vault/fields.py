"""Field encryption: one value of one row, sealed with AES-256-GCM under the tenant's DEK.

The format is in ``rempart.vault.format``. Keys come from the keyring's cache,
so a provider is called once per DEK, not once per field.
"""

from __future__ import annotations

from collections.abc import Iterable

from rempart.errors import CryptoError
from rempart.vault.format import MIN_LENGTH, FieldContext, parse_header
from rempart.vault.hazmat import NONCE_BYTES, TAG_BYTES, AeadFailure, random_bytes
from rempart.vault.keyring import Keyring
from rempart.vault.records import DATA_KEY, SUBJECT_PREFIX

_MAX_PREFIXES = 4096


class FieldCipher:
    """Encrypt and decrypt field values bound to their ``FieldContext``."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._checkout = keyring.cache.checkout
        self._cache = keyring.cache
        self._entries = keyring.cache._entries  # the same dict for the cache's whole life
        self._prefixes: dict[bytes, tuple[str, int]] = {}

    def encrypt(self, ctx: FieldContext, plaintext: bytes, *, key_id: str = DATA_KEY) -> bytes:
        # Hot path: a cached DEK with GCM budget left; anything else goes the long way.
        material = self._checkout((ctx.tenant, key_id, 0), len(plaintext))
        if material is None or not material.take_encryption():
            material = self._keyring.encryption_key(ctx.tenant, key_id, len(plaintext))
        nonce = random_bytes(NONCE_BYTES)
        header = material.field_header + nonce
        return header + material.field.seal(nonce, plaintext, ctx.aad_prefix() + header)

    def decrypt(self, ctx: FieldContext, ciphertext: bytes) -> bytes:
        """The plaintext, or the opaque ``CryptoError`` whatever went wrong."""
        if len(ciphertext) < MIN_LENGTH:
            raise CryptoError()
        # Key id and version from the header's fixed part; parsing is memoised per distinct
        # prefix (a pure function of the bytes, holding no key or state).
        nonce_at = 8 + ciphertext[3]
        key = self._prefixes.get(ciphertext[:nonce_at])
        if key is None:
            header = parse_header(ciphertext)
            if header.key_id != DATA_KEY and not header.key_id.startswith(SUBJECT_PREFIX):
                raise CryptoError()
            key = (header.key_id, header.key_version)
            if len(self._prefixes) < _MAX_PREFIXES:
                self._prefixes[ciphertext[:nonce_at]] = key
        body_at = nonce_at + NONCE_BYTES
        if len(ciphertext) < body_at + TAG_BYTES:
            raise CryptoError()
        # The DEK cache read inline (this is the hot path): a fresh entry or the long way.
        entry = self._entries.get((ctx.tenant, key[0], key[1]))
        now = self._cache._now()
        if entry is not None and now - entry.loaded_at < self._cache.limits.max_age_seconds:
            entry.last_used = now
            material = entry.material
        else:
            material = self._keyring.decryption_key(ctx.tenant, key[0], key[1])
        try:
            return material.field.open_unchecked(
                ciphertext[nonce_at:body_at],
                ciphertext[body_at:],
                ctx.aad_prefix() + ciphertext[:body_at],
            )
        except AeadFailure as exc:
            raise CryptoError() from exc

    def encrypt_many(
        self, items: Iterable[tuple[FieldContext, bytes]], *, key_id: str = DATA_KEY
    ) -> list[bytes]:
        return [self.encrypt(ctx, value, key_id=key_id) for ctx, value in items]

    def decrypt_many(self, items: Iterable[tuple[FieldContext, bytes]]) -> list[bytes]:
        """All or nothing: the first failure raises ``CryptoError``."""
        return [self.decrypt(ctx, value) for ctx, value in items]

    def reencrypt(
        self, ctx: FieldContext, ciphertext: bytes, *, key_id: str | None = None
    ) -> bytes:
        """Decrypt under whatever version sealed it, encrypt under the active version."""
        if key_id is None:
            key_id = parse_header(ciphertext).key_id
        return self.encrypt(ctx, self.decrypt(ctx, ciphertext), key_id=key_id)


__all__ = ["FieldCipher"]
