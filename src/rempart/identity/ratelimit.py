"""Rate limiting and temporary lockout after repeated failures, per key, in memory.

Keys are strings chosen by the caller (``login:<tenant>:<ip>``,
``scim:<ip>``...). ``RateLimiter`` is a sliding window; ``Lockout`` counts
failures in a window and locks the key for a while past a threshold. State
lives in the process: behind several workers each keeps its own counts,
which bounds an attacker per worker (see docs/identity.md).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from rempart.errors import RempartError
from rempart.types import Clock, utc_now

MAX_KEYS = 100_000


class TooManyRequests(RempartError):
    """Too many requests or failures from one source; try again later."""

    status = 429
    title = "Too many requests"
    slug = "too-many-requests"


@dataclass(frozen=True, slots=True)
class Limit:
    count: int
    window: timedelta


class RateLimiter:
    """At most ``limit.count`` hits per key in any ``limit.window``."""

    def __init__(self, limit: Limit, *, clock: Clock = utc_now) -> None:
        self._limit = limit
        self._clock = clock
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._hits) > MAX_KEYS:
                self._hits.clear()
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self._limit.window:
                hits.popleft()
            if len(hits) >= self._limit.count:
                raise TooManyRequests("too many requests; slow down")
            hits.append(now)


class Lockout:
    """Lock a key for ``duration`` once it has ``threshold`` failures within ``window``."""

    def __init__(
        self,
        threshold: int = 5,
        window: timedelta = timedelta(minutes=15),
        duration: timedelta = timedelta(minutes=15),
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.threshold = threshold
        self.window = window
        self.duration = duration
        self._clock = clock
        self._failures: dict[str, deque[datetime]] = {}
        self._locked_until: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raise ``TooManyRequests`` while ``key`` is locked."""
        now = self._clock()
        with self._lock:
            until = self._locked_until.get(key)
            if until is not None and now < until:
                raise TooManyRequests("temporarily locked after repeated failures")
            if until is not None:
                del self._locked_until[key]

    def failure(self, key: str) -> bool:
        """Count a failure; True when this failure locks the key."""
        now = self._clock()
        with self._lock:
            if len(self._failures) > MAX_KEYS:
                self._failures.clear()
            fails = self._failures.setdefault(key, deque())
            while fails and now - fails[0] >= self.window:
                fails.popleft()
            fails.append(now)
            if len(fails) >= self.threshold:
                self._locked_until[key] = now + self.duration
                fails.clear()
                return True
            return False

    def success(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


__all__ = ["Limit", "Lockout", "RateLimiter", "TooManyRequests"]
