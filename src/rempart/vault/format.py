"""The field ciphertext format, version 1 (documented in ``docs/vault.md``).

::

    offset   size    field
    0        2       magic "RV" (0x52 0x56)
    2        1       format version, 0x01
    3        1       key id length L (1..255)
    4        L       key id, UTF-8 ("data", "subject:<id>")
    4+L      4       key version, unsigned big-endian (>= 1)
    8+L      12      GCM nonce (random)
    20+L     n+16    AES-256-GCM ciphertext of n bytes, then the 16-byte tag

The GCM key is the field subkey derived from the DEK (``field_subkey``). The
associated data is the domain string, then the length-prefixed tenant, table,
column and row id, then the header (bytes 0 to 20+L), so a ciphertext moved to
another tenant, table, column or row, or relabelled with another key id or
version, fails to decrypt.
"""

from __future__ import annotations

import functools
import struct
from typing import NamedTuple

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault.hazmat import NONCE_BYTES, TAG_BYTES, Aead, hkdf_sha256

MAGIC = b"RV"
VERSION = 1
_PREFIX = MAGIC + bytes([VERSION])
FIELD_AAD_DOMAIN = b"rempart/vault/field/v1"
_U32 = struct.Struct(">I")
_U16 = struct.Struct(">H")
_pack_u16 = _U16.pack
MIN_LENGTH = 3 + 1 + 1 + 4 + NONCE_BYTES + TAG_BYTES


class FieldContext(tuple[TenantId, str, str, str, bytes]):
    """Where a value lives (tenant, table, column, row id): bound to its ciphertext as
    associated data.

    Immutable. The context part of the associated data is computed once, when the
    context is built: field encryption builds one context per row, so this is on the
    hot path, and a tuple underneath is the cheapest immutable object Python builds.
    Two contexts are equal when their four fields are.
    """

    __slots__ = ()

    def __new__(cls, tenant: TenantId, table: str, column: str, row_id: str) -> FieldContext:
        try:
            row = row_id.encode()
            aad = _location_aad(tenant, table, column) + _pack_u16(len(row)) + row
        except (AttributeError, TypeError) as exc:
            raise TypeError("FieldContext fields must be strings") from exc
        except struct.error as exc:  # the row id does not fit its 16-bit length
            raise ValueError("context element longer than 65535 bytes") from exc
        return tuple.__new__(cls, (tenant, table, column, row_id, aad))

    @property
    def tenant(self) -> TenantId:
        return self[0]

    @property
    def table(self) -> str:
        return self[1]

    @property
    def column(self) -> str:
        return self[2]

    @property
    def row_id(self) -> str:
        return self[3]

    @property
    def aad(self) -> bytes:
        """The context part of the associated data (the ciphertext header follows it)."""
        return self[4]

    def aad_prefix(self) -> bytes:
        return self[4]

    def __getnewargs__(self) -> tuple[TenantId, str, str, str]:
        return (self[0], self[1], self[2], self[3])

    def __repr__(self) -> str:
        return (
            f"FieldContext(tenant={self[0]!r}, table={self[1]!r}, column={self[2]!r}, "
            f"row_id={self[3]!r})"
        )


@functools.lru_cache(maxsize=4096)
def _location_aad(tenant: str, table: str, column: str) -> bytes:
    return FIELD_AAD_DOMAIN + lp(tenant.encode()) + lp(table.encode()) + lp(column.encode())


class Header(NamedTuple):
    key_id: str
    key_version: int
    nonce: bytes
    length: int
    """Bytes of the header in the ciphertext (where the GCM output starts)."""


def lp(data: bytes) -> bytes:
    """Length-prefixed (16-bit big-endian) bytes, so concatenations are unambiguous."""
    if len(data) > 0xFFFF:
        raise ValueError("context element longer than 65535 bytes")
    return _U16.pack(len(data)) + data


def encode_header(key_id: str, key_version: int, nonce: bytes) -> bytes:
    kid = key_id.encode()
    if not 1 <= len(kid) <= 255 or not 1 <= key_version <= 0xFFFFFFFF or len(nonce) != 12:
        raise ValueError("invalid key id, key version or nonce")
    return b"".join((_PREFIX, bytes([len(kid)]), kid, _U32.pack(key_version), nonce))


def parse_header(ciphertext: bytes) -> Header:
    """Read the header; any malformation is the opaque ``CryptoError``."""
    if len(ciphertext) < MIN_LENGTH or ciphertext[:3] != _PREFIX:
        raise CryptoError()
    kid_len = ciphertext[3]
    end = 4 + kid_len
    if kid_len == 0 or len(ciphertext) < MIN_LENGTH + kid_len - 1:
        raise CryptoError()
    try:
        key_id = ciphertext[4:end].decode()
    except UnicodeDecodeError as exc:
        raise CryptoError() from exc
    (version,) = _U32.unpack_from(ciphertext, end)
    if version == 0:
        raise CryptoError()
    nonce = ciphertext[end + 4 : end + 4 + NONCE_BYTES]
    return Header(key_id, version, nonce, end + 4 + NONCE_BYTES)


def field_subkey(dek: bytes, tenant: TenantId, key_id: str, version: int) -> bytes:
    """The AES-256-GCM key for fields, derived from a DEK with HKDF-SHA256."""
    info = b"".join(
        (
            b"rempart/vault/v1/field-encryption",
            lp(tenant.encode()),
            lp(key_id.encode()),
            _U32.pack(version),
        )
    )
    return hkdf_sha256(dek, info=info)


def seal(
    aead: Aead, ctx: FieldContext, key_id: str, version: int, nonce: bytes, plaintext: bytes
) -> bytes:
    """Encrypt with an explicit nonce (the vault draws it at random)."""
    header = encode_header(key_id, version, nonce)
    return header + aead.seal(nonce, plaintext, ctx.aad_prefix() + header)


def open_sealed(aead: Aead, ctx: FieldContext, header: Header, ciphertext: bytes) -> bytes:
    return aead.open(
        header.nonce, ciphertext[header.length :], ctx.aad_prefix() + ciphertext[: header.length]
    )


__all__ = [
    "FIELD_AAD_DOMAIN",
    "MAGIC",
    "VERSION",
    "FieldContext",
    "Header",
    "encode_header",
    "field_subkey",
    "open_sealed",
    "parse_header",
    "seal",
]
