"""Raw cryptographic primitives for the vault. Hazardous: use ``rempart.vault`` instead.

Nothing outside ``rempart.vault`` may import this package (a test scans the
source tree for such imports). Each function is a thin, typed wrapper over
pyca/cryptography; no cipher, mode or MAC is implemented here.
"""

from rempart.vault.hazmat.aead import (
    KEY_BYTES,
    NONCE_BYTES,
    TAG_BYTES,
    Aead,
    AeadFailure,
    generate_key,
    random_bytes,
    random_nonce,
    take_nonce,
)
from rempart.vault.hazmat.kdf import argon2id_derive, hkdf_sha256, scrypt_derive
from rempart.vault.hazmat.mac import constant_time_equal, hmac_sha256, sha256

__all__ = [
    "KEY_BYTES",
    "NONCE_BYTES",
    "TAG_BYTES",
    "Aead",
    "AeadFailure",
    "argon2id_derive",
    "constant_time_equal",
    "generate_key",
    "hkdf_sha256",
    "hmac_sha256",
    "random_bytes",
    "random_nonce",
    "scrypt_derive",
    "sha256",
    "take_nonce",
]
