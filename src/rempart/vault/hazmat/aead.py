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

_NONCES_PER_DRAW = 340
_nonce_pool: list[bytes] = []
"""Random 96-bit nonces drawn from the OS in batches (one ``os.urandom`` call per 340):
each is still 12 bytes of the OS CSPRNG's output, handed out once. ``list.pop`` is
atomic, so no two threads get the same one; the pool is emptied in a forked child
(below), so parent and child never share one."""
take_nonce = _nonce_pool.pop
"""``take_nonce()`` pops a nonce; ``IndexError`` when the pool is empty (then call
``random_nonce``, which refills it)."""


def random_nonce() -> bytes:
    """A fresh random 12-byte GCM nonce (from the pool, refilled from ``os.urandom``)."""
    try:
        return take_nonce()
    except IndexError:
        block = os.urandom(NONCE_BYTES * _NONCES_PER_DRAW)
        _nonce_pool.extend(
            [block[i : i + NONCE_BYTES] for i in range(NONCE_BYTES, len(block), NONCE_BYTES)]
        )
        return block[:NONCE_BYTES]


def _forget_nonces() -> None:
    _nonce_pool.clear()


os.register_at_fork(after_in_child=_forget_nonces)

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
