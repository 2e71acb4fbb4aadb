"""The tenant's audit log over HTTP: search, checkpoints, proofs, the verifier key.

Everything here reads; reading the audit log is itself audited. Proofs are
checked offline with ``rempart audit verify-proof`` or any RFC 9162 verifier.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel

from rempart.api.auditing import audited_request
from rempart.api.deps import Ctx, Principal, scoped
from rempart.api.problems import ERROR_RESPONSES
from rempart.audit import (
    latest_checkpoint,
    list_checkpoints,
    prove_consistency,
    prove_inclusion,
    search,
    verifier_key,
)
from rempart.audit.checkpoints import SignedCheckpoint
from rempart.audit.search import MAX_PAGE, AuditPage
from rempart.errors import NotFound
from rempart.identity.scopes import Scope

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES)


class CheckpointOut(BaseModel):
    origin: str
    size: int
    root: str
    note: str
    issued_at: datetime


def _checkpoint_out(cp: SignedCheckpoint) -> CheckpointOut:
    return CheckpointOut(
        origin=cp.origin,
        size=cp.size,
        root=base64.b64encode(cp.root).decode(),
        note=cp.note,
        issued_at=cp.issued_at,
    )


@router.get(
    "/events",
    response_model=AuditPage,
    summary="Search the tenant's audit log, newest first",
    **scoped(Scope.AUDIT_READ),
)
def search_events(
    request: Request,
    ctx: Ctx,
    principal: Principal,
    actor_id: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    resource_type: Annotated[str | None, Query(max_length=50)] = None,
    resource_id: Annotated[str | None, Query(max_length=200)] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|failure)$")] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditPage:
    with audited_request(
        request,
        ctx,
        principal,
        action="audit.search",
        resource_type="audit_log",
    ) as (session, note):
        page = search(
            session,
            actor_id=actor_id,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            outcome=outcome,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
        note.details["count"] = len(page.items)
    return page


@router.get(
    "/checkpoints",
    response_model=list[CheckpointOut],
    summary="Signed checkpoints of the tenant's log, smallest first",
    **scoped(Scope.AUDIT_READ),
)
def get_checkpoints(
    request: Request,
    ctx: Ctx,
    principal: Principal,
    min_size: Annotated[int, Query(ge=0)] = 0,
    max_size: Annotated[int | None, Query(ge=0)] = None,
) -> list[CheckpointOut]:
    with audited_request(
        request,
        ctx,
        principal,
        action="audit.checkpoints",
        resource_type="audit_log",
    ) as (session, _note):
        rows = list_checkpoints(session, min_size=min_size, max_size=max_size)
    return [_checkpoint_out(cp) for cp in rows[:1000]]


@router.get(
    "/checkpoints/latest",
    response_model=CheckpointOut,
    summary="The newest signed checkpoint of the tenant's log",
    **scoped(Scope.AUDIT_READ),
)
def get_latest_checkpoint(request: Request, ctx: Ctx, principal: Principal) -> CheckpointOut:
    with audited_request(
        request,
        ctx,
        principal,
        action="audit.checkpoints",
        resource_type="audit_log",
    ) as (session, _note):
        cp = latest_checkpoint(session)
        if cp is None:
            raise NotFound("no checkpoint has been issued for this log yet")
    return _checkpoint_out(cp)


@router.get(
    "/proofs/inclusion",
    summary="Inclusion proof of one audit entry against a signed checkpoint",
    **scoped(Scope.AUDIT_READ),
)
def get_inclusion_proof(
    request: Request,
    ctx: Ctx,
    principal: Principal,
    uid: Annotated[str, Query(min_length=1, max_length=64)],
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    with audited_request(
        request,
        ctx,
        principal,
        action="audit.prove",
        resource_type="audit_entry",
        resource_id=uid,
    ) as (session, _note):
        return prove_inclusion(session, uid=uid, tree_size=tree_size).to_json()


@router.get(
    "/proofs/consistency",
    summary="Consistency proof between two signed checkpoints of the tenant's log",
    **scoped(Scope.AUDIT_READ),
)
def get_consistency_proof(
    request: Request,
    ctx: Ctx,
    principal: Principal,
    old_size: Annotated[int, Query(ge=0)],
    new_size: Annotated[int | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    with audited_request(
        request,
        ctx,
        principal,
        action="audit.prove",
        resource_type="audit_log",
    ) as (session, _note):
        return prove_consistency(session, old_size, new_size).to_json()


@router.get(
    "/verifier-key",
    summary="The public key that signs checkpoints (note verifier key format)",
    **scoped(Scope.AUDIT_READ),
)
def get_verifier_key(ctx: Ctx, principal: Principal) -> dict[str, str]:
    if ctx.audit_signer is None:
        raise NotFound("no checkpoint signer is configured on this server")
    return {"verifier_key": verifier_key(ctx.audit_signer)}
