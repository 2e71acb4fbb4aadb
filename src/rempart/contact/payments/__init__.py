"""Secure payment capture (PCI DSS scope reduction).

An IVR or CCaaS flow opens a capture session for a call and relays the
caller's keypad digits to Rempart; the agent sees only progress; the card is
tokenized by the vault and handed to a ``PaymentProcessor``; the recording is
paused for the capture window. See ``docs/payments.md``.
"""

from rempart.contact.payments import service
from rempart.contact.payments.card import CardSecret, mask_pan
from rempart.contact.payments.config import PaymentConfig
from rempart.contact.payments.keypad import Entry, Rejection, apply_keys
from rempart.contact.payments.models import PaymentCapture
from rempart.contact.payments.processor import (
    AuthorizationRequest,
    AuthorizationResult,
    PanCard,
    PaymentProcessor,
    TestProcessor,
    TokenCard,
)
from rempart.contact.payments.progress import CaptureProgress, progress_of, sse_event
from rempart.contact.payments.service import Outcome, PauseWindow, recording_pauses

__all__ = [
    "AuthorizationRequest",
    "AuthorizationResult",
    "CaptureProgress",
    "CardSecret",
    "Entry",
    "Outcome",
    "PanCard",
    "PauseWindow",
    "PaymentCapture",
    "PaymentConfig",
    "PaymentProcessor",
    "Rejection",
    "TestProcessor",
    "TokenCard",
    "apply_keys",
    "mask_pan",
    "progress_of",
    "recording_pauses",
    "service",
    "sse_event",
]
