"""Interactions: a contact-center platform pushes them; callers of the same tenant read them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from rempart.api.auditing import audited_request
from rempart.api.deps import Ctx, Principal, require_json, scoped
from rempart.api.presentation import MACHINE_VIEW, present
from rempart.api.problems import ERROR_RESPONSES
from rempart.contact import service
from rempart.contact.schemas import InteractionIn, InteractionOut, InteractionPage
from rempart.identity.scopes import Scope

router = APIRouter(prefix="/interactions", tags=["interactions"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=201,
    response_model=InteractionOut,
    summary="Push an interaction (idempotent on external_id)",
    responses={200: {"model": InteractionOut, "description": "Already stored, unchanged"}},
    **scoped(Scope.INTERACTION_WRITE),
)
def create_interaction(
    payload: InteractionIn,
    request: Request,
    response: Response,
    ctx: Ctx,
    principal: Principal,
    _json: Annotated[None, Depends(require_json)],
) -> InteractionOut:
    with audited_request(
        request,
        ctx,
        principal,
        action="interaction.create",
        resource_type="interaction",
    ) as (session, note):
        interaction, created = service.ingest(
            session, payload, created_by=principal.actor_id, vault=ctx.vault, clock=ctx.clock
        )
        note.resource_id = interaction.id
        note.details["created"] = created
        out = present(service.to_out(session, interaction, vault=ctx.vault), MACHINE_VIEW)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"{request.url.path}/{out.id}"
    return out


@router.get(
    "",
    response_model=InteractionPage,
    summary="List interactions, newest first",
    **scoped(Scope.INTERACTION_READ),
)
def list_interactions(
    request: Request,
    ctx: Ctx,
    principal: Principal,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    channel: Literal["call", "chat", "email"] | None = None,
) -> InteractionPage:
    with audited_request(
        request,
        ctx,
        principal,
        action="interaction.list",
        resource_type="interaction",
    ) as (session, note):
        page = service.list_page(
            session, vault=ctx.vault, limit=limit, cursor=cursor, channel=channel
        )
        note.details["count"] = len(page.items)
    return page


@router.get(
    "/{interaction_id}",
    response_model=InteractionOut,
    summary="Read one interaction",
    **scoped(Scope.INTERACTION_READ),
)
def get_interaction(
    interaction_id: Annotated[str, Path(max_length=64)],
    request: Request,
    ctx: Ctx,
    principal: Principal,
) -> InteractionOut:
    with audited_request(
        request,
        ctx,
        principal,
        action="interaction.read",
        resource_type="interaction",
        resource_id=interaction_id,
    ) as (session, _note):
        return present(service.get(session, interaction_id, vault=ctx.vault), MACHINE_VIEW)
