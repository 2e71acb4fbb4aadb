"""Recording media: a contact-center platform uploads a call's audio (PCM WAV), streamed.

The body is never held whole: it is checked, cut (payment-capture windows) and
encrypted as it arrives (``rempart.contact.recording_upload``). This route's
size limit is ``max_recording_bytes``; the generic request-body limit does not
apply to it (``BodyLimitExceptMedia``), so that the refusal is this route's own,
precise and audited.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any, Final

import anyio.to_thread
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from rempart.api.auditing import audited_request
from rempart.api.context import AppContext
from rempart.api.deps import Ctx, Principal, scoped, tenant_of
from rempart.api.middleware import BodyLimitMiddleware
from rempart.api.problems import ERROR_RESPONSES
from rempart.contact.media import MediaStore, MediaWrite
from rempart.contact.recording_upload import (
    WAV_MEDIA_TYPES,
    MediaUnavailable,
    UploadPlan,
    UploadResult,
    plan_upload,
    receive_upload,
    record_stored,
)
from rempart.contact.wav import TruncatedUpload, UnsupportedAudio
from rempart.errors import BadRequest, PayloadTooLarge, RempartError
from rempart.identity.scopes import Scope as TokenScope
from rempart.identity.tokens import MachinePrincipal
from rempart.vault import Vault

router = APIRouter(prefix="/interactions", tags=["recordings"], responses=ERROR_RESPONSES)

_MEDIA_PATH: Final = re.compile(r"/api/v1/interactions/[^/]+/recordings/[^/]+/media")
_ID = Annotated[str, Path(max_length=64)]


class RecordingMediaOut(BaseModel):
    recording_id: str
    media_status: str
    size_bytes: int
    sha256: str
    stored_bytes: int
    duration_ms: int
    channels: int
    sample_rate: int
    bits_per_sample: int
    pause_windows: int
    silenced_spans: int


class BodyLimitExceptMedia:
    """The generic body limit on every request but recording uploads (limited by their route)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.limited = BodyLimitMiddleware(app, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "PUT"
            and _MEDIA_PATH.fullmatch(scope.get("path", "")) is not None
        ):
            await self.app(scope, receive, send)
        else:
            await self.limited(scope, receive, send)


def _vault(ctx: AppContext) -> Vault:
    if ctx.vault is None:
        raise MediaUnavailable("recording storage needs the vault, which is not configured")
    return ctx.vault


def _media_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in WAV_MEDIA_TYPES:
        raise UnsupportedAudio(
            "recordings must be PCM WAV (audio/wav): the redacted rendition silences "
            "sensitive spans by overwriting samples, which needs uncompressed PCM"
        )


def _content_length(request: Request, limit: int) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.isdigit():
        raise BadRequest("invalid Content-Length header")
    if int(declared) > limit:
        raise PayloadTooLarge(f"the recording is larger than {limit} bytes")
    return int(declared)


def _content_digest(request: Request) -> str | None:
    """The SHA-256 of RFC 9530's ``Content-Digest: sha-256=:<base64>:``, in hex."""
    header = request.headers.get("content-digest")
    if header is None:
        return None
    for member in header.split(","):
        name, _, value = member.strip().partition("=")
        if name.strip().lower() != "sha-256":
            continue
        value = value.strip()
        try:
            raw = base64.b64decode(value[1:-1], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("Content-Digest sha-256 must be :<base64>:") from exc
        if not (value.startswith(":") and value.endswith(":")) or len(raw) != 32:
            raise BadRequest("Content-Digest sha-256 must be :<base64 of 32 bytes>:")
        return raw.hex()
    return None


# The scope (enforced and published) plus the raw WAV body, which FastAPI cannot infer
# since the route reads the stream itself.
_WRITE = scoped(TokenScope.INTERACTION_WRITE)
_UPLOAD_ROUTE: Final[dict[str, Any]] = {
    **_WRITE,
    "openapi_extra": {
        **_WRITE["openapi_extra"],
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in sorted(WAV_MEDIA_TYPES)
            },
        },
    },
}


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect as exc:
        raise TruncatedUpload("the connection closed before the end of the body") from exc


