"""The field ciphertext format (documented in ``docs/vault.md``): version 2 is
written, versions 1 and 2 are read.

::

    offset   size    field
    0        2       magic "RV" (0x52 0x56)
    2        1       format version, 0x02 (0x01 for older values)
    3        1       key id length L (1..255)
    4        L       key id, UTF-8 ("data", "subject:<id>")
    4+L      4       key version, unsigned big-endian (>= 1)
    8+L      12      GCM nonce (random)
    20+L     n+16    AES-256-GCM ciphertext of n bytes, then the 16-byte tag

The GCM key is the field subkey derived from the DEK (``field_subkey``) for
exactly this tenant, key id and key version.

* Version 2 associated data: ``"rempart/vault/field/v2" || lp(tenant) ||
  lp(table) || lp(column) || row id`` (the row id last, so it needs no length
  prefix). The header is not repeated in it: the key id and key version select
  the GCM key, which is derived for that tenant, key id and version only, so a
  relabelled header opens under another key and fails; the nonce is
  authenticated by GCM itself; the format version is bound by the domain string.
* Version 1 associated data: ``"rempart/vault/field/v1" || lp(tenant) ||
  lp(table) || lp(column) || lp(row id) || header`` (bytes 0 to 20+L).

Either way a ciphertext moved to another tenant, table, column or row, or
relabelled with another key id, key version or format version, fails to decrypt.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault.hazmat import NONCE_BYTES, TAG_BYTES, Aead, hkdf_sha256

MAGIC = b"RV"
VERSION = 2
"""The format version written."""
VERSIONS = (1, 2)
"""The format versions read."""
FIELD_AAD_DOMAIN_V1 = b"rempart/vault/field/v1"
FIELD_AAD_DOMAIN = b"rempart/vault/field/v2"
_DOMAIN_LENGTH = len(FIELD_AAD_DOMAIN)
if len(FIELD_AAD_DOMAIN_V1) != _DOMAIN_LENGTH:  # pragma: no cover - constants above
    raise ImportError("field associated-data domains must have one length")
_U32 = struct.Struct(">I")
_U16 = struct.Struct(">H")
MIN_LENGTH = 3 + 1 + 1 + 4 + NONCE_BYTES + TAG_BYTES
_MAX_PART = 0xFFFF
_location_cache: dict[tuple[str, str, str], bytes] = {}
_LOCATION_CACHE_SIZE = 4096


class FieldContext:
    """Where a value lives (tenant, table, column, row id): bound to its ciphertext as
    associated data.

    Immutable (read-only attributes). The associated data of format 2 is computed
    once, when the context is built: field encryption builds one context per row,
    so construction is on the hot path, and a class with slots and ``__init__`` is
    the cheapest Python object to build that carries it. Two contexts are equal
    when their four fields are.
    """

    __slots__ = ("_aad", "_column", "_row_id", "_table", "_tenant")

    def __init__(self, tenant: TenantId, table: str, column: str, row_id: str) -> None:
        try:
            location = _location_cache[tenant, table, column]
        except KeyError:
            location = _location_aad(tenant, table, column)
        except TypeError as exc:  # an unhashable part
            raise TypeError("FieldContext fields must be strings") from exc
        try:
            row = row_id.encode()
        except AttributeError as exc:
            raise TypeError("FieldContext fields must be strings") from exc
        if len(row) > _MAX_PART:
            raise ValueError("context element longer than 65535 bytes")
        self._tenant = tenant
        self._table = table
        self._column = column
        self._row_id = row_id
        self._aad = location + row

    @property
    def tenant(self) -> TenantId:
        return self._tenant

    @property
    def table(self) -> str:
        return self._table

    @property
    def column(self) -> str:
        return self._column

    @property
    def row_id(self) -> str:
        return self._row_id

    @property
    def field_aad(self) -> bytes:
        """The associated data of a format-2 field ciphertext (the whole of it)."""
        return self._aad

    @property
    def aad(self) -> bytes:
        """The context part of format 1's associated data (the ciphertext header
        follows it); streams use it in their key derivation."""
        # Format 2's associated data is domain || lp(tenant) || lp(table) || lp(column)
        # || row; format 1's context part swaps the domain (same length) and prefixes
        # the row with its length.
        row = self._row_id.encode()
        location = self._aad[_DOMAIN_LENGTH : len(self._aad) - len(row)]
        return FIELD_AAD_DOMAIN_V1 + location + _U16.pack(len(row)) + row

    def aad_prefix(self) -> bytes:
        return self.aad

    def _key(self) -> tuple[str, str, str, str]:
        return (self._tenant, self._table, self._column, self._row_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldContext):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[type[FieldContext], tuple[str, str, str, str]]:
        return (FieldContext, self._key())

    def __repr__(self) -> str:
        return (
            f"FieldContext(tenant={self._tenant!r}, table={self._table!r}, "
            f"column={self._column!r}, row_id={self._row_id!r})"
        )


def _location_aad(tenant: str, table: str, column: str) -> bytes:
    """``domain || lp(tenant) || lp(table) || lp(column)``, memoised (bounded)."""
    for part in (tenant, table, column):
        if not isinstance(part, str):
            raise TypeError("FieldContext fields must be strings")
    location = FIELD_AAD_DOMAIN + lp(tenant.encode()) + lp(table.encode()) + lp(column.encode())
    if len(_location_cache) >= _LOCATION_CACHE_SIZE:
        _location_cache.clear()
    _location_cache[tenant, table, column] = location
    return location


class Header(NamedTuple):
    key_id: str
    key_version: int
    nonce: bytes
    length: int
    """Bytes of the header in the ciphertext (where the GCM output starts)."""
    version: int = VERSION
    """The format version."""


def lp(data: bytes) -> bytes:
    """Length-prefixed (16-bit big-endian) bytes, so concatenations are unambiguous."""
    if len(data) > _MAX_PART:
        raise ValueError("context element longer than 65535 bytes")
    return _U16.pack(len(data)) + data


def encode_header(key_id: str, key_version: int, nonce: bytes, *, version: int = VERSION) -> bytes:
    kid = key_id.encode()
    if (
        not 1 <= len(kid) <= 255
        or not 1 <= key_version <= 0xFFFFFFFF
        or len(nonce) != 12
        or version not in VERSIONS
    ):
        raise ValueError("invalid key id, key version, nonce or format version")
    return b"".join((MAGIC, bytes([version, len(kid)]), kid, _U32.pack(key_version), nonce))


def parse_header(ciphertext: bytes) -> Header:
    """Read the header; any malformation is the opaque ``CryptoError``."""
    if len(ciphertext) < MIN_LENGTH or ciphertext[:2] != MAGIC or ciphertext[2] not in VERSIONS:
        raise CryptoError()
    kid_len = ciphertext[3]
    end = 4 + kid_len
    if kid_len == 0 or len(ciphertext) < MIN_LENGTH + kid_len - 1:
        raise CryptoError()
    try:
        key_id = ciphertext[4:end].decode()
    except UnicodeDecodeError as exc:
        raise CryptoError() from exc
    (key_version,) = _U32.unpack_from(ciphertext, end)
    if key_version == 0:
        raise CryptoError()
    nonce = ciphertext[end + 4 : end + 4 + NONCE_BYTES]
    return Header(key_id, key_version, nonce, end + 4 + NONCE_BYTES, ciphertext[2])


def associated_data(ctx: FieldContext, ciphertext: bytes, header: Header) -> bytes:
    """The associated data of a parsed ciphertext, by its format version."""
    if header.version == 1:
        return ctx.aad + ciphertext[: header.length]
    return ctx.field_aad


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
    aead: Aead,
    ctx: FieldContext,
    key_id: str,
    key_version: int,
    nonce: bytes,
    plaintext: bytes,
    *,
    version: int = VERSION,
) -> bytes:
    """Encrypt with an explicit nonce (the vault draws it at random)."""
    header = encode_header(key_id, key_version, nonce, version=version)
    aad = ctx.aad + header if version == 1 else ctx.field_aad
    return header + aead.seal(nonce, plaintext, aad)


def open_sealed(aead: Aead, ctx: FieldContext, header: Header, ciphertext: bytes) -> bytes:
    return aead.open(
        header.nonce, ciphertext[header.length :], associated_data(ctx, ciphertext, header)
    )


__all__ = [
    "FIELD_AAD_DOMAIN",
    "FIELD_AAD_DOMAIN_V1",
    "MAGIC",
    "VERSION",
    "VERSIONS",
    "FieldContext",
    "Header",
    "associated_data",
    "encode_header",
    "field_subkey",
    "open_sealed",
    "parse_header",
    "seal",
]
