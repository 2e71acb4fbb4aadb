"""Pseudonym key files: a tenant's HMAC key for the ``Pseudonym`` operator.

A key file holds 32 random bytes as 64 hexadecimal digits and a newline. It is
created with mode 0600 and never overwritten (a new key changes every
pseudonym); reading refuses a file that the group or others may read, and no
error message ever contains the key.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Final

from rempart.errors import ConfigurationError
from rempart.redaction.operators import PseudonymKey

KEY_BYTES: Final = 32
_MIN_KEY_BYTES: Final = 16
_TENANT_LABEL: Final = b"rempart.redaction.pseudonym.tenant\x00"


def create_key_file(path: str | Path) -> None:
    """Write a new random key to ``path`` (mode 0600); refuse to replace a file."""
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigurationError(
            f"pseudonym key file {target} already exists (a new key would change every "
            "pseudonym; use the file as it is)"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create pseudonym key file {target}: {exc.strerror}"
        ) from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(KEY_BYTES) + "\n")
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def load_key_file(path: str | Path) -> PseudonymKey:
    """The key in ``path``; a clear error (without the key) when it cannot be used."""
    target = Path(path)
    try:
        with target.open("rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            raw = f.read(4096)
    except FileNotFoundError:
        raise ConfigurationError(
            f"pseudonym key file {target} not found (create one with --new-key)"
        ) from None
    except IsADirectoryError:
        raise ConfigurationError(f"pseudonym key file {target} is a directory") from None
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read pseudonym key file {target}: {exc.strerror}"
        ) from None
    if not stat.S_ISREG(mode):
        raise ConfigurationError(f"pseudonym key file {target} is not a regular file")
    if mode & 0o077:
        raise ConfigurationError(
            f"pseudonym key file {target} may be read by group or others "
            f"(mode {stat.S_IMODE(mode):o}; chmod 600 it)"
        )
    try:
        text = raw.decode("ascii").strip()
        key = bytes.fromhex(text)
    except (UnicodeDecodeError, ValueError):
        raise ConfigurationError(
            f"pseudonym key file {target} does not hold a hexadecimal key"
        ) from None
    if len(key) < _MIN_KEY_BYTES:
        raise ConfigurationError(
            f"pseudonym key in {target} is shorter than {_MIN_KEY_BYTES} bytes"
        )
    return PseudonymKey(key)


def tenant_key(key: PseudonymKey, tenant: str) -> PseudonymKey:
    """A key of its own for ``tenant``, derived from ``key`` (HMAC-SHA256), so that a
    key file used for two tenants still gives them unrelated pseudonyms."""
    if not tenant:
        raise ConfigurationError("tenant must not be empty")
    return PseudonymKey(key.digest(_TENANT_LABEL + tenant.encode("utf-8")))


__all__ = ["KEY_BYTES", "create_key_file", "load_key_file", "tenant_key"]
