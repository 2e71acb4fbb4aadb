"""What the agent (and the IVR) may see of a capture: progress, never digits."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from rempart.contact.payments.card import mask_pan
from rempart.contact.payments.models import LIVE, PaymentCapture

Status = Literal["open", "ready", "completed", "declined", "cancelled", "expired", "failed"]


class PanProgress(BaseModel):
    digits_entered: int
    complete: bool
    masked: str  # "**** **** **** 1234" once complete, stars only before


class ExpiryProgress(BaseModel):
    digits_entered: int
    valid: bool


class CvvProgress(BaseModel):
    entered: bool


class CaptureProgress(BaseModel):
    capture_id: str
    interaction_id: str
    status: Status
    current_field: Literal["pan", "expiry", "cvv"] | None
    pan: PanProgress
    expiry: ExpiryProgress
    cvv: CvvProgress
    attempts_left: int
    expires_at: datetime
    version: int
    processor_reference: str | None = None
    decline_code: str | None = None


def progress_of(capture: PaymentCapture, now: datetime, max_attempts: int) -> CaptureProgress:
    """The capture as the agent sees it; a live capture past its deadline shows as expired."""
    status = capture.status
    if status in LIVE and now >= capture.expires_at:
        status = "expired"
    complete = capture.pan_last_four is not None
    return CaptureProgress(
        capture_id=capture.id,
        interaction_id=capture.interaction_id,
        status=status,
        current_field=capture.current_field if status in LIVE else None,
        pan=PanProgress(
            digits_entered=capture.pan_digits,
            complete=complete,
            masked=mask_pan(capture.pan_digits, capture.pan_last_four),
        ),
        expiry=ExpiryProgress(digits_entered=capture.expiry_digits, valid=capture.expiry_valid),
        cvv=CvvProgress(entered=capture.cvv_entered),
        attempts_left=max(max_attempts - capture.failed_attempts, 0),
        expires_at=capture.expires_at,
        version=capture.version,
        processor_reference=capture.processor_reference,
        decline_code=capture.decline_code,
    )


def sse_event(progress: CaptureProgress) -> str:
    """One server-sent event: ``event: progress``, the version as id, the JSON as data."""
    return f"event: progress\nid: {progress.version}\ndata: {progress.model_dump_json()}\n\n"


__all__ = [
    "CaptureProgress",
    "CvvProgress",
    "ExpiryProgress",
    "PanProgress",
    "progress_of",
    "sse_event",
]
