"""Secure payment capture: the IVR relays keypad digits, the agent watches progress.

``payment:capture`` is the IVR / CCaaS flow's scope (open, keys, complete,
cancel); ``payment:observe`` is the agent desktop's (progress and its
server-sent event stream) for a desktop integration holding a machine token.
People (the agent on the call, their supervisor) watch through their own
browser session on ``/api/v1/workspace/captures/...`` with the
``payment:observe`` permission and need-to-know on the call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from rempart.api.context import AppContext
from rempart.api.deps import Ctx, Principal, origin_of, require_json, scoped, tenant_of
from rempart.api.problems import ERROR_RESPONSES, PROBLEM_MEDIA_TYPE, Problem
from rempart.audit import AuditEvent, append
from rempart.contact.payments import service
from rempart.contact.payments.config import PaymentConfig
from rempart.contact.payments.errors import CaptureBusy, PaymentsUnavailable
from rempart.contact.payments.models import TERMINAL
from rempart.contact.payments.progress import CaptureProgress, progress_of, sse_event
from rempart.errors import RempartError
from rempart.identity.scopes import Scope
from rempart.identity.tokens import MachinePrincipal
from rempart.storage import TenantContext
from rempart.vault import Vault

_MORE: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": desc}
    for code, desc in {
        409: "Capture closed, completed, incomplete, already open, busy, or another field",
        410: "Capture expired",
        502: "Payment processor unavailable (the capture stays ready)",
        503: "Payment capture not configured",
    }.items()
}
router = APIRouter(prefix="/payments", tags=["payments"], responses={**ERROR_RESPONSES, **_MORE})
CaptureId = Annotated[str, Path(max_length=64)]


class CaptureOpenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interaction_id: str = Field(max_length=64)
    amount_minor: int | None = Field(default=None, ge=0, le=10**12)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    merchant_reference: str | None = Field(default=None, max_length=100)
    ttl_s: int | None = Field(default=None, ge=10, le=3600)


class DtmfIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Checked by the keypad rules (0-9, '#', '*'; at most 32) for a precise problem type.
    keys: str = Field(max_length=256)
    field: Literal["pan", "expiry", "cvv"] | None = None


class CaptureOut(CaptureProgress):
    recording_paused_at: datetime
    recording_resumed_at: datetime | None


class CompletionOut(CaptureOut):
    card_token: str | None


class PauseOut(BaseModel):
    capture_id: str
    start: datetime
    end: datetime | None
    start_ms: int
    end_ms: int | None


def _engine(ctx: AppContext) -> tuple[Vault, PaymentConfig]:
    if ctx.vault is None:
        raise PaymentsUnavailable("payment capture needs the vault, which is not configured")
    return ctx.vault, ctx.payments or PaymentConfig()


def capture_out(ctx: AppContext, capture: Any, config: PaymentConfig) -> CaptureOut:
    progress = progress_of(capture, ctx.clock(), config.max_attempts)
    return CaptureOut(
        **progress.model_dump(),
        recording_paused_at=capture.recording_paused_at,
        recording_resumed_at=capture.recording_resumed_at,
    )


def _event(
    request: Request,
    ctx: AppContext,
    principal: MachinePrincipal,
    action: str,
    resource_id: str | None,
    error: RempartError | None,
    details: dict[str, Any],
) -> AuditEvent:
    origin = origin_of(request, ctx, principal)
    return AuditEvent(
        tenant_id=principal.tenant_id,
        actor=origin.actor,
        action=action,
        resource_type="payment_capture",
        resource_id=resource_id,
        outcome="failure" if error else "success",
        reason=error.slug if error else None,
        time=ctx.clock(),
        source_ip=origin.source_ip,
        user_agent=origin.user_agent,
        request_id=origin.request_id,
        details=details,
    )


def _run(
    request: Request,
    ctx: AppContext,
    principal: MachinePrincipal,
    action: str,
    capture_id: str | None,
    work: Callable[[Session], service.Outcome],
) -> tuple[CaptureOut, str | None]:
    """Run ``work``, commit its changes with an audit record, then raise its error if any.

    An error raised by ``work`` itself rolls everything back; a failure record
    is then committed on its own.
    """
    _, config = _engine(ctx)
    try:
        try:
            with ctx.db.tenant_session(tenant_of(principal)) as session:
                outcome = work(session)
                session.flush()  # the version check (and bump) happens here
                capture = outcome.capture
                details = {"status": capture.status, "field": capture.current_field}
                append(
                    session,
                    _event(request, ctx, principal, action, capture.id, outcome.error, details),
                )
                out = capture_out(ctx, capture, config)
        except StaleDataError as exc:
            raise CaptureBusy("the capture changed meanwhile; send the request again") from exc
    except RempartError as exc:
        with ctx.db.tenant_session(tenant_of(principal)) as session:
            append(session, _event(request, ctx, principal, action, capture_id, exc, {}))
        raise
    if outcome.error is not None:
        raise outcome.error
    return out, outcome.token


@router.post(
    "/captures",
    status_code=201,
    response_model=CaptureOut,
    summary="Open a capture session for a call (pauses its recording)",
    **scoped(Scope.PAYMENT_CAPTURE),
)
def open_capture(
    payload: CaptureOpenIn,
    request: Request,
    ctx: Ctx,
    principal: Principal,
    _json: Annotated[None, Depends(require_json)],
) -> CaptureOut:
    vault, config = _engine(ctx)
    ttl = timedelta(seconds=payload.ttl_s) if payload.ttl_s else None

    def work(session: Session) -> service.Outcome:
        capture = service.open_capture(
            session,
            vault,
            config,
            interaction_id=payload.interaction_id,
            opened_by=principal.actor_id,
            amount_minor=payload.amount_minor,
            currency=payload.currency,
            merchant_reference=payload.merchant_reference,
            ttl=ttl,
            clock=ctx.clock,
        )
        return service.Outcome(capture)

    out, _ = _run(request, ctx, principal, "payment.capture.open", None, work)
    return out


@router.post(
    "/captures/{capture_id}/dtmf",
    response_model=CaptureOut,
    summary="Relay the caller's keypad keys (digits, '#' ends a field, '*' clears it)",
    **scoped(Scope.PAYMENT_CAPTURE),
)
def relay_keys(
    capture_id: CaptureId,
    payload: DtmfIn,
    request: Request,
    ctx: Ctx,
    principal: Principal,
    _json: Annotated[None, Depends(require_json)],
) -> CaptureOut:
    vault, config = _engine(ctx)

    def work(session: Session) -> service.Outcome:
        return service.press(
            session, vault, config, capture_id, payload.keys, field=payload.field, clock=ctx.clock
        )

    out, _ = _run(request, ctx, principal, "payment.capture.keys", capture_id, work)
    return out


@router.post(
    "/captures/{capture_id}/complete",
    response_model=CompletionOut,
    summary="Tokenize the card and hand it to the payment processor",
    **scoped(Scope.PAYMENT_CAPTURE),
)
def complete_capture(
    capture_id: CaptureId, request: Request, ctx: Ctx, principal: Principal
) -> CompletionOut:
    vault, config = _engine(ctx)

    def work(session: Session) -> service.Outcome:
        return service.complete(session, vault, config, capture_id, clock=ctx.clock)

    out, token = _run(request, ctx, principal, "payment.capture.complete", capture_id, work)
    return CompletionOut(**out.model_dump(), card_token=token)


@router.post(
    "/captures/{capture_id}/cancel",
    response_model=CaptureOut,
    summary="Cancel a live capture (wipes what was typed, resumes the recording)",
    **scoped(Scope.PAYMENT_CAPTURE),
)
def cancel_capture(
    capture_id: CaptureId, request: Request, ctx: Ctx, principal: Principal
) -> CaptureOut:
    def work(session: Session) -> service.Outcome:
        return service.cancel(session, capture_id, clock=ctx.clock)

    out, _ = _run(request, ctx, principal, "payment.capture.cancel", capture_id, work)
    return out


@router.get(
    "/captures/{capture_id}",
    response_model=CaptureOut,
    summary="The capture's progress (no card data)",
    **scoped(Scope.PAYMENT_OBSERVE),
)
def read_capture(
    capture_id: CaptureId, request: Request, ctx: Ctx, principal: Principal
) -> CaptureOut:
    out, _ = _run(
        request,
        ctx,
        principal,
        "payment.capture.read",
        capture_id,
        lambda session: service.Outcome(service.get_capture(session, capture_id)),
    )
    return out


@router.get(
    "/captures/{capture_id}/events",
    summary="Progress as server-sent events until the capture ends",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    **scoped(Scope.PAYMENT_OBSERVE),
)
def capture_events(
    capture_id: CaptureId, request: Request, ctx: Ctx, principal: Principal
) -> StreamingResponse:
    _, config = _engine(ctx)
    first, _ = _run(
        request,
        ctx,
        principal,
        "payment.capture.observe",
        capture_id,
        lambda session: service.Outcome(service.get_capture(session, capture_id)),
    )
    return progress_stream(request, ctx, config, tenant_of(principal), capture_id, first)


def progress_stream(
    request: Request,
    ctx: AppContext,
    config: PaymentConfig,
    tenant: TenantContext,
    capture_id: str,
    first: CaptureOut,
) -> StreamingResponse:
    """Server-sent progress events of one capture until it ends (machines and people alike)."""

    def load() -> CaptureOut:
        with ctx.db.tenant_session(tenant) as session:
            return capture_out(ctx, service.get_capture(session, capture_id), config)

    async def stream() -> AsyncIterator[str]:
        current = first
        seen: tuple[int, str] | None = None
        quiet = 0.0
        while True:
            key = (current.version, current.status)
            if key != seen:
                seen = key
                quiet = 0.0
                yield sse_event(current)
            elif quiet >= config.observe_heartbeat_s:
                quiet = 0.0
                yield ": keep-alive\n\n"
            if current.status in TERMINAL or await request.is_disconnected():
                return
            await anyio.sleep(config.observe_poll_s)
            quiet += config.observe_poll_s
            current = await run_in_threadpool(load)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/interactions/{interaction_id}/recording-pauses",
    response_model=list[PauseOut],
    summary="Windows of the call's audio that must never be stored",
    **scoped(Scope.INTERACTION_WRITE),
)
def recording_pauses(
    interaction_id: Annotated[str, Path(max_length=64)], ctx: Ctx, principal: Principal
) -> list[PauseOut]:
    with ctx.db.tenant_session(tenant_of(principal)) as session:
        windows = service.recording_pauses(session, interaction_id)
    return [
        PauseOut(
            capture_id=w.capture_id, start=w.start, end=w.end, start_ms=w.start_ms, end_ms=w.end_ms
        )
        for w in windows
    ]
