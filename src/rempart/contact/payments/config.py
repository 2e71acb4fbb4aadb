"""How a deployment runs secure payment capture: processor, windows, limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rempart.contact.payments.processor import PaymentProcessor, ProcessorReceives


@dataclass(frozen=True)
class PaymentConfig:
    # None: completion only tokenizes; the flow hands the token to its own payment system.
    processor: PaymentProcessor | None = None
    # "pan" puts the processor adapter in PCI scope; "token" (default) keeps it out.
    processor_receives: ProcessorReceives = "token"
    default_ttl: timedelta = timedelta(minutes=3)
    max_ttl: timedelta = timedelta(minutes=15)
    # A field rejected this many times fails the capture.
    max_attempts: int = 3
    # How often the progress stream looks for changes (it also works across processes).
    observe_poll_s: float = 0.2
    observe_heartbeat_s: float = 15.0


__all__ = ["PaymentConfig"]
