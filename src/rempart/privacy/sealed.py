"""The delivery format of exports: a stream sealed under a passphrase (scrypt, AES-256-GCM).

A data subject receives their export as one file that any tool with scrypt
and AES-GCM opens (the format is in docs/privacy.md)::

    0    4   magic "RPEX"
    4    1   version 0x01
    5    1   key derivation 0x01 = scrypt (RFC 7914)
    6    1   log2(N)                         14..20
    7    1   r                               1..16
    8    1   p                               1..4
    9    16  salt (random)
    25   4   plaintext bytes per chunk, big-endian (4 KiB..16 MiB)
    29   7   nonce prefix (random)
    36   ... chunks: AES-256-GCM ciphertext + 16-byte tag

The key is ``scrypt(NFC(passphrase) as UTF-8, salt, N, r, p, 32 bytes)``. Chunk
``i`` (from 0) is sealed with the nonce ``prefix || u32(i) || last`` (``last``
is 0x01 on the final chunk only; there is always at least one chunk, maybe
empty) and the 36-byte header as associated data: the STREAM construction,
so reordering, truncation, extension and any header change all fail. Every
failure (wrong passphrase included) is the one opaque ``CryptoError``.
"""

from __future__ import annotations

import os
import struct
import unicodedata
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from rempart.errors import CryptoError, ValidationFailed
from rempart.vault.stream import chunk_nonce, read_exact

MAGIC: Final = b"RPEX"
VERSION: Final = 1
KDF_SCRYPT: Final = 1
HEADER_SIZE: Final = 36
TAG_SIZE: Final = 16
DEFAULT_LOG2_N: Final = 17
DEFAULT_R: Final = 8
DEFAULT_P: Final = 1
DEFAULT_CHUNK: Final = 64 * 1024
MIN_CHUNK: Final = 4 * 1024
MAX_CHUNK: Final = 16 * 1024 * 1024
MIN_PASSPHRASE: Final = 12
_MAX_SCRYPT_MEMORY: Final = 1 << 30  # 128 * r * N bytes: a planted header cannot ask for more
_HEADER: Final = struct.Struct(">4sBBBBB16sI7s")


def _check_params(log2_n: int, r: int, p: int, chunk: int) -> bool:
    return (
        14 <= log2_n <= 20
        and 1 <= r <= 16
        and 1 <= p <= 4
        and 128 * r * (1 << log2_n) <= _MAX_SCRYPT_MEMORY
        and MIN_CHUNK <= chunk <= MAX_CHUNK
    )


def _derive(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> AESGCM:
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    key = Scrypt(salt=salt, length=32, n=1 << log2_n, r=r, p=p).derive(secret)
    return AESGCM(key)


def seal(
    src: BinaryIO,
    dst: BinaryIO,
    passphrase: str,
    *,
    log2_n: int = DEFAULT_LOG2_N,
    r: int = DEFAULT_R,
    p: int = DEFAULT_P,
    chunk_size: int = DEFAULT_CHUNK,
) -> int:
    """Seal everything ``src`` yields into ``dst``; returns the bytes written."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationFailed(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    if not _check_params(log2_n, r, p, chunk_size):
        raise ValidationFailed("scrypt parameters or chunk size out of bounds")
    salt, prefix = os.urandom(16), os.urandom(7)
    header = _HEADER.pack(MAGIC, VERSION, KDF_SCRYPT, log2_n, r, p, salt, chunk_size, prefix)
    aead = _derive(passphrase, salt, log2_n, r, p)
    dst.write(header)
    written = len(header)
    index = 0
    current = read_exact(src, chunk_size)
    while True:
        following = read_exact(src, chunk_size) if len(current) == chunk_size else b""
        last = not following
        sealed = aead.encrypt(chunk_nonce(prefix, index, last), current, header)
        dst.write(sealed)
        written += len(sealed)
        if last:
            return written
        current, index = following, index + 1


def open_sealed(src: BinaryIO, dst: BinaryIO, passphrase: str) -> int:
    """Write the plaintext of a sealed stream to ``dst``; returns its length.

    Plaintext is written as chunks authenticate: on ``CryptoError``, discard
    whatever was written.
    """
    header = read_exact(src, HEADER_SIZE)
    if len(header) != HEADER_SIZE:
        raise CryptoError()
    magic, version, kdf, log2_n, r, p, salt, chunk_size, prefix = _HEADER.unpack(header)
    if magic != MAGIC or version != VERSION or kdf != KDF_SCRYPT:
        raise CryptoError()
    if not _check_params(log2_n, r, p, chunk_size):
        raise CryptoError()
    aead = _derive(passphrase, salt, log2_n, r, p)
    size = chunk_size + TAG_SIZE
    total = 0
    index = 0
    current = read_exact(src, size)
    while True:
        if len(current) < TAG_SIZE:
            raise CryptoError()
        following = read_exact(src, size) if len(current) == size else b""
        last = not following
        try:
            plain = aead.decrypt(chunk_nonce(prefix, index, last), current, header)
        except InvalidTag as exc:
            raise CryptoError() from exc
        dst.write(plain)
        total += len(plain)
        if last:
            return total
        current, index = following, index + 1


__all__ = ["DEFAULT_LOG2_N", "MAGIC", "MIN_PASSPHRASE", "open_sealed", "seal"]
