"""HMAC-SHA256 and SHA-256 through pyca/cryptography."""

from __future__ import annotations

from cryptography.hazmat.primitives import constant_time, hashes, hmac


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize()


def sha256(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return constant_time.bytes_eq(a, b)
