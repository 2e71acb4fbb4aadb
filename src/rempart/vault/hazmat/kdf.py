"""Key derivation: HKDF-SHA256 for subkeys, scrypt for passphrases."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt


def hkdf_sha256(key: bytes, *, info: bytes, salt: bytes | None = None, length: int = 32) -> bytes:
    """RFC 5869 HKDF with SHA-256."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def scrypt_derive(
    passphrase: bytes, *, salt: bytes, log2_n: int, r: int, p: int, length: int = 32
) -> bytes:
    """RFC 7914 scrypt."""
    return Scrypt(salt=salt, length=length, n=2**log2_n, r=r, p=p).derive(passphrase)