@router.put(
    "/{interaction_id}/recordings/{recording_id}/media",
    status_code=201,
    response_model=RecordingMediaOut,
    summary="Upload a recording's audio (PCM WAV), streamed, encrypted as it arrives",
    responses={
        409: {"description": "Media already stored, or the customer was erased"},
        503: {"description": "The vault is not configured"},
    },
    **_UPLOAD_ROUTE,
)
async def upload_media(
    interaction_id: _ID,
    recording_id: _ID,
    request: Request,
    response: Response,
    ctx: Ctx,
    principal: Principal,
) -> RecordingMediaOut:
    details: dict[str, object] = {"interaction_id": interaction_id}
    recording_stage = False  # from there on, the record step audits its own outcome
    try:
        vault = _vault(ctx)
        _media_type(request)
        limit = ctx.settings.max_recording_bytes
        length = _content_length(request, limit)
        digest = _content_digest(request)
        store = MediaStore.for_settings(ctx.settings)
        plan = await anyio.to_thread.run_sync(
            partial(_plan, ctx, principal, vault, store, interaction_id, recording_id)
        )
        with store.write(plan.tenant, plan.recording_id) as pending:
            result = await receive_upload(
                plan,
                _body(request),
                vault=vault,
                pending=pending,
                max_bytes=limit,
                content_length=length,
                digest_sha256=digest,
            )
            recording_stage = True
            out = await anyio.to_thread.run_sync(
                partial(_record, request, ctx, principal, store, plan, pending, result)
            )
    except RempartError as exc:
        if not recording_stage:
            await anyio.to_thread.run_sync(
                partial(_audit_failure, request, ctx, principal, recording_id, details, exc)
            )
        raise
    response.headers["Location"] = request.url.path
    return out


def _plan(
    ctx: AppContext,
    principal: MachinePrincipal,
    vault: Vault,
    store: MediaStore,
    interaction_id: str,
    recording_id: str,
) -> UploadPlan:
    with ctx.db.tenant_session(tenant_of(principal)) as session:
        return plan_upload(session, vault, store, interaction_id, recording_id)


def _record(
    request: Request,
    ctx: AppContext,
    principal: MachinePrincipal,
    store: MediaStore,
    plan: UploadPlan,
    pending: MediaWrite,
    result: UploadResult,
) -> RecordingMediaOut:
    fmt = result.summary.format
    try:
        with audited_request(
            request,
            ctx,
            principal,
            action="recording.upload",
            resource_type="recording",
            resource_id=plan.recording_id,
        ) as (session, note):
            # Sizes and shape, never content.
            note.details.update(
                interaction_id=plan.interaction_id,
                size_bytes=result.summary.received_bytes,
                stored_bytes=result.ciphertext_bytes,
                duration_ms=result.summary.duration_ms,
                channels=fmt.channels,
                pause_windows=len(plan.pauses),
                silenced_spans=len(plan.silences),
                key="subject" if plan.subject is not None else "tenant",
            )
            recording = record_stored(session, store, plan, pending, result, clock=ctx.clock)
            out = RecordingMediaOut(
                recording_id=recording.id,
                media_status=recording.media_status,
                size_bytes=result.summary.received_bytes,
                sha256=result.sha256,
                stored_bytes=result.ciphertext_bytes,
                duration_ms=result.summary.duration_ms,
                channels=fmt.channels,
                sample_rate=fmt.sample_rate,
                bits_per_sample=fmt.bits,
                pause_windows=len(plan.pauses),
                silenced_spans=len(plan.silences),
            )
    except BaseException:
        if pending.committed:
            # The files went into place but the record did not: take them back out.
            store.delete(plan.tenant, plan.recording_id)
        raise
    return out


def _audit_failure(
    request: Request,
    ctx: AppContext,
    principal: MachinePrincipal,
    recording_id: str,
    details: dict[str, object],
    exc: RempartError,
) -> None:
    """Record the refusal in the tenant's audit log (``audited`` writes it and re-raises)."""
    try:
        with audited_request(
            request,
            ctx,
            principal,
            action="recording.upload",
            resource_type="recording",
            resource_id=recording_id[:64],
        ) as (_session, note):
            note.details.update(details)
            raise exc
    except RempartError:
        return


__all__ = ["BodyLimitExceptMedia", "RecordingMediaOut", "router"]
