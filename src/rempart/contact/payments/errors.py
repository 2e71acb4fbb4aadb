"""Errors of secure payment capture; each maps to one precise problem+json.

No message ever carries a digit the caller typed: the detail names the field
and the rule, never the value.

    RempartError
    ├── CaptureNotFound         404 unknown capture, or another tenant's
    ├── CaptureAlreadyOpen      409 the interaction already has an open capture
    ├── CaptureClosed           409 completed, cancelled, failed or declined
    ├── CaptureAlreadyCompleted 409 a second completion
    ├── CaptureBusy             409 changed by a concurrent request: resend the keys
    ├── CaptureIncomplete       409 completion before every field is entered
    ├── FieldMismatch           409 keys sent for a field that is not the current one
    ├── CaptureExpired          410 the capture window has passed
    ├── KeypadRejected          422 bad keys: not 0-9 # *, or too many digits
    ├── FieldRejected           422 a complete field failed its check (the field is cleared)
    │   ├── CardNumberInvalid   length or Luhn
    │   ├── ExpiryInvalid       not MMYY
    │   ├── CardExpired         MMYY in the past
    │   └── CvvInvalid          wrong length for the card
    ├── PaymentsUnavailable     503 no vault configured
    └── ProcessorUnavailable    502 the processor adapter failed (capture stays ready)
"""

from __future__ import annotations

from rempart.errors import Conflict, NotFound, RempartError, ValidationFailed


class CaptureNotFound(NotFound):
    title = "Capture session not found"
    slug = "capture-not-found"


class CaptureAlreadyOpen(Conflict):
    title = "A capture is already open for this interaction"
    slug = "capture-already-open"


class CaptureClosed(Conflict):
    title = "Capture session closed"
    slug = "capture-closed"


class CaptureAlreadyCompleted(Conflict):
    title = "Capture session already completed"
    slug = "capture-already-completed"


class CaptureBusy(Conflict):
    """Two requests changed the capture at once; the later one is refused, to be resent."""

    title = "Capture changed concurrently"
    slug = "capture-busy"


class CaptureIncomplete(Conflict):
    title = "Capture session incomplete"
    slug = "capture-incomplete"


class FieldMismatch(Conflict):
    title = "Keys sent for another field"
    slug = "capture-field-mismatch"


class CaptureExpired(RempartError):
    status = 410
    title = "Capture session expired"
    slug = "capture-expired"


class KeypadRejected(ValidationFailed):
    title = "Keypad input rejected"
    slug = "dtmf-invalid"


class TooManyDigits(KeypadRejected):
    title = "Too many digits"
    slug = "dtmf-too-many-digits"


class FieldRejected(ValidationFailed):
    """A completed field failed its check; the field is cleared for re-entry."""

    title = "Card field rejected"
    slug = "card-field-invalid"


class CardNumberInvalid(FieldRejected):
    title = "Card number invalid"
    slug = "card-number-invalid"


class ExpiryInvalid(FieldRejected):
    title = "Expiry date invalid"
    slug = "card-expiry-invalid"


class CardExpired(FieldRejected):
    title = "Card expired"
    slug = "card-expired"


class CvvInvalid(FieldRejected):
    title = "Security code invalid"
    slug = "card-cvv-invalid"


class PaymentsUnavailable(RempartError):
    status = 503
    title = "Payment capture unavailable"
    slug = "payments-unavailable"


class ProcessorUnavailable(RempartError):
    status = 502
    title = "Payment processor unavailable"
    slug = "payment-processor-unavailable"


__all__ = [
    "CaptureAlreadyCompleted",
    "CaptureAlreadyOpen",
    "CaptureBusy",
    "CaptureClosed",
    "CaptureExpired",
    "CaptureIncomplete",
    "CaptureNotFound",
    "CardExpired",
    "CardNumberInvalid",
    "CvvInvalid",
    "ExpiryInvalid",
    "FieldMismatch",
    "FieldRejected",
    "KeypadRejected",
    "PaymentsUnavailable",
    "ProcessorUnavailable",
    "TooManyDigits",
]
