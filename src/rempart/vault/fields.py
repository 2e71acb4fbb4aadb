"""Field encryption: one value of one row, sealed with AES-256-GCM under the tenant's DEK.

The format is in ``rempart.vault.format`` (version 2 written, 1 and 2 read). Keys
come from the keyring's cache, so a provider is called once per DEK, not once per
field.

``encrypt_field`` and ``decrypt_field`` are the hot paths (``Vault`` inherits
them, so a call is one plain method call): with the DEK cached they read the
cache's per-tenant index directly, build no tuple or record, and reuse the
AES-GCM object of the DEK and the associated data of the context (format 2's
associated data is the context's alone, computed when the context is built).
Every check of the long way is kept: the entry's age, the message limit and
GCM budget (one atomic count) and the byte limit on encryption; the entry's age
and the header on decryption (looked up whole, so only a header the vault
parsed and accepted before matches; a too-short input fails in the AES-GCM
call, which refuses a nonce or a tag cut short). Anything unusual takes the
long way, which fails with the one opaque ``CryptoError``.
"""

from __future__ import annotations

from collections.abc import Iterable

from rempart.errors import CryptoError
from rempart.vault.format import MIN_LENGTH, FieldContext, associated_data, parse_header
from rempart.vault.hazmat import NONCE_BYTES, TAG_BYTES, AeadFailure, random_nonce, take_nonce
from rempart.vault.keyring import Keyring
from rempart.vault.records import DATA_KEY, SUBJECT_PREFIX, subject_key_id

if NONCE_BYTES != 12:  # pragma: no cover - the hot path spells it as a literal
    raise ImportError("the field hot path assumes 12-byte GCM nonces")


class FieldCipher:
    """Encrypt and decrypt field values bound to their ``FieldContext``."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        cache = keyring.cache
        self._index = cache.index  # the same dict for the cache's whole life
        self._now = cache.monotonic

    def encrypt_field(
        self, ctx: FieldContext, plaintext: bytes, *, subject: str | None = None
    ) -> bytes:
        """Seal a value under the tenant's data key, or the data subject's own key."""
        try:
            entry = self._index[ctx._tenant][
                DATA_KEY if subject is None else subject_key_id(subject)
            ]
        except KeyError:
            return self._encrypt_long(ctx, plaintext, subject)
        material = entry.material
        # Callables held in attributes are read, then called: ``obj.attr()`` would take
        # CPython's method-lookup path, which is slower for them.
        now = self._now
        # Age, then one count against the GCM budget (which also holds the cache's
        # message limit), then the byte limit.
        if now() < entry.expires and next(material.used) < material.budget:
            left = entry.bytes_left - len(plaintext)
            if left >= 0:
                entry.bytes_left = left
                try:
                    nonce = take_nonce()  # random, from the pool (see hazmat.aead)
                except IndexError:
                    nonce = random_nonce()
                seal = entry.seal
                return entry.header + nonce + seal(nonce, plaintext, ctx._aad)
        return self._encrypt_long(ctx, plaintext, subject)

    def _encrypt_long(self, ctx: FieldContext, plaintext: bytes, subject: str | None) -> bytes:
        key_id = DATA_KEY if subject is None else subject_key_id(subject)
        return self.encrypt(ctx, plaintext, key_id=key_id)

    def encrypt(self, ctx: FieldContext, plaintext: bytes, *, key_id: str = DATA_KEY) -> bytes:
        """Seal under ``key_id`` (the data key or a subject key), the long way."""
        if key_id != DATA_KEY and not key_id.startswith(SUBJECT_PREFIX):
            raise ValueError("fields are sealed under the data key or a subject key")
        material = self._keyring.encryption_key(ctx.tenant, key_id, len(plaintext))
        nonce = random_nonce()
        return material.field_header + nonce + material.field.seal(nonce, plaintext, ctx.field_aad)

    def decrypt_field(self, ctx: FieldContext, ciphertext: bytes) -> bytes:
        """The plaintext, or the opaque ``CryptoError`` whatever went wrong."""
        try:
            # The header up to the nonce names the key version; only headers of keys in
            # the cache (parsed and accepted on the long way) are found here.
            nonce_at = 8 + ciphertext[3]
            entry = self._index[ctx._tenant][ciphertext[:nonce_at]]
        except (LookupError, TypeError):
            return self._decrypt_long(ctx, ciphertext)
        now = self._now
        if now() < entry.expires:
            body_at = nonce_at + 12  # NONCE_BYTES
            open_ = entry.open
            try:
                # A ciphertext cut short gives a short nonce or tag, which AES-GCM refuses.
                return open_(ciphertext[nonce_at:body_at], ciphertext[body_at:], ctx._aad)
            except AeadFailure as exc:
                raise CryptoError() from exc
        return self._decrypt_long(ctx, ciphertext)

    decrypt = decrypt_field

    def _decrypt_long(self, ctx: FieldContext, ciphertext: bytes) -> bytes:
        data: object = ciphertext  # callers may pass any bytes-like object, or worse
        if isinstance(data, bytearray | memoryview):
            data = bytes(data)
        if not isinstance(data, bytes) or len(data) < MIN_LENGTH:
            raise CryptoError()
        ciphertext = data
        header = parse_header(ciphertext)
        if header.key_id != DATA_KEY and not header.key_id.startswith(SUBJECT_PREFIX):
            raise CryptoError()
        if len(ciphertext) < header.length + TAG_BYTES:
            raise CryptoError()
        material = self._keyring.decryption_key(ctx.tenant, header.key_id, header.key_version)
        try:
            return material.field.open_unchecked(
                header.nonce,
                ciphertext[header.length :],
                associated_data(ctx, ciphertext, header),
            )
        except AeadFailure as exc:
            raise CryptoError() from exc

    def encrypt_many(
        self, items: Iterable[tuple[FieldContext, bytes]], *, subject: str | None = None
    ) -> list[bytes]:
        encrypt = self.encrypt_field
        return [encrypt(ctx, value, subject=subject) for ctx, value in items]

    def decrypt_many(self, items: Iterable[tuple[FieldContext, bytes]]) -> list[bytes]:
        """All or nothing: the first failure raises ``CryptoError``."""
        decrypt = self.decrypt_field
        return [decrypt(ctx, value) for ctx, value in items]

    def reencrypt(
        self, ctx: FieldContext, ciphertext: bytes, *, key_id: str | None = None
    ) -> bytes:
        """Decrypt under whatever version (and format) sealed it, encrypt under the active
        version in the current format."""
        plaintext = self.decrypt_field(ctx, ciphertext)
        if key_id is None:
            key_id = parse_header(ciphertext).key_id
        return self.encrypt(ctx, plaintext, key_id=key_id)


__all__ = ["FieldCipher"]
