"""The people-facing data plane: agents, supervisors and analysts read interactions.

Signed-in people only (a browser session from the tenant's identity
provider). Every route declares its permission; every read is decided by
``rempart.access`` (need-to-know on each interaction) and audited, and what
it returns has passed through ``present`` with the decision's obligations.
Someone without need-to-know gets 404, as for an interaction that does not
exist. Originals are only readable under a just-in-time grant, with the
assurance level it demands (step-up), and each unmask raises a finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from rempart.access import (
    AccessDenied,
    Allow,
    DenyReason,
    GrantRefused,
    GrantService,
    GrantStatus,
    InteractionResource,
    ObligationKind,
    Permission,
    SensitiveField,
)
from rempart.access.grants import Grant
from rempart.access.hooks import AuditFindings, SessionAuditSink
from rempart.access.store import SqlWriter, interaction_resource, load_catalog
from rempart.api.access import Reader, permitted, require_permission
from rempart.api.context import AppContext
from rempart.api.deps import Ctx, require_assurance
from rempart.api.presentation import present
from rempart.api.problems import ERROR_RESPONSES
from rempart.api.routes.payments import CaptureOut, capture_out, progress_stream
from rempart.audit import AuditNote, audited
from rempart.contact import service
from rempart.contact.media import MediaStore
from rempart.contact.models import Interaction, Recording
from rempart.contact.payments import PaymentConfig
from rempart.contact.payments import service as payments_service
from rempart.contact.protect import ProtectionUnavailable
from rempart.contact.recording_playback import open_rendition
from rempart.contact.schemas import InteractionOut, InteractionSummary
from rempart.contact.subjects import LookupKind, find_customers
from rempart.errors import NotFound, PermissionDenied
from rempart.identity.assurance import Level
from rempart.vault import Vault

router = APIRouter(prefix="/workspace", tags=["workspace"], responses=ERROR_RESPONSES)

ReadInteractions = Annotated[Reader, Depends(require_permission(Permission.INTERACTION_READ))]
Unmask = Annotated[Reader, Depends(require_permission(Permission.INTERACTION_UNMASK))]
Approve = Annotated[Reader, Depends(require_permission(Permission.GRANT_APPROVE))]
InteractionId = Annotated[str, Path(max_length=64)]

# A list request looks at no more than this many stored rows per page it returns,
# so that someone with need-to-know on few interactions cannot make it scan all.
SCAN_FACTOR = 10


class WorkspacePage(BaseModel):
    items: list[InteractionSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for more; a page may hold fewer items than `limit`."
    )


class UnmaskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2000)
    duration_minutes: int = Field(default=15, ge=1, le=24 * 60)
    recording: bool = Field(default=False, description="Also ask to hear the original recording.")


class GrantOut(BaseModel):
    id: str
    status: str
    permissions: list[str]
    interaction_id: str | None
    expires_at: datetime
    min_assurance: int

    @classmethod
    def of(cls, grant: Grant) -> GrantOut:
        return cls(
            id=grant.id,
            status=grant.status.value,
            permissions=sorted(p.value for p in grant.permissions),
            interaction_id=grant.interaction_id,
            expires_at=grant.expires_at,
            min_assurance=grant.min_assurance,
        )


@contextmanager
def _audited(
    ctx: AppContext, reader: Reader, action: str, resource_id: str | None = None
) -> Iterator[tuple[Session, AuditNote]]:
    with audited(
        ctx.db,
        reader.tenant,
        reader.origin,
        action=action,
        resource_type="interaction",
        resource_id=resource_id,
        clock=ctx.clock,
    ) as unit:
        yield unit


def _vault(ctx: AppContext) -> Vault:
    if ctx.vault is None:
        raise ProtectionUnavailable("no vault is configured: protected data cannot be read")
    return ctx.vault


@router.get(
    "/interactions",
    response_model=WorkspacePage,
    summary="Interactions I may read, newest first; search by customer, queue, agent or date",
    **permitted(Permission.INTERACTION_READ),
)
def list_interactions(
    ctx: Ctx,
    reader: ReadInteractions,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    channel: Literal["call", "chat", "email"] | None = None,
    queue: Annotated[str | None, Query(max_length=200)] = None,
    agent: Annotated[str | None, Query(max_length=64, description="A user id")] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
) -> WorkspacePage:
    vault = _vault(ctx)
    with _audited(ctx, reader, "interaction.list") as (session, note):
        customer_ids = _customers(session, vault, customer_id, phone, email)
        # The audit entry says how the search was made, never with which values.
        note.details["filters"] = sorted(
            k
            for k, v in {
                "channel": channel,
                "queue": queue,
                "agent": agent,
                "since": since,
                "until": until,
                "customer_id": customer_id,
                "phone": phone,
                "email": email,
            }.items()
            if v is not None
        )
        view = reader.view(session)
        allowed: list[Interaction] = []
        scanned = 0
        next_cursor = cursor
        while len(allowed) < limit and scanned < limit * SCAN_FACTOR:
            rows, next_cursor = service.page_rows(
                session,
                limit=limit,
                cursor=next_cursor,
                channel=channel,
                queue=queue,
                agent_id=agent,
                customer_ids=customer_ids,
                since=since,
                until=until,
            )
            scanned += len(rows)
            for row in rows:
                if len(allowed) == limit:
                    next_cursor = service.encode_cursor(allowed[-1])
                    break
                resource = interaction_resource(session, row)
                decision = view.decide(reader.principal, Permission.INTERACTION_READ, resource)
                if isinstance(decision, Allow):
                    allowed.append(row)
            if next_cursor is None:
                break
        note.details["count"] = len(allowed)
        note.details["scanned"] = scanned
        items = service.summaries(session, allowed, vault=vault)
    return WorkspacePage(items=items, next_cursor=next_cursor)


def _customers(
    session: Session,
    vault: Vault,
    customer_id: str | None,
    phone: str | None,
    email: str | None,
) -> list[str] | None:
    """Customer ids matching every given identifier (by blind index), or None for no filter."""
    found: set[str] | None = None
    for kind, value in (
        (LookupKind.CUSTOMER_ID, customer_id),
        (LookupKind.PHONE, phone),
        (LookupKind.EMAIL, email),
    ):
        if value is None:
            continue
        ids = set(find_customers(session, vault, kind, value))
        found = ids if found is None else found & ids
    return None if found is None else sorted(found)


@router.get(
    "/interactions/{interaction_id}",
    response_model=InteractionOut,
    summary="Read one interaction, masked as my access allows",
    **permitted(Permission.INTERACTION_READ),
)
def read_interaction(
    interaction_id: InteractionId, ctx: Ctx, reader: ReadInteractions
) -> InteractionOut:
    vault = _vault(ctx)
    with _audited(ctx, reader, "interaction.read", interaction_id) as (session, note):
        interaction = service.find(session, interaction_id)
        allow, _ = reader.require_on(session, Permission.INTERACTION_READ, interaction, note)
        out = service.to_out(session, interaction, vault=vault)
        return present(out, allow.obligations)


@router.post(
    "/interactions/{interaction_id}/unmask-requests",
    response_model=GrantOut,
    status_code=201,
    summary="Ask for the original of an interaction, with a reason (just-in-time access)",
    **permitted(Permission.INTERACTION_UNMASK),
)
def request_unmask(
    interaction_id: InteractionId,
    body: UnmaskRequest,
    ctx: Ctx,
    reader: Unmask,
) -> GrantOut:
    with _audited(ctx, reader, "interaction.unmask_request", interaction_id) as (session, note):
        interaction = service.find(session, interaction_id)
        # Only someone with need-to-know on the interaction may ask for its original.
        reader.require_on(session, Permission.INTERACTION_READ, interaction, note)
        grants = _grants(ctx, reader, session)
        permissions = [Permission.INTERACTION_UNMASK]
        if body.recording:
            permissions.append(Permission.RECORDING_UNMASK)
        try:
            grant = grants.request(
                reader.principal,
                permissions,
                interaction_id,
                body.reason,
                timedelta(minutes=body.duration_minutes),
            )
        except GrantRefused as exc:
            _step_up_if_asked(ctx, reader, exc)
            raise
        note.details["grant_id"] = grant.id
        return GrantOut.of(grant)


@router.post(
    "/grants/{grant_id}/approve",
    response_model=GrantOut,
    summary="Approve a pending unmask request",
    **permitted(Permission.GRANT_APPROVE),
)
def approve_grant(
    grant_id: Annotated[str, Path(max_length=64)], ctx: Ctx, reader: Approve
) -> GrantOut:
    with _audited(ctx, reader, "access.grant.approve_request", grant_id) as (session, _note):
        grants = _grants(ctx, reader, session)
        try:
            grant = grants.approve(reader.principal, grant_id)
        except GrantRefused as exc:
            _step_up_if_asked(ctx, reader, exc)
            raise
        return GrantOut.of(grant)


class BreakGlassIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2000)
    interaction_id: str | None = Field(
        default=None, max_length=64, description="One interaction, or every one when omitted"
    )


BreakGlass = Annotated[Reader, Depends(require_permission(Permission.BREAK_GLASS_INVOKE))]


@router.post(
    "/break-glass",
    response_model=GrantOut,
    status_code=201,
    summary="Emergency access without an approver: alerts the security team, reviewed after",
    **permitted(Permission.BREAK_GLASS_INVOKE),
)
def break_glass(body: BreakGlassIn, ctx: Ctx, reader: BreakGlass) -> GrantOut:
    with _audited(ctx, reader, "access.break_glass_request", body.interaction_id) as (
        session,
        note,
    ):
        if body.interaction_id is not None:
            service.find(session, body.interaction_id)  # 404 for an unknown interaction
        grants = _grants(ctx, reader, session)
        try:
            grant = grants.break_glass(reader.principal, body.reason, body.interaction_id)
        except GrantRefused as exc:
            _step_up_if_asked(ctx, reader, exc)
            raise
        note.details["grant_id"] = grant.id
        return GrantOut.of(grant)


@router.get(
    "/grants",
    response_model=list[GrantOut],
    summary="Unmask requests waiting for an approver",
    **permitted(Permission.GRANT_APPROVE),
)
def pending_grants(ctx: Ctx, reader: Approve) -> list[GrantOut]:
    with ctx.db.tenant_session(reader.tenant) as session:
        state = reader.view(session).state
    pending = [g for g in state.grants() if g.status is GrantStatus.PENDING]
    return [GrantOut.of(g) for g in sorted(pending, key=lambda g: g.requested_at)]


@router.get(
    "/interactions/{interaction_id}/original",
    response_model=InteractionOut,
    summary="Read the original of an interaction under an active unmask grant",
    **permitted(Permission.INTERACTION_UNMASK),
)
def read_original(interaction_id: InteractionId, ctx: Ctx, reader: Unmask) -> InteractionOut:
    vault = _vault(ctx)
    with _audited(ctx, reader, "interaction.read_original", interaction_id) as (session, note):
        interaction = service.find(session, interaction_id)
        _, resource = reader.require_on(session, Permission.INTERACTION_READ, interaction, note)
        decision = _unmask(ctx, reader, _grants(ctx, reader, session), resource)
        out = service.to_out(session, interaction, vault=vault, view="original")
        note.details["grant_id"] = decision.grant_id
        return present(out, decision.obligations)


Play = Annotated[Reader, Depends(require_permission(Permission.RECORDING_PLAY))]
UnmaskRecording = Annotated[Reader, Depends(require_permission(Permission.RECORDING_UNMASK))]
RecordingId = Annotated[str, Path(max_length=64)]


@router.get(
    "/interactions/{interaction_id}/recordings/{recording_id}",
    summary="Play a recording: the redacted rendition, sensitive spans silenced",
    response_class=StreamingResponse,
    responses={200: {"content": {"audio/wav": {}}}},
    **permitted(Permission.RECORDING_PLAY),
)
def play_recording(
    interaction_id: InteractionId, recording_id: RecordingId, ctx: Ctx, reader: Play
) -> StreamingResponse:
    return _play(ctx, reader, interaction_id, recording_id, original=False)


@router.get(
    "/interactions/{interaction_id}/recordings/{recording_id}/original",
    summary="Play the original recording under an active unmask grant",
    response_class=StreamingResponse,
    responses={200: {"content": {"audio/wav": {}}}},
    **permitted(Permission.RECORDING_UNMASK),
)
def play_original(
    interaction_id: InteractionId, recording_id: RecordingId, ctx: Ctx, reader: UnmaskRecording
) -> StreamingResponse:
    return _play(ctx, reader, interaction_id, recording_id, original=True)


def _play(
    ctx: AppContext, reader: Reader, interaction_id: str, recording_id: str, *, original: bool
) -> StreamingResponse:
    vault = _vault(ctx)
    action = "recording.play_original" if original else "recording.play"
    with _audited(ctx, reader, action, interaction_id) as (session, note):
        note.details["recording_id"] = recording_id
        interaction = service.find(session, interaction_id)
        allow, resource = reader.require_on(session, Permission.RECORDING_PLAY, interaction, note)
        if original:
            allow = _unmask(
                ctx, reader, _grants(ctx, reader, session), resource, Permission.RECORDING_UNMASK
            )
        silenced = _kind(allow, SensitiveField.RECORDING)
        if not original and silenced is not ObligationKind.RECORDING_SILENCED:
            # Only the silenced rendition may be played without an unmask grant.
            raise PermissionDenied("this recording cannot be played under your access")
        recording = session.get(Recording, recording_id)
        if recording is None or recording.interaction_id != interaction.id:
            raise NotFound("no such recording")
        chunks = open_rendition(
            vault, MediaStore.for_settings(ctx.settings), interaction, recording, original=original
        )
    return StreamingResponse(chunks, media_type="audio/wav", headers={"Cache-Control": "no-store"})


Observe = Annotated[Reader, Depends(require_permission(Permission.PAYMENT_OBSERVE))]
CaptureId = Annotated[str, Path(max_length=64)]


@router.get(
    "/captures/{capture_id}",
    response_model=CaptureOut,
    summary="Progress of a payment capture on a call I handle (no card data)",
    **permitted(Permission.PAYMENT_OBSERVE),
)
def read_capture(capture_id: CaptureId, ctx: Ctx, reader: Observe) -> CaptureOut:
    return _observe(ctx, reader, capture_id, "payment.capture.read")


@router.get(
    "/captures/{capture_id}/events",
    summary="Progress of a payment capture as server-sent events until it ends",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    **permitted(Permission.PAYMENT_OBSERVE),
)
def capture_events(
    capture_id: CaptureId, request: Request, ctx: Ctx, reader: Observe
) -> StreamingResponse:
    first = _observe(ctx, reader, capture_id, "payment.capture.observe")
    config = ctx.payments or PaymentConfig()
    return progress_stream(request, ctx, config, reader.tenant, capture_id, first)


def _observe(ctx: AppContext, reader: Reader, capture_id: str, action: str) -> CaptureOut:
    """The capture's progress if the caller has need-to-know on its call; else 404."""
    with audited(
        ctx.db,
        reader.tenant,
        reader.origin,
        action=action,
        resource_type="payment_capture",
        resource_id=capture_id,
        clock=ctx.clock,
    ) as (session, note):
        capture = payments_service.get_capture(session, capture_id)
        interaction = service.find(session, capture.interaction_id)
        reader.require_on(session, Permission.PAYMENT_OBSERVE, interaction, note)
        return capture_out(ctx, capture, ctx.payments or PaymentConfig())


