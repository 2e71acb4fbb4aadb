"""The checkpoint signing key: a local key file in the data directory, for now.

Seam for ``rempart.vault``: checkpoint code depends only on the
``NoteSigner`` protocol (``name``, ``public_key()``, ``sign(message)``).
When the vault offers Ed25519 signing (local file, PKCS#11, cloud KMS), a
vault-backed ``NoteSigner`` replaces ``load_or_create_signer`` at the call
sites (the CLI and the scheduler) and nothing else changes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rempart.audit.errors import CheckpointError
from rempart.audit.note import Ed25519Signer, NoteSigner, verifier_key
from rempart.config import create_secret_file
from rempart.errors import ConfigurationError

KEY_FILE = "audit-checkpoint.key"
PUBLIC_KEY_FILE = "audit-checkpoint.pub"
DEFAULT_KEY_NAME = "rempart-audit"


def load_signer(path: Path) -> Ed25519Signer:
    """Load a signing key file, refusing one that others can read."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError as exc:
        raise ConfigurationError(f"audit signing key not found: {path}") from exc
    if mode & 0o077:
        raise ConfigurationError(f"audit signing key {path} is readable by others (chmod 600)")
    try:
        return Ed25519Signer.from_skey(path.read_text(encoding="ascii"))
    except (CheckpointError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"audit signing key {path} is not a valid key file") from exc


def load_or_create_signer(data_dir: Path, name: str = DEFAULT_KEY_NAME) -> Ed25519Signer:
    """The platform's checkpoint signer, created (0600) on first use in ``data_dir``.

    The public verifier key is written beside it (``audit-checkpoint.pub``)
    for auditors to copy.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        signer = Ed25519Signer.generate(name)
        create_secret_file(path)
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, (signer.to_skey() + "\n").encode("ascii"))
        finally:
            os.close(fd)
        (data_dir / PUBLIC_KEY_FILE).write_text(verifier_key(signer) + "\n", encoding="ascii")
        return signer
    return load_signer(path)


__all__ = [
    "DEFAULT_KEY_NAME",
    "KEY_FILE",
    "PUBLIC_KEY_FILE",
    "NoteSigner",
    "load_or_create_signer",
    "load_signer",
]
