"""Batch ingestion (bearer token) and signed webhooks (no token) from contact-center platforms.

Both store interactions exactly like the push route (``contact.service.ingest``).
A batch ingests each item in its own transaction: an item that fails does not
undo the others, and the answer gives every item its own status. A webhook
authenticates by its ``Rempart-Signature`` (see ``rempart.ingest.webhooks``);
a refused signature is audited in the tenant's log and nothing is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema
from sqlalchemy import select

from rempart.api.auditing import audited_request
from rempart.api.context import AppContext
from rempart.api.deps import Ctx, Principal, client_ip, require_json, scoped
from rempart.api.idempotency import close_key, ingest_config, open_key, replayed
from rempart.api.problems import ERROR_RESPONSES, PROBLEM_MEDIA_TYPE, Problem, problem_response
from rempart.audit import Actor, AuditEvent, Origin, append, audited
from rempart.contact import service
from rempart.contact.schemas import InteractionIn
from rempart.errors import RempartError, ValidationFailed
from rempart.identity.scopes import Scope
from rempart.identity.tokens import MachinePrincipal
from rempart.ingest import idempotency, signatures
from rempart.ingest.errors import SignatureInvalid, VaultUnavailable, WebhookRefused
from rempart.ingest.idempotency import Reserved, StoredResponse
from rempart.ingest.webhooks import Verified, verify_delivery
from rempart.logs import get_logger
from rempart.storage import TenantContext
from rempart.storage.tenants import Tenant
from rempart.types import TenantId

log = get_logger("rempart.api")
router = APIRouter(tags=["ingestion"], responses=ERROR_RESPONSES)

# OpenAPI marker of operations that authenticate by signature instead of a token scope.
AUTH_EXTENSION = "x-rempart-auth"
WEBHOOK_AUTH = "webhook-signature"
CHALLENGE = 'Rempart-Signature realm="rempart"'
# The schema's hard bound; the configured bound (default 100) is checked at run time.
BATCH_HARD_MAX = 1000
INTERACTIONS = "/api/v1/interactions"
# Bearer-token routes whose keyed retries the IdempotencyMiddleware answers, with their scope.
IDEMPOTENT_PATHS: dict[str, Scope] = {
    INTERACTIONS: Scope.INTERACTION_WRITE,
    f"{INTERACTIONS}/batch": Scope.INTERACTION_WRITE,
}


class IngestReceipt(BaseModel):
    """What a webhook gets back: the stored interaction's id, and whether it was new."""

    id: str
    external_id: str
    created: bool


class BatchIn(BaseModel):
    """Interactions to store; each is checked against ``InteractionIn`` on its own."""

    model_config = ConfigDict(extra="forbid")

    items: Annotated[
        list[dict[str, Any]],
        Field(min_length=1, max_length=BATCH_HARD_MAX),
        WithJsonSchema(
            {
                "type": "array",
                "items": {"$ref": "#/components/schemas/InteractionIn"},
                "minItems": 1,
                "maxItems": BATCH_HARD_MAX,
                "description": "At most the configured number of items (default 100); "
                "the whole body is also bounded by the server's request size limit.",
            }
        ),
    ]


class BatchItemResult(BaseModel):
    index: int = Field(description="Position of the item in the request")
    status: int = Field(description="201 stored, 200 already stored unchanged, or the 4xx")
    id: str | None = None
    external_id: str | None = None
    location: str | None = None
    problem: Problem | None = None


class BatchOut(BaseModel):
    items: list[BatchItemResult]
    created: int
    unchanged: int
    failed: int


def _safe_errors(exc: ValidationError) -> list[dict[str, Any]]:
    # Locations, messages and types only: never the offending input.
    return [
        {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_input=False, include_url=False)[:50]
    ]


def _item_problem(request: Request, exc: RempartError) -> Problem:
    return Problem(
        type=f"urn:rempart:problem:{exc.slug}",
        title=exc.title,
        status=exc.status,
        detail=exc.detail,
        request_id=getattr(request.state, "request_id", None),
        **exc.extensions,
    )


