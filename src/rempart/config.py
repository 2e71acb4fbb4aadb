"""Settings: ``REMPART_*`` environment variables over an optional ``rempart.toml``.

Precedence, highest first: explicit arguments, environment, the TOML file,
defaults. The TOML file is ``./rempart.toml`` unless ``REMPART_CONFIG_FILE``
names another. Secrets are ``SecretStr`` and print masked.
"""

from __future__ import annotations

import os
import stat
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rempart.errors import ConfigurationError

_config_file: ContextVar[Path | None] = ContextVar("rempart_config_file", default=None)

DEFAULT_CONFIG_FILE = Path("rempart.toml")
DATA_DIR_MODE = 0o700
SECRET_FILE_MODE = 0o600


class Settings(BaseSettings):
    """Every setting Rempart reads. Defaults are the safe choice."""

    model_config = SettingsConfigDict(
        env_prefix="REMPART_",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    data_dir: Path = Field(
        default=Path(".rempart"),
        description="Directory for the SQLite database and local key material (0700).",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the database; SQLite in the data directory when unset.",
    )
    database_admin_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL of the table owner, used for migrations only.",
    )
    host: str = Field(default="127.0.0.1", description="Address the API server binds to.")
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=256 * 1_048_576,
        description="Largest request body the API accepts, in bytes.",
    )
    max_recording_bytes: int = Field(
        default=512 * 1_048_576,
        ge=1024,
        le=8 * 1024 * 1_048_576,
        description="Largest recording upload (PCM WAV) the API accepts, in bytes.",
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Proxy addresses whose X-Forwarded-For header is believed.",
    )
    api_docs_enabled: bool = Field(default=True, description="Serve /docs and /openapi.json.")
    audit_checkpoint_interval_seconds: int = Field(
        default=300,
        ge=10,
        le=86_400,
        description="How often `rempart serve` signs a checkpoint of each audit log that grew.",
    )
    vault_default_provider: Literal["local", "pkcs11", "aws-kms"] = Field(
        default="local", description="Key provider of new tenant keyrings (docs/vault.md)."
    )
    vault_tenant_providers: dict[str, Literal["local", "pkcs11", "aws-kms"]] = Field(
        default_factory=dict,
        description="Key provider per tenant slug or id, used when its keyring is created.",
    )
    vault_key_file: Path | None = Field(
        default=None, description="Local key file; <data_dir>/vault-keys.json when unset."
    )
    vault_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase of the local key file (none: file mode 0600 only)."
    )
    vault_passphrase_kdf: Literal["argon2id", "scrypt"] = Field(
        default="argon2id", description="Passphrase derivation of a new local key file."
    )
    vault_pkcs11_library: str | None = Field(default=None, description="PKCS#11 module path.")
    vault_pkcs11_token_label: str | None = None
    vault_pkcs11_pin: SecretStr | None = None
    vault_kms_region: str | None = Field(default=None, description="AWS region of the KMS.")
    vault_kms_endpoint_url: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = _config_file.get() or Path(
            os.environ.get("REMPART_CONFIG_FILE", str(DEFAULT_CONFIG_FILE))
        )
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    @property
    def effective_database_url(self) -> str:
        """The database URL in force (SQLite in the data directory by default)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'rempart.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    def masked(self) -> dict[str, Any]:
        """Settings as plain values, secrets and URL passwords masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = mask_url(value.get_secret_value())
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


def mask_url(value: str) -> str:
    """Hide the password of a URL (or the whole value when it is not a URL)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "**********"
    if not parts.scheme or "://" not in value:
        return "**********"
    if parts.password is None:
        return value
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings, turning any problem into one ``ConfigurationError``."""
    if config_file is not None and not config_file.is_file():
        raise ConfigurationError(f"configuration file not found: {config_file}")
    token = _config_file.set(config_file)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
    except ValueError as exc:  # e.g. a TOML syntax error
        raise ConfigurationError(f"invalid configuration file: {exc}") from exc
    finally:
        _config_file.reset(token)


def ensure_data_dir(settings: Settings) -> Path:
    """Create the data directory with mode 0700, tightening it if it is looser."""
    path = settings.data_dir
    path.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
    if not path.is_dir():
        raise ConfigurationError(f"data directory is not a directory: {path}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(DATA_DIR_MODE)
    return path


def create_secret_file(path: Path) -> None:
    """Create an empty file readable by its owner only (0600), if it does not exist."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, SECRET_FILE_MODE)
    os.close(fd)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(SECRET_FILE_MODE)


__all__ = [
    "Settings",
    "create_secret_file",
    "ensure_data_dir",
    "load_settings",
    "mask_url",
]
