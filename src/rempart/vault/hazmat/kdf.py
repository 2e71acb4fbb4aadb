"""Key derivation: HKDF-SHA256 for subkeys, scrypt or Argon2id for passphrases."""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
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


def argon2id_derive(
    passphrase: bytes,
    *,
    salt: bytes,
    memory_kib: int,
    iterations: int,
    lanes: int,
    length: int = 32,
    secret: bytes | None = None,
    ad: bytes | None = None,
) -> bytes:
    """RFC 9106 Argon2id (pyca/cryptography >= 44, on an OpenSSL that provides it).

    ``RuntimeError`` when this build of cryptography cannot compute it.
    """
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
    except ImportError as exc:  # pragma: no cover - cryptography < 44
        raise RuntimeError("Argon2id needs cryptography >= 44") from exc
    try:
        kdf = Argon2id(
            salt=salt,
            length=length,
            iterations=iterations,
            lanes=lanes,
            memory_cost=memory_kib,
            secret=secret,
            ad=ad,
        )
        return kdf.derive(passphrase)
    except UnsupportedAlgorithm as exc:  # pragma: no cover - depends on the OpenSSL build
        raise RuntimeError("Argon2id is not available in this cryptography build") from exc
