"""Chunked authenticated encryption for large objects (recordings, exports).

The STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015), as in
Tink's streaming AEAD: each stream gets its own AES-256-GCM key, derived with
HKDF from the tenant's stream subkey, a random salt and the stream's header and
context; chunk ``i`` is sealed under the nonce ``prefix(7) || i (4, big-endian)
|| last (1)``. A reordered chunk fails (wrong counter), a truncated stream
fails (the last chunk present was not sealed as last), an extended one fails
(the real last chunk is no longer last), and a chunk spliced from another
stream fails (another key). Memory stays at one chunk or two, whatever the
object's size.

Header, version 1::

    0      2    magic "RS"
    2      1    version 0x01
    3      1    key id length L
    4      L    key id
    4+L    4    key version (big-endian)
    8+L    4    plaintext bytes per chunk (big-endian)
    12+L   32   HKDF salt (random)
    44+L   7    nonce prefix (random)

then the chunks, each ``chunk size + 16`` bytes but the last, which holds
0 to ``chunk size`` plaintext bytes plus its tag.

``decrypt_stream`` writes plaintext as it is authenticated chunk by chunk; a
``CryptoError`` at the end means what was written must be discarded.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from rempart.errors import CryptoError
from rempart.vault.format import FieldContext
from rempart.vault.hazmat import TAG_BYTES, Aead, hkdf_sha256, random_bytes
from rempart.vault.keyring import Keyring
from rempart.vault.material import DekMaterial
from rempart.vault.records import DATA_KEY

MAGIC = b"RS"
VERSION = 1
DEFAULT_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = 256
MAX_CHUNK_SIZE = 16 * 1024 * 1024
SALT_BYTES = 32
PREFIX_BYTES = 7
MAX_CHUNKS = 1 << 32
_U32 = struct.Struct(">I")


def stream_header(
    key_id: str, key_version: int, chunk_size: int, salt: bytes, prefix: bytes
) -> bytes:
    kid = key_id.encode()
    return b"".join(
        (
            MAGIC,
            bytes([VERSION, len(kid)]),
            kid,
            _U32.pack(key_version),
            _U32.pack(chunk_size),
            salt,
            prefix,
        )
    )


def stream_key(material: DekMaterial, ctx: FieldContext, header: bytes, salt: bytes) -> Aead:
    """The per-stream AES-256-GCM key."""
    info = b"rempart/vault/stream/v1" + ctx.aad_prefix() + header
    return Aead(hkdf_sha256(material.subkey(b"stream"), salt=salt, info=info))


def chunk_nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= MAX_CHUNKS:
        raise CryptoError()
    return prefix + _U32.pack(index) + (b"\x01" if last else b"\x00")


def read_exact(src: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end of the stream."""
    parts: list[bytes] = []
    remaining = size
    while remaining:
        data = src.read(remaining)
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def encrypt_stream(
    keyring: Keyring,
    ctx: FieldContext,
    src: BinaryIO,
    dst: BinaryIO,
    *,
    key_id: str = DATA_KEY,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> int:
    """Encrypt ``src`` to ``dst`` chunk by chunk; return the bytes written."""
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk size must be {MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE} bytes")
    material = keyring.active_key(ctx.tenant, key_id)
    salt, prefix = random_bytes(SALT_BYTES), random_bytes(PREFIX_BYTES)
    header = stream_header(key_id, material.version, chunk_size, salt, prefix)
    aead = stream_key(material, ctx, header, salt)
    written = dst.write(header)
    index = 0
    current = read_exact(src, chunk_size)
    while True:
        following = read_exact(src, chunk_size) if len(current) == chunk_size else b""
        last = not following
        written += dst.write(aead.seal(chunk_nonce(prefix, index, last), current, b""))
        if last:
            return written
        index += 1
        current = following


def _parse_header(src: BinaryIO) -> tuple[bytes, str, int, int, bytes, bytes]:
    start = read_exact(src, 4)
    if len(start) != 4 or start[:3] != MAGIC + bytes([VERSION]) or start[3] == 0:
        raise CryptoError()
    rest = read_exact(src, start[3] + 8 + SALT_BYTES + PREFIX_BYTES)
    if len(rest) != start[3] + 8 + SALT_BYTES + PREFIX_BYTES:
        raise CryptoError()
    kid_len = start[3]
    try:
        key_id = rest[:kid_len].decode()
    except UnicodeDecodeError as exc:
        raise CryptoError() from exc
    (version,) = _U32.unpack_from(rest, kid_len)
    (chunk_size,) = _U32.unpack_from(rest, kid_len + 4)
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE or version == 0:
        raise CryptoError()
    salt = rest[kid_len + 8 : kid_len + 8 + SALT_BYTES]
    prefix = rest[kid_len + 8 + SALT_BYTES :]
    return start + rest, key_id, version, chunk_size, salt, prefix


def decrypt_stream(keyring: Keyring, ctx: FieldContext, src: BinaryIO, dst: BinaryIO) -> int:
    """Decrypt a stream; any alteration raises the opaque ``CryptoError``."""
    header, key_id, version, chunk_size, salt, prefix = _parse_header(src)
    material = keyring.decryption_key(ctx.tenant, key_id, version)
    aead = stream_key(material, ctx, header, salt)
    segment = chunk_size + TAG_BYTES
    written = 0
    index = 0
    current = read_exact(src, segment)
    while True:
        following = read_exact(src, segment) if len(current) == segment else b""
        last = not following
        if len(current) < TAG_BYTES:
            raise CryptoError()
        written += dst.write(aead.open(chunk_nonce(prefix, index, last), current, b""))
        if last:
            return written
        index += 1
        current = following


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "chunk_nonce",
    "decrypt_stream",
    "encrypt_stream",
    "stream_header",
    "stream_key",
]
