"""AES-256-GCM through pyca/cryptography's ``AESGCM``, failing with ``CryptoError`` only."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rempart.errors import CryptoError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

random_bytes = os.urandom


def generate_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


class Aead:
    """One AES-256-GCM key. ``open`` raises the opaque ``CryptoError`` on any failure."""

    __slots__ = ("_gcm",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise CryptoError()
        self._gcm = AESGCM(key)

    def __repr__(self) -> str:
        return "Aead(<key hidden>)"

    def seal(self, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """Ciphertext followed by the 16-byte tag."""
        return self._gcm.encrypt(nonce, plaintext, aad)

    def open(self, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        try:
            return self._gcm.decrypt(nonce, ciphertext, aad)
        except (InvalidTag, ValueError, OverflowError) as exc:
            raise CryptoError() from exc
