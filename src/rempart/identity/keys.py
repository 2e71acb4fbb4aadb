"""The pinned JWKS of an identity provider, with a bounded refresh on key rotation.

Only signature keys of asymmetric types are kept (``use`` absent or ``sig``,
``key_ops`` absent or containing ``verify``); private members are dropped.
A token naming a ``kid`` the pin does not hold makes ``PinnedKeys`` fetch the
JWKS again from the pinned ``jwks_uri``, at most once per ``refresh_interval``,
so a flood of tokens with made-up ``kid`` values cannot make Rempart hammer
the provider.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from rempart.errors import BadRequest, RempartError
from rempart.identity.jwt import TokenRejected
from rempart.types import Clock, utc_now

DEFAULT_REFRESH_INTERVAL = timedelta(minutes=5)
MAX_KEYS = 50
_PUBLIC_MEMBERS = {
    "RSA": ("kty", "n", "e", "kid", "alg", "use"),
    "EC": ("kty", "crv", "x", "y", "kid", "alg", "use"),
    "OKP": ("kty", "crv", "x", "kid", "alg", "use"),
}
_KEY_CLASSES: dict[str, type[RSAKey] | type[ECKey] | type[OKPKey]] = {
    "RSA": RSAKey,
    "EC": ECKey,
    "OKP": OKPKey,
}
_ALG_KTY = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", "Ed25519"),
}


class NoUsableKey(BadRequest):
    """The provider's JWKS holds no key Rempart can verify signatures with."""

    title = "No usable key"
    slug = "idp-no-usable-key"


def usable_keys(jwks: Any) -> list[dict[str, Any]]:
    """The public signature keys of a JWKS document, or ``NoUsableKey``."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise NoUsableKey("the JWKS document is not a JSON object with a keys list")
    out: list[dict[str, Any]] = []
    for raw in jwks["keys"][:MAX_KEYS]:
        if not isinstance(raw, dict):
            continue
        kty = raw.get("kty")
        if kty not in _PUBLIC_MEMBERS or raw.get("use", "sig") != "sig":
            continue
        ops = raw.get("key_ops")
        if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
            continue
        public = {k: raw[k] for k in _PUBLIC_MEMBERS[kty] if k in raw}
        try:
            _KEY_CLASSES[kty].import_key(public)
        except (JoseError, ValueError, TypeError):
            continue
        out.append(public)
    if not out:
        raise NoUsableKey("the JWKS holds no usable signature key")
    return out


def _matches(key: dict[str, Any], alg: str) -> bool:
    kty, crv = _ALG_KTY.get(alg, (None, None))
    if key.get("kty") != kty or (crv is not None and key.get("crv") != crv):
        return False
    return key.get("alg") in (None, alg)


class PinnedKeys:
    """A ``KeySource`` over a pinned JWKS, refreshed only for an unknown ``kid``, boundedly."""

    def __init__(
        self,
        jwks: dict[str, Any],
        *,
        fetched_at: datetime,
        refresh: Callable[[], dict[str, Any]] | None = None,
        on_refresh: Callable[[dict[str, Any]], None] | None = None,
        refresh_interval: timedelta = DEFAULT_REFRESH_INTERVAL,
        clock: Clock = utc_now,
    ) -> None:
        self._keys = usable_keys(jwks)
        self._fetched_at = fetched_at
        self._refresh = refresh
        self._on_refresh = on_refresh
        self._interval = refresh_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._imported: dict[str, Key] = {}
        self.refreshes = 0

    @property
    def fetched_at(self) -> datetime:
        return self._fetched_at

    def _find(self, kid: str | None, alg: str) -> dict[str, Any] | None:
        candidates = [k for k in self._keys if _matches(k, alg)]
        if kid is None:
            # Without a kid, only an unambiguous pin will do.
            return candidates[0] if len(candidates) == 1 else None
        return next((k for k in candidates if k.get("kid") == kid), None)

    def key_for(self, kid: str | None, alg: str) -> Key:
        with self._lock:
            found = self._find(kid, alg)
            if found is None and kid is not None and self._may_refresh():
                self._do_refresh()
                found = self._find(kid, alg)
        if found is None:
            raise TokenRejected("unknown-kid")
        # Importing an RSA key costs more than verifying with it: keep the objects.
        cache_key = json.dumps(found, sort_keys=True)
        key = self._imported.get(cache_key)
        if key is None:
            key = _KEY_CLASSES[found["kty"]].import_key(found)
            self._imported[cache_key] = key
        return key

    def _may_refresh(self) -> bool:
        return self._refresh is not None and self._clock() - self._fetched_at >= self._interval

    def _do_refresh(self) -> None:
        if self._refresh is None:  # pragma: no cover - guarded by _may_refresh
            return
        # Stamp first: a failing provider must not be retried on every token.
        self._fetched_at = self._clock()
        self.refreshes += 1
        try:
            fresh = self._refresh()
            self._keys = usable_keys(fresh)
        except RempartError:
            # Unreachable provider or a JWKS with no usable key: keep the pin.
            return
        if self._on_refresh is not None:
            self._on_refresh(fresh)


__all__ = ["DEFAULT_REFRESH_INTERVAL", "NoUsableKey", "PinnedKeys", "usable_keys"]