def _ingest_item(
    request: Request, ctx: AppContext, principal: MachinePrincipal, index: int, raw: dict[str, Any]
) -> BatchItemResult:
    try:
        item = InteractionIn.model_validate(raw)
    except ValidationError as exc:
        errors = _safe_errors(exc)
        failed = ValidationFailed(f"{len(errors)} problem(s) in the item", errors=errors)
        return BatchItemResult(index=index, status=422, problem=_item_problem(request, failed))
    try:
        with audited_request(
            request, ctx, principal, action="interaction.create", resource_type="interaction"
        ) as (session, note):
            interaction, created = service.ingest(
                session, item, created_by=principal.actor_id, vault=ctx.vault, clock=ctx.clock
            )
            note.resource_id = interaction.id
            note.details.update(created=created, batch_index=index)
            stored_id = interaction.id
    except RempartError as exc:
        return BatchItemResult(
            index=index,
            status=exc.status,
            external_id=item.external_id,
            problem=_item_problem(request, exc),
        )
    return BatchItemResult(
        index=index,
        status=201 if created else 200,
        id=stored_id,
        external_id=item.external_id,
        location=f"{INTERACTIONS}/{stored_id}",
    )


@router.post(
    "/interactions/batch",
    response_model=BatchOut,
    summary="Push several interactions; each stored (or refused) on its own",
    description=(
        "Each item is ingested in its own transaction, like a push of its own: a "
        "refused item does not undo the items stored before or after it, and the "
        "answer carries one status per item. Retrying the whole batch is safe: items "
        "already stored come back as 200 (idempotent on external_id). Accepts an "
        "`Idempotency-Key` header."
    ),
    **scoped(Scope.INTERACTION_WRITE),
)
def ingest_batch(
    payload: BatchIn,
    request: Request,
    ctx: Ctx,
    principal: Principal,
    _json: Annotated[None, Depends(require_json)],
) -> BatchOut:
    limit = ingest_config(request.app.state).max_batch_items
    if len(payload.items) > limit:
        raise ValidationFailed(f"a batch holds at most {limit} interactions")
    if ctx.vault is None:
        raise VaultUnavailable("no vault is configured: interactions cannot be protected")
    results = [_ingest_item(request, ctx, principal, i, raw) for i, raw in enumerate(payload.items)]
    created = sum(1 for r in results if r.status == 201)
    unchanged = sum(1 for r in results if r.status == 200)
    failed = len(results) - created - unchanged
    with audited_request(
        request, ctx, principal, action="interaction.batch", resource_type="interaction"
    ) as (_session, note):
        note.details.update(items=len(results), created=created, unchanged=unchanged, failed=failed)
    return BatchOut(items=results, created=created, unchanged=unchanged, failed=failed)


async def raw_body(request: Request) -> bytes:
    """The body exactly as received: the signature covers these bytes."""
    return await request.body()


def _webhook_tenant(ctx: AppContext, slug: str) -> TenantContext:
    with ctx.db.platform_session() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None or tenant.status != "active":
            # Same answer as a wrong secret: the endpoint does not tell which tenants exist.
            log.info("webhook for an unknown or inactive tenant")
            raise SignatureInvalid("the signature was not made by a webhook secret of this tenant")
        return TenantContext(TenantId(tenant.id))


def _origin(request: Request, ctx: AppContext, actor_id: str) -> Origin:
    return Origin(
        actor=Actor(type="machine", id=actor_id),
        source_ip=client_ip(request, ctx),
        user_agent=request.headers.get("user-agent"),
        request_id=getattr(request.state, "request_id", None),
    )


def _audit_refusal(
    request: Request, ctx: AppContext, tenant: TenantContext, exc: WebhookRefused
) -> None:
    """The refusal, in a transaction of its own (the verification's was rolled back)."""
    origin = _origin(request, ctx, "webhook")
    with ctx.db.tenant_session(tenant) as session:
        append(
            session,
            AuditEvent(
                tenant_id=tenant.tenant_id,
                actor=origin.actor,
                action="webhook.deliver",
                resource_type="webhook",
                resource_id=None,
                outcome="failure",
                time=ctx.clock(),
                reason=exc.slug,
                source_ip=origin.source_ip,
                user_agent=origin.user_agent,
                request_id=origin.request_id,
            ),
        )


def _verify(request: Request, ctx: AppContext, tenant: TenantContext, body: bytes) -> Verified:
    header = request.headers.get(signatures.HEADER)
    tolerance = ingest_config(request.app.state).webhook_tolerance
    try:
        signatures.parse_header(header)  # missing or malformed: refused whatever else holds
        if ctx.vault is None:
            raise VaultUnavailable("no vault is configured: webhook secrets cannot be read")
        with ctx.db.tenant_session(tenant) as session:
            return verify_delivery(
                session, ctx.vault, header=header, body=body, now=ctx.clock(), tolerance=tolerance
            )
    except WebhookRefused as exc:
        _audit_refusal(request, ctx, tenant, exc)
        raise


