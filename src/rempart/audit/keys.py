"""The checkpoint signing key, kept wrapped under a key of ``rempart.vault``.

Checkpoint code depends only on the ``NoteSigner`` protocol (``name``,
``public_key()``, ``sign(message)``). The platform's Ed25519 key is stored in
the data directory *wrapped* (AES-256-GCM with associated data) by a KEK that
lives in the vault's key provider (the local key file, a PKCS#11 HSM or AWS
KMS, whichever ``vault_default_provider`` names): the file alone does not
give the key, and any change to it (wrapped bytes, name, public key, KEK
reference) makes unwrapping fail. A plain key file left by an earlier version
(``audit-checkpoint.key``) is wrapped on first use and then removed.

The platform has no tenant keyring (vault keyrings belong to registered
tenants), so the key is wrapped by the provider directly, through the same
public ``KeyProvider`` interface the vault wraps tenants' DEKs with, under a
KEK of its own (``platform-audit-checkpoint``, version 1).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rempart.audit.errors import CheckpointError
from rempart.audit.note import Ed25519Signer, NoteSigner, verifier_key
from rempart.config import create_secret_file
from rempart.errors import ConfigurationError, CryptoError
from rempart.types import TenantId

if TYPE_CHECKING:
    from rempart.config import Settings
    from rempart.vault import KeyProvider

KEY_FILE = "audit-checkpoint.key"
"""The plain key file of earlier versions (migrated to ``WRAPPED_KEY_FILE``)."""
WRAPPED_KEY_FILE = "audit-checkpoint.key.wrapped"
PUBLIC_KEY_FILE = "audit-checkpoint.pub"
DEFAULT_KEY_NAME = "rempart-audit"
KEK_OWNER = TenantId("platform-audit-checkpoint")
"""The name the signing key's KEK is created under in the provider (not a tenant)."""
WRAPPED_FORMAT = "rempart-audit-signing-key"
_AAD_LABEL = b"rempart/audit/checkpoint-key/v1"


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
    """A checkpoint signer in a *plain* key file (0600), created on first use in ``data_dir``.

    The server and the CLI use ``checkpoint_signer`` (the key wrapped under the
    vault) instead; this stays for tools and tests. The public verifier key is
    written beside it (``audit-checkpoint.pub``) for auditors to copy.
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


def _lp(value: str) -> bytes:
    data = value.encode("utf-8")
    return len(data).to_bytes(2, "big") + data


def _aad(name: str, provider: str, key_ref: str, public_key: bytes) -> bytes:
    """What the wrapping binds: the key's name, where its KEK is, and its public key."""
    return _AAD_LABEL + _lp(name) + _lp(provider) + _lp(key_ref) + public_key


def _write_secret(path: Path, text: str) -> bool:
    """Create ``path`` (owner-only) holding ``text``, atomically; False if it already exists.

    The text goes to a temporary file first, then is linked into place, so two
    processes creating the key at once cannot both win: the loser reads the
    winner's key instead of signing with one that is no longer stored.
    """
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    create_secret_file(tmp)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, text.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def wrap_signer(signer: Ed25519Signer, provider: KeyProvider, path: Path) -> bool:
    """Store ``signer`` at ``path`` wrapped under a KEK of ``provider`` (created if needed).

    Never replaces an existing file: returns False if ``path`` already exists.
    """
    key_ref = provider.create_kek(KEK_OWNER, 1)
    public = signer.public_key()
    wrapped = provider.wrap(
        key_ref, signer.seed(), _aad(signer.name, provider.name, key_ref, public)
    )
    doc = {
        "format": WRAPPED_FORMAT,
        "version": 1,
        "name": signer.name,
        "provider": provider.name,
        "key_ref": key_ref,
        "public_key": base64.b64encode(public).decode("ascii"),
        "wrapped": base64.b64encode(wrapped).decode("ascii"),
    }
    return _write_secret(path, json.dumps(doc, sort_keys=True) + "\n")


def _field(doc: dict[str, Any], name: str, path: Path) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"wrapped audit signing key {path}: missing or bad {name!r}")
    return value


