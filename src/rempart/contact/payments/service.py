"""Capture sessions: open, relay keys, complete, cancel, and the recording-pause contract.

Each function works in a tenant-scoped session. A function either raises
before changing anything (the caller's transaction rolls back), or returns
an ``Outcome`` whose changes must be committed; an ``Outcome.error`` (a field
rejected, a capture found expired) is raised by the caller after the commit,
so the state change and its audit record persist while the request still
gets its precise 4xx.

Vault calls happen before this session writes anything, so an embedded
SQLite database never sees two writers from one request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.contact.models import Interaction
from rempart.contact.payments.card import CardSecret, check_expiry, expiry_end
from rempart.contact.payments.config import PaymentConfig
from rempart.contact.payments.errors import (
    CaptureAlreadyCompleted,
    CaptureAlreadyOpen,
    CaptureClosed,
    CaptureExpired,
    CaptureIncomplete,
    CaptureNotFound,
    FieldMismatch,
    FieldRejected,
    ProcessorUnavailable,
)
from rempart.contact.payments.keypad import Entry, Field, Rejection, apply_keys
from rempart.contact.payments.models import (
    CANCELLED,
    COMPLETED,
    DECLINED,
    EXPIRED,
    FAILED,
    LIVE,
    OPEN,
    READY,
    PaymentCapture,
)
from rempart.contact.payments.processor import (
    AuthorizationRequest,
    AuthorizationResult,
    PanCard,
    TokenCard,
)
from rempart.errors import NotFound, RempartError, ValidationFailed
from rempart.storage.base import new_id
from rempart.storage.tenancy import session_tenant
from rempart.types import Clock, TenantId, utc_now
from rempart.vault import FieldContext, Vault

ENTRY_TABLE = "payment_captures"
ENTRY_COLUMN = "entry"


@dataclass(frozen=True, slots=True)
class Outcome:
    capture: PaymentCapture
    error: RempartError | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class PauseWindow:
    """Audio of an interaction the recording pipeline must never store.

    ``end`` None means the capture is still live: drop everything from ``start``.
    ``start_ms``/``end_ms`` are offsets from the interaction's ``started_at``.
    """

    capture_id: str
    start: datetime
    end: datetime | None
    start_ms: int
    end_ms: int | None


def _tenant(session: Session) -> TenantId:
    tenant = session_tenant(session)
    if tenant is None:
        raise ValidationFailed("no tenant in context")
    return tenant


def _entry_ctx(tenant: TenantId, capture_id: str) -> FieldContext:
    return FieldContext(tenant, ENTRY_TABLE, ENTRY_COLUMN, capture_id)


def _close(capture: PaymentCapture, status: str, now: datetime) -> None:
    """End the capture: wipe the keypad buffer, free the interaction, resume the recording."""
    capture.status = status
    capture.entry_ciphertext = None
    capture.open_slot = None
    capture.current_field = None
    capture.closed_at = now
    capture.recording_resumed_at = now


def _load(session: Session, capture_id: str, *, lock: bool = True) -> PaymentCapture:
    """The capture, locked for this transaction on PostgreSQL (``SELECT ... FOR UPDATE``).

    SQLite has no row locks: there the ``version`` column is a compare-and-set
    (SQLAlchemy's version counter) and a concurrent change fails the flush.
    """
    capture = session.get(PaymentCapture, capture_id, with_for_update=lock or None)
    if capture is None:
        raise CaptureNotFound("no such capture session")
    return capture


def _expired(capture: PaymentCapture, now: datetime) -> Outcome | None:
    """Close a live capture found past its deadline; the caller commits, then raises."""
    if capture.status in LIVE and now >= capture.expires_at:
        _close(capture, EXPIRED, capture.expires_at)
        return Outcome(capture, CaptureExpired("the capture window has passed"))
    return None


def _refuse_closed(capture: PaymentCapture) -> None:
    if capture.status == EXPIRED:
        raise CaptureExpired("the capture window has passed")
    if capture.status in (COMPLETED, DECLINED):
        raise CaptureAlreadyCompleted("the capture is already completed")
    if capture.status not in LIVE:
        raise CaptureClosed(f"the capture is {capture.status}")


def open_capture(
    session: Session,
    vault: Vault,
    config: PaymentConfig,
    *,
    interaction_id: str,
    opened_by: str,
    amount_minor: int | None = None,
    currency: str | None = None,
    merchant_reference: str | None = None,
    ttl: timedelta | None = None,
    clock: Clock = utc_now,
) -> PaymentCapture:
    """Open a capture for an interaction of the session's tenant; one live capture at a time."""
    tenant = _tenant(session)
    lifetime = ttl or config.default_ttl
    if not timedelta(seconds=10) <= lifetime <= config.max_ttl:
        raise ValidationFailed(
            f"ttl must be between 10 s and {int(config.max_ttl.total_seconds())} s"
        )
    if session.get(Interaction, interaction_id) is None:
        raise NotFound("no such interaction")
    now = clock()
    stale = session.scalar(
        select(PaymentCapture).where(
            PaymentCapture.interaction_id == interaction_id, PaymentCapture.status.in_(LIVE)
        )
    )
    if stale is not None and now < stale.expires_at:
        raise CaptureAlreadyOpen("this interaction already has an open capture")
    vault.ensure_tenant(tenant)
    if stale is not None:
        _close(stale, EXPIRED, stale.expires_at)
        session.flush()
    capture = PaymentCapture(
        id=new_id(),
        tenant_id=tenant,
        interaction_id=interaction_id,
        open_slot=interaction_id,
        status=OPEN,
        current_field="pan",
        amount_minor=amount_minor,
        currency=currency,
        merchant_reference=merchant_reference,
        opened_by=opened_by,
        opened_at=now,
        expires_at=now + lifetime,
        recording_paused_at=now,
        entry_ciphertext=None,
        pan_digits=0,
        expiry_digits=0,
        expiry_valid=False,
        cvv_entered=False,
        failed_attempts=0,
    )
    session.add(capture)
    session.flush()
    return capture


def _entry(vault: Vault, capture: PaymentCapture) -> Entry:
    if capture.entry_ciphertext is None:
        return Entry()
    ctx = _entry_ctx(TenantId(capture.tenant_id), capture.id)
    return Entry.from_bytes(vault.decrypt_field(ctx, capture.entry_ciphertext))


def _show(capture: PaymentCapture, entry: Entry, sealed: bytes | None) -> None:
    """Copy what the agent may see (counts, last four, flags) and the sealed entry to the row."""
    capture.entry_ciphertext = sealed
    capture.current_field = entry.field
    capture.pan_digits = len(entry.pan)
    pan_done = entry.field != "pan"
    capture.pan_last_four = entry.pan[-4:] if pan_done and entry.pan else None
    capture.expiry_digits = len(entry.expiry)
    capture.expiry_valid = entry.field in ("cvv", None)
    capture.cvv_entered = entry.field is None
    capture.status = READY if entry.complete else OPEN


def press(
    session: Session,
    vault: Vault,
    config: PaymentConfig,
    capture_id: str,
    keys: str,
    *,
    field: Field | None = None,
    clock: Clock = utc_now,
) -> Outcome:
    """Relay DTMF keys to a live capture (see ``keypad`` for the rules)."""
    capture = _load(session, capture_id)
    now = clock()
    expired = _expired(capture, now)
    if expired is not None:
        return expired
    _refuse_closed(capture)
    if field is not None and field != capture.current_field:
        raise FieldMismatch(f"the capture expects the {capture.current_field or 'no'} field")
    result = apply_keys(_entry(vault, capture), keys, now, field=field)
    entry = result.entry if isinstance(result, Rejection) else result
    ctx = _entry_ctx(TenantId(capture.tenant_id), capture.id)
    has_digits = bool(entry.pan or entry.expiry or entry.cvv)
    sealed = vault.encrypt_field(ctx, entry.to_bytes()) if has_digits else None
    if not isinstance(result, Rejection):
        _show(capture, entry, sealed)
        return Outcome(capture)
    capture.failed_attempts += 1
    if capture.failed_attempts >= config.max_attempts:
        _close(capture, FAILED, now)
        error: FieldRejected = type(result.error)(
            f"{result.error.detail}; too many attempts, the capture has failed"
        )
        return Outcome(capture, error)
    _show(capture, entry, sealed)
    left = config.max_attempts - capture.failed_attempts
    return Outcome(capture, type(result.error)(f"{result.error.detail}; {left} attempt(s) left"))


def complete(
    session: Session,
    vault: Vault,
    config: PaymentConfig,
    capture_id: str,
    *,
    clock: Clock = utc_now,
) -> Outcome:
    """Tokenize the card, hand it to the processor (if any), wipe the keypad buffer.

    A processor failure raises ``ProcessorUnavailable`` and leaves the capture
    ready, so the flow may retry until the capture expires.
    """
    capture = _load(session, capture_id)
    now = clock()
    expired = _expired(capture, now)
    if expired is not None:
        return expired
    _refuse_closed(capture)
    if capture.status != READY:
        raise CaptureIncomplete("every card field must be entered first")
    tenant = TenantId(capture.tenant_id)
    entry = _entry(vault, capture)
    try:
        card_end = check_expiry(entry.expiry, now)
    except FieldRejected as exc:
        _close(capture, FAILED, now)
        return Outcome(capture, exc)
    token = vault.tokenize_card(tenant, entry.pan, expires_at=card_end, keep_last_four=True)
    result = _authorize(config, capture, entry, token.token, token.last_four)
    if result is None:
        _close(capture, COMPLETED, now)
    else:
        capture.processor = config.processor.name if config.processor else None
        capture.processor_reference = result.reference
        capture.decline_code = None if result.approved else result.decline_code
        _close(capture, COMPLETED if result.approved else DECLINED, now)
    capture.card_token = token.token
    return Outcome(capture, token=token.token)


def _authorize(
    config: PaymentConfig,
    capture: PaymentCapture,
    entry: Entry,
    token: str,
    last_four: str | None,
) -> AuthorizationResult | None:
    processor = config.processor
    if processor is None:
        return None
    end = expiry_end(entry.expiry)
    card: TokenCard | PanCard
    if config.processor_receives == "pan":
        card = PanCard(CardSecret(entry.pan), end.month, end.year)
    else:
        card = TokenCard(token, last_four, end.month, end.year)
    request = AuthorizationRequest(
        tenant_id=TenantId(capture.tenant_id),
        capture_id=capture.id,
        interaction_id=capture.interaction_id,
        amount_minor=capture.amount_minor,
        currency=capture.currency,
        merchant_reference=capture.merchant_reference,
        card=card,
        cvv=CardSecret(entry.cvv),
    )
    try:
        return processor.authorize(request)
    except Exception as exc:  # noqa: BLE001 - any adapter failure means unavailable
        # The adapter's own message may quote what it was sent: drop it, keep the type.
        raise ProcessorUnavailable(
            f"the payment processor failed ({type(exc).__name__}); the capture stays ready"
        ) from None


def cancel(session: Session, capture_id: str, *, clock: Clock = utc_now) -> Outcome:
    """End a live capture at the flow's request (caller hung up or chose another way)."""
    capture = _load(session, capture_id)
    now = clock()
    expired = _expired(capture, now)
    if expired is not None:
        return expired
    _refuse_closed(capture)
    _close(capture, CANCELLED, now)
    return Outcome(capture)


def get_capture(session: Session, capture_id: str) -> PaymentCapture:
    return _load(session, capture_id, lock=False)


def expire_due(session: Session, *, clock: Clock = utc_now) -> int:
    """Close the tenant's live captures past their deadline (a sweep; reads do it lazily)."""
    now = clock()
    rows = session.scalars(
        select(PaymentCapture).where(
            PaymentCapture.status.in_(LIVE), PaymentCapture.expires_at <= now
        )
    ).all()
    for capture in rows:
        _close(capture, EXPIRED, capture.expires_at)
    return len(rows)


def recording_pauses(session: Session, interaction_id: str) -> list[PauseWindow]:
    """The windows of an interaction's audio that must never be stored (the recording contract)."""
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("no such interaction")
    rows = session.scalars(
        select(PaymentCapture)
        .where(PaymentCapture.interaction_id == interaction_id)
        .order_by(PaymentCapture.recording_paused_at)
    ).all()

    def offset(at: datetime) -> int:
        return max(int((at - interaction.started_at).total_seconds() * 1000), 0)

    return [
        PauseWindow(
            capture_id=c.id,
            start=c.recording_paused_at,
            end=c.recording_resumed_at,
            start_ms=offset(c.recording_paused_at),
            end_ms=offset(c.recording_resumed_at) if c.recording_resumed_at else None,
        )
        for c in rows
    ]


__all__ = [
    "Outcome",
    "PauseWindow",
    "cancel",
    "complete",
    "expire_due",
    "get_capture",
    "open_capture",
    "press",
    "recording_pauses",
]
