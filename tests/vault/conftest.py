"""Fixtures of the vault tests: a real local key file provider in a temp directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rempart.types import TenantId
from rempart.vault import (
    FieldContext,
    LocalKeyFileProvider,
    MemoryKeyringStore,
    Vault,
    VaultEvent,
)
from rempart.vault.cache import CacheLimits

TENANT = TenantId("tenant-a")
OTHER = TenantId("tenant-b")


class CountingProvider(LocalKeyFileProvider):
    """The real local provider, counting its calls (to prove the DEK cache works)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.unwraps = 0
        self.wraps = 0

    def wrap(self, key_ref: str, dek: bytes, aad: bytes) -> bytes:
        self.wraps += 1
        return super().wrap(key_ref, dek, aad)

    def unwrap(self, key_ref: str, wrapped: bytes, aad: bytes) -> bytes:
        self.unwraps += 1
        return super().unwrap(key_ref, wrapped, aad)


@pytest.fixture
def provider(tmp_path: Path) -> CountingProvider:
    return CountingProvider(tmp_path / "vault-keys.json")


@pytest.fixture
def store() -> MemoryKeyringStore:
    return MemoryKeyringStore()


@pytest.fixture
def events() -> list[VaultEvent]:
    return []


VaultFactory = Callable[..., Vault]


@pytest.fixture
def make_vault(
    provider: CountingProvider, store: MemoryKeyringStore, events: list[VaultEvent]
) -> VaultFactory:
    def make(**kwargs: object) -> Vault:
        kwargs.setdefault("on_event", events.append)
        kwargs.setdefault("cache_limits", CacheLimits())
        return Vault(store, [provider], **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def vault(make_vault: VaultFactory) -> Vault:
    v = make_vault()
    v.create_tenant(TENANT)
    v.create_tenant(OTHER)
    return v


def ctx(
    row: str = "row-1",
    *,
    tenant: TenantId = TENANT,
    table: str = "customers",
    column: str = "phone",
) -> FieldContext:
    return FieldContext(tenant, table, column, row)
