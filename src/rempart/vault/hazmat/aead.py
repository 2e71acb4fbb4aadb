"""AES-256-GCM through pyca/cryptography's ``AESGCM``, failing with ``CryptoError`` only."""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rempart.errors import CryptoError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

random_bytes = os.urandom
AeadFailure = (InvalidTag, ValueError, OverflowError)
"""What ``Aead.open_unchecked`` raises on a failed check or malformed input."""


def generate_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


class Aead:
    """One AES-256-GCM key. ``open`` raises the opaque ``CryptoError`` on any failure."""

    __slots__ = ("_gcm", "open_unchecked", "seal")

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise CryptoError()
        self._gcm = AESGCM(key)
        # seal(nonce, plaintext, aad) -> ciphertext || 16-byte tag. Bound straight to
        # pyca's method: encryption cannot fail on valid input, and the hot path of
        # field encryption saves a Python call.
        self.seal: Callable[[bytes, bytes, bytes], bytes] = self._gcm.encrypt
        # open_unchecked(nonce, ciphertext, aad) raises AeadFailure (not CryptoError): for
        # hot paths that translate it themselves; everyone else calls ``open``.
        self.open_unchecked: Callable[[bytes, bytes, bytes], bytes] = self._gcm.decrypt

    def __repr__(self) -> str:
        return "Aead(<key hidden>)"

    def open(self, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        try:
            return self._gcm.decrypt(nonce, ciphertext, aad)
        except AeadFailure as exc:
            raise CryptoError() from exc
