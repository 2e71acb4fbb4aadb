"""The local key file provider: KEKs in one 0600 file in the data directory.

The file is JSON: a format marker, optional key derivation parameters, a
payload and a SHA-256 checksum of both. Without a passphrase the payload holds
the KEKs in base64 (protected by the file mode alone); with one, the payload is
AES-256-GCM-encrypted under a key derived from the passphrase with scrypt or
Argon2id. The file records which (and its parameters), so a file opens whatever
the provider would choose for a new one. The
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
from typing import Any, Literal, get_args

from rempart.config import create_secret_file
from rempart.errors import CryptoError
from rempart.types import TenantId
from rempart.vault.errors import KeyFileCorrupt, KeyProviderError, UnknownKey, WrongPassphrase
from rempart.vault.hazmat import (
    NONCE_BYTES,
    Aead,
    argon2id_derive,
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
MIN_ARGON2_MEMORY_KIB = 19 * 1024
"""OWASP's floor for Argon2id (19 MiB, 2 passes, 1 lane)."""
MIN_ARGON2_ITERATIONS = 2
PassphraseKdf = Literal["scrypt", "argon2id"]
_PAYLOAD_AAD = b"rempart/vault/keyfile/v1"


class LocalKeyFileProvider:
    """KEKs in a local file; each KEK wraps DEKs with AES-256-GCM and associated data."""

    name = "local"

    def __init__(
        self,
        path: Path,
        *,
        passphrase: str | None = None,
        kdf: PassphraseKdf = "scrypt",
        scrypt_log2_n: int = 15,
        scrypt_r: int = 8,
        scrypt_p: int = 1,
        argon2_memory_kib: int = 64 * 1024,
        argon2_iterations: int = 3,
        argon2_lanes: int = 4,
    ) -> None:
        """``kdf`` and its parameters apply to a new file; an existing file opens with
        the derivation it records. Argon2id defaults are RFC 9106's second
        recommended option (64 MiB, 3 passes, 4 lanes)."""
        if passphrase is not None and not passphrase:
            raise ValueError("passphrase must not be empty")
        if kdf not in get_args(PassphraseKdf):
            raise ValueError(f"unknown passphrase key derivation: {kdf}")
        if scrypt_log2_n < MIN_SCRYPT_LOG2_N:
            raise ValueError(f"scrypt_log2_n must be at least {MIN_SCRYPT_LOG2_N}")
        if (
            argon2_memory_kib < MIN_ARGON2_MEMORY_KIB
            or argon2_iterations < MIN_ARGON2_ITERATIONS
            or not 1 <= argon2_lanes <= 16
        ):
            raise ValueError(
                f"argon2 parameters must be at least {MIN_ARGON2_MEMORY_KIB} KiB and "
                f"{MIN_ARGON2_ITERATIONS} passes, with 1 to 16 lanes"
            )
        self._path = path
        self._passphrase = passphrase.encode() if passphrase is not None else None
        self._kdf: PassphraseKdf = kdf
        self._params: dict[str, tuple[int, int, int]] = {
            "scrypt": (scrypt_log2_n, scrypt_r, scrypt_p),
            "argon2id": (argon2_memory_kib, argon2_iterations, argon2_lanes),
        }
        self._lock = threading.RLock()
        self._keys: dict[str, bytes] | None = None
        self._aeads: dict[str, Aead] = {}
        # (kdf, salt, params) -> key: the derivation runs once per process, not per write.
        self._derived: tuple[tuple[str, bytes, tuple[int, int, int]], bytes] | None = None
        self._protection: str | None = None

    def __repr__(self) -> str:
        return f"LocalKeyFileProvider(path={str(self._path)!r})"

    @property
    def path(self) -> Path:
        return self._path

    @property
    def protection(self) -> str:
        """How the file in use is protected: ``none`` (file mode only), ``scrypt`` or
        ``argon2id``, as recorded in the file."""
        with self._lock:
            self._load()
            return self._protection or "none"

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

    def find_keks(self, tenant: TenantId, version: int) -> list[str]:
        key_ref = f"{tenant}/v{version}"
        with self._lock, self._file_lock():
            return [key_ref] if key_ref in self._read() else []

    def reprotect(self, passphrase: str | None, *, kdf: PassphraseKdf | None = None) -> None:
        """Rewrite the key file under a new passphrase (``None``: file mode only) and
        derivation (default: the one this provider was built with), with a new salt.

        The file must open with the current passphrase first; the rewrite is atomic.
        """
        if passphrase is not None and not passphrase:
            raise ValueError("passphrase must not be empty")
        if kdf is not None and kdf not in get_args(PassphraseKdf):
            raise ValueError(f"unknown passphrase key derivation: {kdf}")
        with self._lock, self._file_lock():
            keys = self._read()
            self._passphrase = passphrase.encode() if passphrase is not None else None
            self._kdf = kdf or self._kdf
            self._derived = None
            self._write(keys)

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
            self._protection = None
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
            name = kdf["name"]
            if name not in get_args(PassphraseKdf):
                raise KeyFileCorrupt(f"{self._path}: unknown key derivation")
            salt = base64.b64decode(kdf["salt"], validate=True)
            if name == "scrypt":
                params = (int(kdf["log2_n"]), int(kdf["r"]), int(kdf["p"]))
                valid = 10 <= params[0] <= 22 and 1 <= params[1] <= 32 and 1 <= params[2] <= 16
            else:
                params = (int(kdf["memory_kib"]), int(kdf["iterations"]), int(kdf["lanes"]))
                # Bounded above so that a planted file cannot make opening it take
                # gigabytes or minutes.
                valid = (
                    8 * 1024 <= params[0] <= 1024 * 1024
                    and 1 <= params[1] <= 16
                    and 1 <= params[2] <= 16
                )
        except KeyFileCorrupt:
            raise
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise KeyFileCorrupt(f"{self._path}: key derivation parameters are not valid") from exc
        if not valid or len(salt) < 16:
            raise KeyFileCorrupt(f"{self._path}: key derivation parameters out of range")
        self._protection = name
        key = self._passphrase_key(name, salt, params)
        try:
            return Aead(key).open(payload[:NONCE_BYTES], payload[NONCE_BYTES:], _PAYLOAD_AAD)
        except CryptoError:
            raise WrongPassphrase(f"{self._path}: wrong passphrase") from None

    def _passphrase_key(self, name: str, salt: bytes, params: tuple[int, int, int]) -> bytes:
        if self._derived is not None and self._derived[0] == (name, salt, params):
            return self._derived[1]
        if self._passphrase is None:  # pragma: no cover - checked by the caller
            raise WrongPassphrase("passphrase required")
        if name == "scrypt":
            key = scrypt_derive(
                self._passphrase, salt=salt, log2_n=params[0], r=params[1], p=params[2]
            )
        else:
            try:
                key = argon2id_derive(
                    self._passphrase,
                    salt=salt,
                    memory_kib=params[0],
                    iterations=params[1],
                    lanes=params[2],
                )
            except RuntimeError as exc:  # pragma: no cover - depends on the build
                raise KeyProviderError(f"{self._path}: {exc}") from None
        self._derived = ((name, salt, params), key)
        return key

    def _write(self, keys: dict[str, bytes]) -> None:
        plain = json.dumps(
            {"keks": {k: base64.b64encode(v).decode() for k, v in sorted(keys.items())}}
        ).encode()
        kdf: dict[str, Any] | None = None
        if self._passphrase is None:
            payload = plain
            self._protection = None
        else:
            if self._derived is None:
                self._passphrase_key(self._kdf, random_bytes(16), self._params[self._kdf])
            if self._derived is None:  # pragma: no cover - set just above
                raise WrongPassphrase("passphrase required")
            (name, salt, params), key = self._derived
            names = ("log2_n", "r", "p") if name == "scrypt" else _ARGON2_FIELDS
            kdf = {"name": name, "salt": base64.b64encode(salt).decode()}
            kdf.update(zip(names, params, strict=True))
            self._protection = name
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


_ARGON2_FIELDS = ("memory_kib", "iterations", "lanes")


def _checksum(kdf: Any, payload: bytes) -> bytes:
    return sha256(json.dumps(kdf, sort_keys=True).encode() + b"\x00" + payload)


def _unhex(value: Any, path: Path) -> bytes:
    try:
        return bytes.fromhex(str(value))
    except ValueError as exc:
        raise KeyFileCorrupt(f"{path}: key file checksum is not valid") from exc


__all__ = ["DEFAULT_FILE_NAME", "LocalKeyFileProvider", "PassphraseKdf"]
