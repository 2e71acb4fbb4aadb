"""Errors of the vault beyond the opaque ``rempart.errors.CryptoError``.

Decryption, unwrapping and verification fail with ``CryptoError`` only, which
never says which check failed. The errors below are about the *machinery*
(key files, providers, administrative calls) and are precise, but never carry
key material, plaintext or passphrases::

    RempartError
    ├── KeyProviderError              a key provider could not do its job (503)
    │   ├── KeyFileCorrupt            the local key file is unreadable or altered
    │   ├── WrongPassphrase           the key file's passphrase does not open it
    │   └── ProviderUnavailable       HSM or KMS not reachable, or throttled past retries
    ├── NotFound
    │   └── UnknownKey                no such tenant keyring, key id or key version
    └── Conflict
        └── KeyStateConflict          the operation clashes with the keys' state
"""

from __future__ import annotations

from rempart.errors import Conflict, NotFound, RempartError


class KeyProviderError(RempartError):
    status = 503
    title = "Key provider error"
    slug = "key-provider-error"


class KeyFileCorrupt(KeyProviderError):
    title = "Key file corrupt"
    slug = "key-file-corrupt"


class WrongPassphrase(KeyProviderError):
    status = 401
    title = "Wrong key file passphrase"
    slug = "wrong-passphrase"


class ProviderUnavailable(KeyProviderError):
    title = "Key provider unavailable"
    slug = "key-provider-unavailable"


class UnknownKey(NotFound):
    title = "Unknown key"
    slug = "unknown-key"


class KeyStateConflict(Conflict):
    title = "Key state conflict"
    slug = "key-state-conflict"


__all__ = [
    "KeyFileCorrupt",
    "KeyProviderError",
    "KeyStateConflict",
    "ProviderUnavailable",
    "UnknownKey",
    "WrongPassphrase",
]
