"""The payment processor interface, and a test processor that stands in for a real one.

An adapter receives one ``AuthorizationRequest`` per completed capture. By
default its ``card`` is a ``TokenCard`` (the vault token: the processor side
detokenizes through Rempart or holds its own mapping); when the deployment
says ``processor_receives="pan"``, it is a ``PanCard`` whose number is a
``CardSecret``. The security code always travels as a ``CardSecret`` and is
never stored after this call (PCI DSS 3.3.1). Adapters must not log either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from rempart.contact.payments.card import CardSecret
from rempart.types import TenantId


@dataclass(frozen=True, slots=True)
class TokenCard:
    token: str
    last_four: str | None
    expiry_month: int
    expiry_year: int


@dataclass(frozen=True, slots=True)
class PanCard:
    pan: CardSecret
    expiry_month: int
    expiry_year: int


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    tenant_id: TenantId
    capture_id: str  # also the idempotency key: one capture, at most one authorization
    interaction_id: str
    amount_minor: int | None
    currency: str | None
    merchant_reference: str | None
    card: TokenCard | PanCard
    cvv: CardSecret


@dataclass(frozen=True, slots=True)
class AuthorizationResult:
    approved: bool
    reference: str | None = None
    # A processor's decline reason code (never card data).
    decline_code: str | None = None


@runtime_checkable
class PaymentProcessor(Protocol):
    """What a processor adapter implements. Raise any exception for "unavailable"."""

    name: str

    def authorize(self, request: AuthorizationRequest) -> AuthorizationResult: ...


@dataclass
class TestProcessor:
    """Approves everything unless told to decline or fail; remembers what it received."""

    __test__ = False  # not a pytest class
    name: str = "test"
    decline: bool = False
    fail: bool = False
    received: list[AuthorizationRequest] = field(default_factory=list)

    def authorize(self, request: AuthorizationRequest) -> AuthorizationResult:
        if self.fail:
            raise ConnectionError("test processor unreachable")
        self.received.append(request)
        n = len(self.received)
        if self.decline:
            return AuthorizationResult(approved=False, reference=f"test-{n}", decline_code="05")
        return AuthorizationResult(approved=True, reference=f"test-{n}")


ProcessorReceives = Literal["token", "pan"]

__all__ = [
    "AuthorizationRequest",
    "AuthorizationResult",
    "PanCard",
    "PaymentProcessor",
    "ProcessorReceives",
    "TestProcessor",
    "TokenCard",
]