def _b64_field(doc: dict[str, Any], name: str, path: Path) -> bytes:
    try:
        return base64.b64decode(_field(doc, name, path), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(
            f"wrapped audit signing key {path}: {name!r} is not base64"
        ) from exc


def unwrap_signer(path: Path, providers: Mapping[str, KeyProvider]) -> Ed25519Signer:
    """Load the wrapped key at ``path``; a file altered in any way fails here, clearly."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise ConfigurationError(f"wrapped audit signing key not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"wrapped audit signing key {path} is not a key file") from exc
    if mode & 0o077:
        raise ConfigurationError(f"audit signing key {path} is readable by others (chmod 600)")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"wrapped audit signing key {path} is not JSON") from exc
    if not isinstance(doc, dict) or doc.get("format") != WRAPPED_FORMAT or doc.get("version") != 1:
        raise ConfigurationError(f"{path} is not a wrapped audit signing key (format, version 1)")
    name, provider_name = _field(doc, "name", path), _field(doc, "provider", path)
    key_ref = _field(doc, "key_ref", path)
    public, wrapped = _b64_field(doc, "public_key", path), _b64_field(doc, "wrapped", path)
    provider = providers.get(provider_name)
    if provider is None:
        raise ConfigurationError(
            f"audit signing key {path} is wrapped by the vault provider {provider_name!r}, "
            "which is not configured"
        )
    try:
        seed = provider.unwrap(key_ref, wrapped, _aad(name, provider_name, key_ref, public))
        signer = Ed25519Signer.from_seed(name, seed)
    except (CryptoError, CheckpointError) as exc:
        raise ConfigurationError(
            f"audit signing key {path} does not unwrap under the vault's key "
            "(the file was altered, or this is not the vault it was wrapped with)"
        ) from exc
    if signer.public_key() != public:  # pragma: no cover - the AAD binds the public key
        raise ConfigurationError(f"audit signing key {path} does not match its public key")
    return signer


def load_or_create_wrapped_signer(
    data_dir: Path, provider: KeyProvider, name: str = DEFAULT_KEY_NAME
) -> Ed25519Signer:
    """The platform's checkpoint signer, wrapped under ``provider`` in ``data_dir``.

    First use creates it (or migrates the plain ``audit-checkpoint.key`` of
    earlier versions: wrapped, checked by unwrapping, then the plain file is
    overwritten and removed). The public verifier key is written beside it
    (``audit-checkpoint.pub``) for auditors to copy.
    """
    wrapped_path, plain_path = data_dir / WRAPPED_KEY_FILE, data_dir / KEY_FILE
    providers = {provider.name: provider}
    if wrapped_path.exists():
        signer = unwrap_signer(wrapped_path, providers)
        if plain_path.exists():  # a migration interrupted after the wrapped file was written
            if load_signer(plain_path).public_key() != signer.public_key():
                raise ConfigurationError(
                    f"{plain_path} and {wrapped_path} hold different audit signing keys"
                )
            _remove_plain(plain_path)
        return signer
    signer = load_signer(plain_path) if plain_path.exists() else Ed25519Signer.generate(name)
    if not wrap_signer(signer, provider, wrapped_path):
        # Another process created it meanwhile: use that one (and finish its migration).
        return load_or_create_wrapped_signer(data_dir, provider, name)
    if unwrap_signer(wrapped_path, providers).public_key() != signer.public_key():
        raise ConfigurationError(f"audit signing key {wrapped_path} did not round-trip")
    if plain_path.exists():
        _remove_plain(plain_path)
    (data_dir / PUBLIC_KEY_FILE).write_text(verifier_key(signer) + "\n", encoding="ascii")
    return signer


def _remove_plain(path: Path) -> None:
    """Overwrite then remove a plain key file (best effort: backups and SSD blocks remain)."""
    size = path.stat().st_size
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, b"\0" * size)
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()


def checkpoint_signer(settings: Settings) -> Ed25519Signer:
    """The checkpoint signer the settings describe: wrapped under the vault's default provider."""
    from rempart.config import ensure_data_dir
    from rempart.vault.setup import key_providers

    wanted = settings.vault_default_provider
    for provider in key_providers(settings):
        if provider.name == wanted:
            return load_or_create_wrapped_signer(ensure_data_dir(settings), provider)
    raise ConfigurationError(f"vault key provider {wanted!r} is not configured")


__all__ = [
    "DEFAULT_KEY_NAME",
    "KEK_OWNER",
    "KEY_FILE",
    "PUBLIC_KEY_FILE",
    "WRAPPED_KEY_FILE",
    "NoteSigner",
    "checkpoint_signer",
    "load_or_create_signer",
    "load_or_create_wrapped_signer",
    "load_signer",
    "unwrap_signer",
    "wrap_signer",
]
