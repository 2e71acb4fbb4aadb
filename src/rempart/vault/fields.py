"""Field encryption: one value of one row, sealed with AES-256-GCM under the tenant's DEK.

The format is in ``rempart.vault.format``. Keys come from the keyring's cache,
so a provider is called once per DEK, not once per field.
"""

from __future__ import annotations

from collections.abc import Iterable

from rempart.errors import CryptoError
from rempart.vault.format import FieldContext, parse_header
from rempart.vault.hazmat import NONCE_BYTES, random_bytes
from rempart.vault.keyring import Keyring
from rempart.vault.records import DATA_KEY, SUBJECT_PREFIX


class FieldCipher:
    """Encrypt and decrypt field values bound to their ``FieldContext``."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def encrypt(self, ctx: FieldContext, plaintext: bytes, *, key_id: str = DATA_KEY) -> bytes:
        material = self._keyring.encryption_key(ctx.tenant, key_id, len(plaintext))
        nonce = random_bytes(NONCE_BYTES)
        header = material.field_header + nonce
        return header + material.field.seal(nonce, plaintext, ctx.aad_prefix() + header)

    def decrypt(self, ctx: FieldContext, ciphertext: bytes) -> bytes:
        """The plaintext, or the opaque ``CryptoError`` whatever went wrong."""
        header = parse_header(ciphertext)
        if header.key_id != DATA_KEY and not header.key_id.startswith(SUBJECT_PREFIX):
            raise CryptoError()
        material = self._keyring.decryption_key(ctx.tenant, header.key_id, header.key_version)
        return material.field.open(
            header.nonce,
            ciphertext[header.length :],
            ctx.aad_prefix() + ciphertext[: header.length],
        )

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
