"""The key provider interface: where a tenant's key-encryption keys (KEKs) live.

A provider creates a KEK per tenant and version, wraps and unwraps DEKs with
it (binding associated data to each wrapping), and destroys it. The vault
calls a provider only when a DEK is created, re-wrapped or missing from the
DEK cache, never once per field.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from rempart.types import TenantId
from rempart.vault.errors import ProviderUnavailable


class KeyProvider(Protocol):
    """Holds KEKs. ``unwrap`` fails with ``CryptoError`` on a wrong key or altered input,
    and with ``ProviderUnavailable`` when the HSM or KMS cannot be reached."""

    @property
    def name(self) -> str: ...

    def create_kek(self, tenant: TenantId, version: int) -> str:
        """Create a new KEK and return its handle (never the key itself)."""

    def wrap(self, key_ref: str, dek: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, key_ref: str, wrapped: bytes, aad: bytes) -> bytes: ...

    def destroy_kek(self, key_ref: str) -> None:
        """Make the KEK unusable for good (idempotent)."""

    def find_keks(self, tenant: TenantId, version: int) -> list[str]:
        """Handles of live KEKs this provider holds for that tenant and version (what a
        ``create_kek`` interrupted by a crash may have left); used by the recovery sweep."""


T = TypeVar("T")


def with_retries(
    call: Callable[[], T],
    *,
    retryable: Callable[[Exception], bool],
    attempts: int = 5,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "key provider",
) -> T:
    """Run ``call``, retrying retryable failures with capped exponential backoff and full
    jitter; after the last attempt, raise ``ProviderUnavailable``."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:
            if not retryable(exc):
                raise
            if attempt == attempts - 1:
                raise ProviderUnavailable(
                    f"{what} unavailable after {attempts} attempts: {type(exc).__name__}"
                ) from exc
            delay = min(max_delay, base_delay * 2**attempt)
            sleep(random.uniform(0, delay))  # noqa: S311 - jitter, not a secret
    raise ProviderUnavailable(f"{what} unavailable")  # pragma: no cover - attempts >= 1


__all__ = ["KeyProvider", "with_retries"]
