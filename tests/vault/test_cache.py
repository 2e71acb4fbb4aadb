"""The DEK cache's limits on age, use count, bytes and entries."""

from __future__ import annotations

import pytest

from rempart.vault import CacheLimits, Vault
from tests.vault.conftest import TENANT, CountingProvider, VaultFactory, ctx


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def vault_with(make_vault: VaultFactory, limits: CacheLimits, clock: Clock) -> Vault:
    vault = make_vault(cache_limits=limits, monotonic=clock)
    vault.create_tenant(TENANT)
    vault.keys.cache.clear()
    return vault


def test_an_entry_older_than_the_age_limit_is_unwrapped_again(
    make_vault: VaultFactory, provider: CountingProvider
) -> None:
    clock = Clock()
    vault = vault_with(make_vault, CacheLimits(max_age_seconds=60), clock)
    before = provider.unwraps
    ct = vault.encrypt_field(ctx(), b"a")
    vault.decrypt_field(ctx(), ct)
    assert provider.unwraps - before == 1
    clock.now += 59
    vault.encrypt_field(ctx(), b"a")
    assert provider.unwraps - before == 1
    clock.now += 2
    vault.encrypt_field(ctx(), b"a")  # expired: unwrapped again (and cached afresh)
    vault.decrypt_field(ctx(), ct)
    assert provider.unwraps - before == 2
    clock.now += 61
    vault.decrypt_field(ctx(), ct)  # decryption entries age out too
    assert provider.unwraps - before == 3


def test_the_message_limit_bounds_uses_of_one_cached_entry(
    make_vault: VaultFactory, provider: CountingProvider
) -> None:
    vault = vault_with(make_vault, CacheLimits(max_messages=10), Clock())
    before = provider.unwraps
    for _ in range(35):
        vault.encrypt_field(ctx(), b"a")
    assert provider.unwraps - before == 4  # 10 + 10 + 10 + 5


def test_the_byte_limit_bounds_bytes_under_one_cached_entry(
    make_vault: VaultFactory, provider: CountingProvider
) -> None:
    vault = vault_with(make_vault, CacheLimits(max_bytes=1000), Clock())
    before = provider.unwraps
    for _ in range(10):
        vault.encrypt_field(ctx(), b"x" * 300)  # three fit in 1000 bytes
    assert provider.unwraps - before == 4


def test_capacity_evicts_the_least_recently_used_entry(make_vault: VaultFactory) -> None:
    vault = vault_with(make_vault, CacheLimits(max_entries=3), Clock())
    for i in range(10):
        vault.encrypt_field(ctx(), b"x", subject=f"s{i}")
    assert len(vault.keys.cache) == 3


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        CacheLimits(max_age_seconds=0)
    with pytest.raises(ValueError, match="capacity"):
        CacheLimits(max_entries=0)


def test_cached_material_hides_its_key_in_repr(vault: Vault) -> None:
    vault.encrypt_field(ctx(), b"x")
    material = vault.keys.cache.get((TENANT, "data", 1))
    assert material is not None
    assert "hidden" in repr(material)
    assert "hidden" in repr(material.field)