def _problem(
    request: Request, exc: RempartError, headers: dict[str, str] | None = None
) -> JSONResponse:
    return problem_response(
        request, exc.status, exc.slug, exc.title, exc.detail, headers=headers, **exc.extensions
    )


def _store_signed(
    request: Request, ctx: AppContext, tenant: TenantContext, verified: Verified, body: bytes
) -> Response:
    """Ingest the delivery; a refusal becomes its problem document (so it can be kept)."""
    try:
        payload = InteractionIn.model_validate_json(body)
    except ValidationError as exc:
        errors = _safe_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return problem_response(
                request,
                400,
                "malformed-json",
                "Malformed JSON",
                "the request body is not valid JSON",
            )
        return _problem(
            request, ValidationFailed(f"{len(errors)} problem(s) in the request", errors=errors)
        )
    try:
        with audited(
            ctx.db,
            tenant,
            _origin(request, ctx, f"webhook:{verified.secret_id}"),
            action="interaction.create",
            resource_type="interaction",
            clock=ctx.clock,
        ) as (session, note):
            interaction, created = service.ingest(
                session,
                payload,
                created_by=f"webhook:{verified.secret_id}",
                vault=ctx.vault,
                clock=ctx.clock,
            )
            note.resource_id = interaction.id
            note.details.update(created=created, via="webhook")
            receipt = IngestReceipt(
                id=interaction.id, external_id=interaction.external_id, created=created
            )
    except RempartError as exc:
        return _problem(request, exc)
    return JSONResponse(
        receipt.model_dump(mode="json"),
        status_code=201 if created else 200,
        headers={"Location": f"{INTERACTIONS}/{receipt.id}"},
    )


_WEBHOOK_OPENAPI: dict[str, Any] = {
    AUTH_EXTENSION: WEBHOOK_AUTH,
    "security": [],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InteractionIn"}}},
    },
    "parameters": [
        {
            "name": signatures.HEADER,
            "in": "header",
            "required": True,
            "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>"
            " (several v1 during a secret rotation)",
            "schema": {"type": "string", "maxLength": signatures.MAX_HEADER_CHARS},
        },
        {
            "name": idempotency.HEADER,
            "in": "header",
            "required": False,
            "description": "Retries with the same key and body get the first answer back",
            "schema": {"type": "string", "maxLength": 255},
        },
    ],
}


@router.post(
    "/webhooks/{tenant}/interactions",
    status_code=201,
    response_model=IngestReceipt,
    summary="Signed callback: push an interaction (authenticated by signature, no token)",
    responses={
        200: {"model": IngestReceipt, "description": "Already stored, unchanged"},
        401: {
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {}},
            "description": "Signature missing, malformed, invalid, expired or replayed",
        },
    },
    openapi_extra=_WEBHOOK_OPENAPI,
)
def webhook_interaction(
    tenant: Annotated[str, Path(max_length=100, description="The tenant's slug")],
    request: Request,
    ctx: Ctx,
    body: Annotated[bytes, Depends(raw_body)],
    _json: Annotated[None, Depends(require_json)],
) -> Response:
    try:
        tenant_ctx = _webhook_tenant(ctx, tenant)
        request.state.tenant_id = tenant_ctx.tenant_id
        verified = _verify(request, ctx, tenant_ctx, body)
    except WebhookRefused as exc:
        # A 401 names the scheme that would succeed: a signature, not a bearer token.
        log.info(
            "webhook refused",
            request_id=getattr(request.state, "request_id", None),
            problem=exc.slug,
        )
        return _problem(request, exc, headers={"WWW-Authenticate": CHALLENGE})
    key = request.headers.get(idempotency.HEADER)
    reserved: Reserved | None = None
    if key is not None:
        config = ingest_config(request.app.state)
        sha = idempotency.fingerprint("POST", request.url.path, body)
        outcome = open_key(ctx, config, tenant_ctx.tenant_id, key, sha)
        if isinstance(outcome, StoredResponse):
            return replayed(outcome)
        reserved = outcome
    try:
        response = _store_signed(request, ctx, tenant_ctx, verified, body)
    except BaseException:
        if reserved is not None:
            close_key(ctx, reserved, StoredResponse(500, {}, b""))
        raise
    if reserved is not None:
        kept = StoredResponse(
            response.status_code, dict(response.headers.items()), bytes(response.body)
        )
        close_key(ctx, reserved, kept)
    return response


__all__ = [
    "AUTH_EXTENSION",
    "IDEMPOTENT_PATHS",
    "WEBHOOK_AUTH",
    "BatchIn",
    "BatchOut",
    "IngestReceipt",
    "router",
]