def _kind(allow: Allow, field: SensitiveField) -> ObligationKind | None:
    for obligation in allow.obligations:
        if obligation.field is field:
            return obligation.kind
    return None


def _unmask(
    ctx: AppContext,
    reader: Reader,
    grants: GrantService,
    resource: InteractionResource,
    permission: Permission = Permission.INTERACTION_UNMASK,
) -> Allow:
    """The unmask decision (audited, raising a finding); step-up when assurance falls short."""
    try:
        return grants.unmask(reader.principal, permission, resource)
    except AccessDenied as exc:
        if exc.extensions.get("reason") == DenyReason.ASSURANCE_TOO_LOW.value:
            require_assurance(Level.MULTI_FACTOR)(reader.session_principal, ctx)
        raise


def _grants(ctx: AppContext, reader: Reader, session: Session) -> GrantService:
    return GrantService(
        reader.view(session).state,
        SqlWriter(session, load_catalog(session), actor=reader.origin.actor.id, clock=ctx.clock),
        SessionAuditSink(session),
        AuditFindings(session, clock=ctx.clock),
        clock=ctx.clock,
    )


def _step_up_if_asked(ctx: AppContext, reader: Reader, exc: GrantRefused) -> None:
    """Turn "step-up required" into the RFC 9470 challenge the browser can act on."""
    level = exc.extensions.get("step_up")
    if isinstance(level, int):
        require_assurance(Level(level))(reader.session_principal, ctx)


__all__ = ["router"]
