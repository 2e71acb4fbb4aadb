"""Build the vault from the settings: key providers, the keyring store, the provider per tenant.

The local key file is always available; the PKCS#11 and AWS KMS providers are
built when their settings are present, and a provider chosen for a tenant (or as
the default) but not configured is a ``ConfigurationError`` at start, not a
failure on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rempart.config import Settings, ensure_data_dir
from rempart.errors import ConfigurationError
from rempart.types import TenantId
from rempart.vault.core import Vault
from rempart.vault.events import VaultEventSink, discard_events
from rempart.vault.providers.base import KeyProvider
from rempart.vault.providers.local import DEFAULT_FILE_NAME, LocalKeyFileProvider
from rempart.vault.store import KeyringStore, MemoryKeyringStore

if TYPE_CHECKING:
    from rempart.storage import Database


def key_providers(settings: Settings) -> list[KeyProvider]:
    """The providers the settings configure (the local key file first, always)."""
    path = settings.vault_key_file or ensure_data_dir(settings) / DEFAULT_FILE_NAME
    passphrase = settings.vault_passphrase
    providers: list[KeyProvider] = [
        LocalKeyFileProvider(
            path,
            passphrase=passphrase.get_secret_value() if passphrase is not None else None,
            kdf=settings.vault_passphrase_kdf,
        )
    ]
    if settings.vault_pkcs11_library:
        label, pin = settings.vault_pkcs11_token_label, settings.vault_pkcs11_pin
        if not label or pin is None:
            raise ConfigurationError(
                "vault_pkcs11_library needs vault_pkcs11_token_label and vault_pkcs11_pin"
            )
        from rempart.vault.providers.pkcs11 import Pkcs11Provider

        providers.append(
            Pkcs11Provider(
                settings.vault_pkcs11_library, token_label=label, user_pin=pin.get_secret_value()
            )
        )
    if settings.vault_kms_region or settings.vault_kms_endpoint_url:
        from rempart.vault.providers.aws_kms import AwsKmsProvider

        providers.append(
            AwsKmsProvider(
                region=settings.vault_kms_region or "eu-west-3",
                endpoint_url=settings.vault_kms_endpoint_url,
            )
        )
    names = {p.name for p in providers}
    chosen = {settings.vault_default_provider, *settings.vault_tenant_providers.values()}
    missing = sorted(chosen - names)
    if missing:
        raise ConfigurationError(
            f"vault key provider chosen but not configured: {', '.join(missing)}"
        )
    return providers


def provider_for(settings: Settings, tenant: TenantId, slug: str | None = None) -> str:
    """The provider a new keyring of this tenant is created with."""
    chosen = settings.vault_tenant_providers
    if tenant in chosen:
        return chosen[tenant]
    if slug is not None and slug in chosen:
        return chosen[slug]
    return settings.vault_default_provider


def open_vault(
    settings: Settings,
    db: Database | None = None,
    *,
    store: KeyringStore | None = None,
    on_event: VaultEventSink = discard_events,
    check: bool = True,
) -> Vault:
    """The vault the settings describe; keyrings in the database when ``db`` is given.

    With ``check`` the local key file is opened at once (created if absent), so a
    wrong passphrase or a damaged file is reported now, not on the first key use.
    """
    if store is None:
        if db is not None:
            from rempart.vault.sql_store import SqlKeyringStore

            store = SqlKeyringStore(db)
        else:
            store = MemoryKeyringStore()
    providers = key_providers(settings)
    if check:
        for provider in providers:
            if isinstance(provider, LocalKeyFileProvider):
                provider.check()
    return Vault(
        store,
        providers,
        default_provider=settings.vault_default_provider,
        on_event=on_event,
    )


__all__ = ["key_providers", "open_vault", "provider_for"]
