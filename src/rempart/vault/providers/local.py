"""The local key file provider: KEKs in one 0600 file in the data directory.

The file is JSON: a format marker, optional scrypt parameters, a payload and a
SHA-256 checksum of both. Without a passphrase the payload holds the KEKs in
base64 (protected by the file mode alone); with one, the payload is
AES-256-GCM-encrypted under a key derived from the passphrase with scrypt. The
checksum tells a damaged file (``KeyFileCorrupt``) from a wrong passphrase
(``WrongPassphrase``). Writes go to a new 0600 file renamed over the old one,
under an exclusive lock, so a crash never leaves a half-written key file.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rempart.config import create_secret_file
from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault.errors import KeyFileCorrupt, UnknownKey, WrongPassphrase
from rempart.vault.hazmat import (
    NONCE_BYTES,
    Aead,
    constant_time_equal,
    generate_key,
    random_bytes,
    scrypt_derive,
    sha256,
)

FORMAT = "rempart-vault-keyfile"
FILE_VERSION = 1
DEFAULT_FILE_NAME = "vault-keys.json"
MIN_SCRYPT_LOG2_N = 14
_PAYLOAD_AAD = b"rempart/vault/keyfile/v1"


class LocalKeyFileProvider:
    """KEKs in a local file; each KEK wraps DEKs with AES-256-GCM and associated data."""

    name = "local"

    def __init__(
        self,
        path: Path,
        *,
        passphrase: str | None = None,
        scrypt_log2_n: int = 15,
        scrypt_r: int = 8,
        scrypt_p: int = 1,
    ) -> None:
        if passphrase is not None and not passphrase:
            raise ValueError("passphrase must not be empty")
        if scrypt_log2_n < MIN_SCRYPT_LOG2_N:
            raise ValueError(f"scrypt_log2_n must be at least {MIN_SCRYPT_LOG2_N}")
        self._path = path
        self._passphrase = passphrase.encode() if passphrase is not None else None
        self._scrypt = {"log2_n": scrypt_log2_n, "r": scrypt_r, "p": scrypt_p}
        self._lock = threading.RLock()
        self._keys: dict[str, bytes] | None = None
        self._aeads: dict[str, Aead] = {}
        # (salt, log2_n, r, p) -> key: scrypt runs once per process, not once per write.
        self._derived: tuple[tuple[bytes, int, int, int], bytes] | None = None

    def __repr__(self) -> str:
        return f"LocalKeyFileProvider(path={str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    def create_kek(self, tenant: TenantId, version: int) -> str:
        key_ref = f"{tenant}/v{version}"
        with self._lock, self._file_lock():
            keys = self._read()
            if key_ref not in keys:
                keys[key_ref] = generate_key()
                self._write(keys)
        return key_ref

    def wrap(self, key_ref: str, dek: bytes, aad: bytes) -> bytes:
        nonce = random_bytes(NONCE_BYTES)
        return nonce + self._aead(key_ref).seal(nonce, dek, aad)

    def unwrap(self, key_ref: str, wrapped: bytes, aad: bytes) -> bytes:
        try:
            aead = self._aead(key_ref)
        except UnknownKey as exc:
            raise CryptoError() from exc
        return aead.open(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)

    def destroy_kek(self, key_ref: str) -> None:
        with self._lock, self._file_lock():
            keys = self._read()
            if keys.pop(key_ref, None) is not None:
                self._write(keys)
            self._aeads.pop(key_ref, None)

    def check(self) -> int:
        """Open the file (creating it if absent) and return how many KEKs it holds."""
        with self._lock:
            self._keys = None
            return len(self._load())

    # Internals.
    def _aead(self, key_ref: str) -> Aead:
        aead = self._aeads.get(key_ref)
        if aead is None:
            with self._lock:
                key = self._load().get(key_ref)
                if key is None:
                    self._keys = None  # another process may have added it
                    key = self._load().get(key_ref)
                if key is None:
                    raise UnknownKey("no such KEK in the key file")
                aead = self._aeads[key_ref] = Aead(key)
        return aead

    def _load(self) -> dict[str, bytes]:
        if self._keys is None:
            with self._file_lock():
                self._keys = self._read()
        return self._keys

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        lock_path = self._path.with_name(self._path.name + ".lock")
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_secret_file(lock_path)
        with open(lock_path, "rb+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> dict[str, bytes]:
        """Parse the file; a missing or empty file is a new, empty key file."""
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            self._write({})
            return {}
        if not raw:
            self._write({})
            return {}
        try:
            doc = json.loads(raw)
            if doc.get("format") != FORMAT or doc.get("version") != FILE_VERSION:
                raise KeyFileCorrupt(f"{self._path}: not a Rempart vault key file")
            kdf, payload_b64, checksum = doc["kdf"], doc["payload"], doc["checksum"]
            payload = base64.b64decode(payload_b64, validate=True)
        except KeyFileCorrupt:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise KeyFileCorrupt(f"{self._path}: key file is not valid") from exc
        if not constant_time_equal(_checksum(kdf, payload), _unhex(checksum, self._path)):
            raise KeyFileCorrupt(f"{self._path}: key file checksum mismatch (damaged file)")
        if kdf is None:
            if self._passphrase is not None:
                raise WrongPassphrase(f"{self._path}: key file is not passphrase-protected")
            plain = payload
        else:
            if self._passphrase is None:
                raise WrongPassphrase(f"{self._path}: key file needs a passphrase")
            plain = self._decrypt_payload(kdf, payload)
        try:
            entries = json.loads(plain)["keks"]
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in entries.items()}
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise KeyFileCorrupt(f"{self._path}: key file content is not valid") from exc
        if any(len(k) != 32 for k in keys.values()):
            raise KeyFileCorrupt(f"{self._path}: key file holds a key of the wrong size")
        return keys

    def _decrypt_payload(self, kdf: Any, payload: bytes) -> bytes:
        try:
            if kdf["name"] != "scrypt":
                raise KeyFileCorrupt(f"{self._path}: unknown key derivation")
            salt = base64.b64decode(kdf["salt"], validate=True)
            params = (int(kdf["log2_n"]), int(kdf["r"]), int(kdf["p"]))
        except KeyFileCorrupt:
            raise
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise KeyFileCorrupt(f"{self._path}: key derivation parameters are not valid") from exc
        if not (10 <= params[0] <= 22 and 1 <= params[1] <= 32 and 1 <= params[2] <= 16):
            raise KeyFileCorrupt(f"{self._path}: key derivation parameters out of range")
        key = self._passphrase_key(salt, *params)
        try:
            return Aead(key).open(payload[:NONCE_BYTES], payload[NONCE_BYTES:], _PAYLOAD_AAD)
        except CryptoError:
            raise WrongPassphrase(f"{self._path}: wrong passphrase") from None

    def _passphrase_key(self, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
        params = (salt, log2_n, r, p)
        if self._derived is not None and self._derived[0] == params:
            return self._derived[1]
        if self._passphrase is None:  # pragma: no cover - checked by the caller
            raise WrongPassphrase("passphrase required")
        key = scrypt_derive(self._passphrase, salt=salt, log2_n=log2_n, r=r, p=p)
        self._derived = (params, key)
        return key

    def _write(self, keys: dict[str, bytes]) -> None:
        plain = json.dumps(
            {"keks": {k: base64.b64encode(v).decode() for k, v in sorted(keys.items())}}
        ).encode()
        kdf: dict[str, Any] | None = None
        if self._passphrase is None:
            payload = plain
        else:
            if self._derived is None:
                s = self._scrypt
                self._passphrase_key(random_bytes(16), s["log2_n"], s["r"], s["p"])
            if self._derived is None:  # pragma: no cover - set just above
                raise WrongPassphrase("passphrase required")
            (salt, log2_n, r, p), key = self._derived
            kdf = {
                "name": "scrypt",
                "salt": base64.b64encode(salt).decode(),
                "log2_n": log2_n,
                "r": r,
                "p": p,
            }
            nonce = random_bytes(NONCE_BYTES)
            payload = nonce + Aead(key).seal(nonce, plain, _PAYLOAD_AAD)
        doc = {
            "format": FORMAT,
            "version": FILE_VERSION,
            "kdf": kdf,
            "payload": base64.b64encode(payload).decode(),
            "checksum": _checksum(kdf, payload).hex(),
        }
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self._path.with_name(self._path.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        create_secret_file(tmp)
        with open(tmp, "wb") as handle:
            handle.write(json.dumps(doc, indent=1).encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._path)
        self._keys = dict(keys)


def _checksum(kdf: Any, payload: bytes) -> bytes:
    return sha256(json.dumps(kdf, sort_keys=True).encode() + b"\x00" + payload)


def _unhex(value: Any, path: Path) -> bytes:
    try:
        return bytes.fromhex(str(value))
    except ValueError as exc:
        raise KeyFileCorrupt(f"{path}: key file checksum is not valid") from exc


__all__ = ["DEFAULT_FILE_NAME", "LocalKeyFileProvider"]
