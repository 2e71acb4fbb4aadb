"""Shared type aliases and the injectable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import NewType

TenantId = NewType("TenantId", str)
"""A tenant's opaque identifier (a UUID string). Never a global: always carried explicitly."""

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime; injected wherever time matters."""


def utc_now() -> datetime:
    """The system clock, as an aware UTC datetime."""
    return datetime.now(UTC)


__all__ = ["Clock", "TenantId", "utc_now"]
