"""What the identity flows share: database, vault seam, clock, HTTP transport, abuse guards.

One ``IdentityContext`` lives per process (the API builds it once). It also
keeps each provider's ``PinnedKeys`` between requests, so the bounded JWKS
refresh is bounded across requests too, whatever becomes of each request's
transaction. A rotation found by a refresh is kept in memory; ``rempart
identity idp refresh`` (or reconfiguring) stores it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from rempart.identity.discovery import fetch_jwks, http_client
from rempart.identity.idp import SecretSealer
from rempart.identity.keys import PinnedKeys
from rempart.identity.models import IdentityProvider
from rempart.identity.ratelimit import Limit, Lockout, RateLimiter
from rempart.storage import Database
from rempart.types import Clock, TenantId, utc_now


@dataclass
class IdentityContext:
    db: Database
    sealer: SecretSealer | None = None
    clock: Clock = utc_now
    http_transport: httpx.BaseTransport | None = None
    login_lockout: Lockout | None = None
    login_rate: RateLimiter | None = None
    scim_lockout: Lockout | None = None
    _keys: dict[tuple[str, str], PinnedKeys] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        # A contact center's agents often share one NAT address: the limits are
        # per address but sized for a shift starting at once, so that a few
        # failed callbacks cannot lock a whole site out.
        if self.login_lockout is None:
            self.login_lockout = Lockout(
                threshold=20,
                window=timedelta(minutes=10),
                duration=timedelta(minutes=5),
                clock=self.clock,
            )
        if self.scim_lockout is None:
            self.scim_lockout = Lockout(threshold=10, clock=self.clock)
        if self.login_rate is None:
            self.login_rate = RateLimiter(Limit(300, timedelta(minutes=1)), clock=self.clock)

    def http(self) -> httpx.Client:
        return http_client(self.http_transport)

    def pinned_keys(self, tenant_id: TenantId, idp: IdentityProvider) -> PinnedKeys:
        """The provider's keys, reusing the process's copy unless the pin moved on."""
        key = (str(tenant_id), idp.id)
        with self._lock:
            cached = self._keys.get(key)
            if cached is not None and cached.fetched_at >= idp.jwks_fetched_at:
                return cached
            jwks_uri = idp.discovery["jwks_uri"]

            def refresh() -> dict[str, Any]:
                with self.http() as client:
                    return fetch_jwks(client, jwks_uri)

            keys = PinnedKeys(
                idp.jwks,
                fetched_at=idp.jwks_fetched_at,
                refresh=refresh,
                clock=self.clock,
            )
            self._keys[key] = keys
            return keys


__all__ = ["IdentityContext"]
