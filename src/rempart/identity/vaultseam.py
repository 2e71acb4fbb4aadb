"""The vault as the identity package's secret sealer, opened only when a secret is touched.

``LazyVaultSealer`` opens the local vault (key file in the data directory,
keyrings in the database) on first use, so an application whose providers
have no client secret never needs a vault. A deployment with an HSM or a
KMS sets ``app.state.identity`` with its own ``Vault`` as the sealer.
"""

from __future__ import annotations

import threading

from rempart.config import Settings
from rempart.storage import Database
from rempart.types import TenantId
from rempart.vault import Vault, open_local_vault
from rempart.vault.format import FieldContext
from rempart.vault.sql_store import SqlKeyringStore


class LazyVaultSealer:
    def __init__(self, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db
        self._vault: Vault | None = None
        self._lock = threading.Lock()

    def _get(self) -> Vault:
        with self._lock:
            if self._vault is None:
                self._vault = open_local_vault(self._settings, store=SqlKeyringStore(self._db))
            return self._vault

    def ensure_tenant(self, tenant: TenantId) -> object:
        return self._get().ensure_tenant(tenant)

    def encrypt_field(self, ctx: FieldContext, plaintext: bytes) -> bytes:
        return self._get().encrypt_field(ctx, plaintext)

    def decrypt_field(self, ctx: FieldContext, ciphertext: bytes) -> bytes:
        return self._get().decrypt_field(ctx, ciphertext)


__all__ = ["LazyVaultSealer"]
