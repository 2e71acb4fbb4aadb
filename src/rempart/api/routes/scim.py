"""SCIM 2.0 endpoints for the tenant's provisioning client (Entra ID, Okta, ...).

Authentication is a machine token with the ``scim:provision`` scope; the
token's tenant is the tenant provisioned. Every error leaves as a SCIM Error
(``application/scim+json``), every write is audited, and the tenant's IP
allowlist and a failure lockout apply.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from scim2_models import (
    Context,
    Group,
)
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from rempart.access.store import bump_version
from rempart.api.deps import client_ip, get_context, get_identity
from rempart.audit import Actor, Origin
from rempart.audit.trail import AuditNote, audited
from rempart.errors import AuthenticationFailed, PermissionDenied, RempartError
from rempart.identity import scim
from rempart.identity.models import ScimGroup
from rempart.identity.models import User as UserRow
from rempart.identity.ratelimit import TooManyRequests
from rempart.identity.scim import render
from rempart.identity.scopes import Scope
from rempart.identity.tokens import MachinePrincipal, authenticate
from rempart.storage import TenantContext

MEDIA = "application/scim+json"
PREFIX = "/scim/v2"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
KNOWN_ENDPOINTS = frozenset(
    {"ServiceProviderConfig", "ResourceTypes", "Schemas", "Users", "Groups"}
)


def scim_error(status: int, detail: str, scim_type: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    headers = {"WWW-Authenticate": 'Bearer realm="rempart-scim"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


class ScimRoute(APIRoute):
    """Turns every error of a SCIM route, authentication included, into a SCIM Error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except scim.ScimError as exc:
                return scim_error(exc.http_status, exc.detail, exc.scim_type)
            except RempartError as exc:
                return scim_error(exc.status, exc.detail)
            except RequestValidationError:
                return scim_error(400, "invalid request parameters", "invalidValue")

        return run


router = APIRouter(prefix=PREFIX, tags=["scim"], route_class=ScimRoute)


def _respond(body: Any, status: int = 200, location: str | None = None) -> JSONResponse:
    headers = {"Location": location} if location else None
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def _principal(request: Request) -> MachinePrincipal:
    ctx = get_context(request)
    identity = get_identity(request, ctx)
    ip = client_ip(request, ctx)
    lock_key = f"scim:{ip}"
    lockout = identity.scim_lockout
    if lockout is not None:
        lockout.check(lock_key)
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthenticationFailed("missing bearer token")
        principal = authenticate(
            ctx.db, value.strip(), clock=ctx.clock, source_ip=ip, check_network=True
        )
    except AuthenticationFailed:
        if lockout is not None and lockout.failure(lock_key):
            raise TooManyRequests("temporarily locked after repeated failures") from None
        raise
    if Scope.SCIM_PROVISION not in principal.scopes:
        raise PermissionDenied("token lacks the scim:provision scope")
    request.state.tenant_id = principal.tenant_id
    request.state.token_id = principal.token_id
    return principal


def _origin(request: Request, principal: MachinePrincipal) -> Origin:
    ctx = get_context(request)
    return Origin(
        actor=Actor(type="machine", id=principal.actor_id),
        source_ip=client_ip(request, ctx),
        user_agent=request.headers.get("user-agent"),
        request_id=getattr(request.state, "request_id", None),
    )


@contextmanager
def _work(
    request: Request,
    principal: MachinePrincipal,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
) -> Iterator[tuple[Session, AuditNote]]:
    ctx = get_context(request)
    with audited(
        ctx.db,
        TenantContext(principal.tenant_id),
        _origin(request, principal),
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        clock=ctx.clock,
    ) as (session, note):
        yield session, note
        # Users' status and groups feed access decisions: a deactivation or a
        # group change applies to the next request of every process.
        bump_version(session)


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise scim.ScimError("the body is not JSON", scim_type="invalidSyntax") from exc


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _project(request: Request, model: type[Any]) -> dict[str, Any]:
    """Projection from the query string, or from a SearchRequest body already read."""
    found: dict[str, str | None] | None = getattr(request.state, "scim_projection", None)
    q = found or {
        "attributes": request.query_params.get("attributes"),
        "excludedAttributes": request.query_params.get("excludedAttributes"),
    }
    return render.projection(model, q.get("attributes"), q.get("excludedAttributes"))


def _user_body(request: Request, session: Session, row: UserRow, ctx: Context) -> dict[str, Any]:
    project = _project(request, scim.ScimUser)
    return render.user_resource(session, row, base=_base(request), ctx=ctx, project=project)


def _group_body(request: Request, session: Session, row: ScimGroup, ctx: Context) -> dict[str, Any]:
    project = _project(request, Group)
    return render.group_resource(session, row, base=_base(request), ctx=ctx, project=project)


# Discovery --------------------------------------------------------------


@router.get("/ServiceProviderConfig")
def service_provider_config(request: Request) -> JSONResponse:
    return _respond(render.service_provider_config(_base(request)))


@router.get("/ResourceTypes")
def resource_types(request: Request) -> JSONResponse:
    items = render.resource_types(_base(request))
    return _respond(render.list_response(items, len(items), 1))


@router.get("/ResourceTypes/{name}")
def resource_type(name: str, request: Request) -> JSONResponse:
    for item in render.resource_types(_base(request)):
        if item["id"] == name:
            return _respond(item)
    raise scim.ScimError(f"no resource type {name}", status=404)


@router.get("/Schemas")
def schemas(request: Request) -> JSONResponse:
    items = render.schemas(_base(request))
    return _respond(render.list_response(items, len(items), 1))


@router.get("/Schemas/{schema_id}")
def schema(schema_id: str, request: Request) -> JSONResponse:
    for item in render.schemas(_base(request)):
        if item["id"] == schema_id:
            return _respond(item)
    raise scim.ScimError(f"no schema {schema_id}", status=404)


# Users ------------------------------------------------------------------


def _search_params(request: Request, body: Any) -> dict[str, str | None]:
    """A SearchRequest body (RFC 7644, 3.4.3) as the query parameters it stands for."""
    if not isinstance(body, dict) or "urn:ietf:params:scim:api:messages:2.0:SearchRequest" not in (
        body.get("schemas") or []
    ):
        raise scim.ScimError("the body must be a SearchRequest", scim_type="invalidSyntax")

    def joined(value: Any) -> str | None:
        if isinstance(value, list):
            return ",".join(str(v) for v in value)
        return None if value is None else str(value)

    request.state.scim_projection = {
        "attributes": joined(body.get("attributes")),
        "excludedAttributes": joined(body.get("excludedAttributes")),
    }
    return {
        "filter": body.get("filter"),
        "startIndex": joined(body.get("startIndex")),
        "count": joined(body.get("count")),
    }


def _list_work(
    request: Request, principal: MachinePrincipal, kind: str, params: dict[str, str | None]
) -> dict[str, Any]:
    ctx = get_context(request)
    with ctx.db.tenant_session(TenantContext(principal.tenant_id)) as session:
        start, count = render.page(params.get("startIndex"), params.get("count"))
        items: list[dict[str, Any]] = []
        total = 0
        if kind in ("User", "*"):
            users_ = scim.list_users(session, params.get("filter"), lenient=kind == "*")
            items += [_user_body(request, session, r, Context.SEARCH_RESPONSE) for r in users_]
            total += len(users_)
        if kind in ("Group", "*"):
            groups_ = scim.list_groups(session, params.get("filter"), lenient=kind == "*")
            items += [_group_body(request, session, r, Context.SEARCH_RESPONSE) for r in groups_]
            total += len(groups_)
        return render.list_response(items[start - 1 : start - 1 + count], total, start)


def _query_params(request: Request) -> dict[str, str | None]:
    q = request.query_params
    return {"filter": q.get("filter"), "startIndex": q.get("startIndex"), "count": q.get("count")}


@router.get("/Users")
async def users(request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    params = _query_params(request)
    return _respond(await run_in_threadpool(_list_work, request, principal, "User", params))


@router.post("/Users/.search")
async def search_users(request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    params = _search_params(request, await _body(request))
    return _respond(await run_in_threadpool(_list_work, request, principal, "User", params))


@router.post("/Groups/.search")
async def search_groups(request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    params = _search_params(request, await _body(request))
    return _respond(await run_in_threadpool(_list_work, request, principal, "Group", params))


@router.post("/.search")
async def search_all(request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    params = _search_params(request, await _body(request))
    return _respond(await run_in_threadpool(_list_work, request, principal, "*", params))


@router.post("/Users")
async def create_user(request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    payload = await _body(request)

    def work() -> dict[str, Any]:
        ctx = get_context(request)
        with _work(request, principal, "scim.user.create", "user") as (session, note):
            row = scim.create_user(session, principal.tenant_id, payload, clock=ctx.clock)
            note.resource_id = row.id
            return _user_body(request, session, row, Context.RESOURCE_CREATION_RESPONSE)

    body = await run_in_threadpool(work)
    return _respond(body, 201, body.get("meta", {}).get("location"))


@router.get("/Users/{user_id}")
async def get_user(user_id: str, request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)

    def work() -> dict[str, Any]:
        ctx = get_context(request)
        with ctx.db.tenant_session(TenantContext(principal.tenant_id)) as session:
            row = scim.get_user(session, user_id)
            return _user_body(request, session, row, Context.RESOURCE_QUERY_RESPONSE)

    return _respond(await run_in_threadpool(work))


@router.put("/Users/{user_id}")
async def replace_user(user_id: str, request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    payload = await _body(request)

    def work() -> dict[str, Any]:
        ctx = get_context(request)
        with _work(request, principal, "scim.user.replace", "user", user_id) as (session, _n):
            row = scim.replace_user(session, user_id, payload, clock=ctx.clock)
            return _user_body(request, session, row, Context.RESOURCE_REPLACEMENT_RESPONSE)

    return _respond(await run_in_threadpool(work))


@router.patch("/Users/{user_id}")
async def patch_user(user_id: str, request: Request) -> Response:
    principal = await run_in_threadpool(_principal, request)
    payload = await _body(request)

    def work() -> dict[str, Any]:
        ctx = get_context(request)
        with _work(request, principal, "scim.user.patch", "user", user_id) as (session, note):
            row = scim.patch_user(session, user_id, payload, clock=ctx.clock)
            note.details["active"] = row.active
            return _user_body(request, session, row, Context.RESOURCE_PATCH_RESPONSE)

    return _respond(await run_in_threadpool(work))


@router.delete("/Users/{user_id}", status_code=204)
async def delete_user(user_id: str, request: Request) -> Response:
    principal = await run_in_threadpool(_principal, request)

    def work() -> None:
        ctx = get_context(request)
        with _work(request, principal, "scim.user.delete", "user", user_id) as (session, note):
            note.details["sessions_ended"] = scim.delete_user(session, user_id, clock=ctx.clock)

    await run_in_threadpool(work)
    return Response(status_code=204)


# Groups -----------------------------------------------------------------


@router.get("/Groups")
async def groups(request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    params = _query_params(request)
    return _respond(await run_in_threadpool(_list_work, request, principal, "Group", params))


@router.post("/Groups")
async def create_group(request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    payload = await _body(request)

    def work() -> dict[str, Any]:
        ctx = get_context(request)
        with _work(request, principal, "scim.group.create", "group") as (session, note):
            row = scim.create_group(session, principal.tenant_id, payload, clock=ctx.clock)
            note.resource_id = row.id
            return _group_body(request, session, row, Context.RESOURCE_CREATION_RESPONSE)

    body = await run_in_threadpool(work)
    return _respond(body, 201, body.get("meta", {}).get("location"))


@router.get("/Groups/{group_id}")
async def get_group(group_id: str, request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)

    def work() -> dict[str, Any]:
        ctx = get_context(request)
        with ctx.db.tenant_session(TenantContext(principal.tenant_id)) as session:
            row = scim.get_group(session, group_id)
            return _group_body(request, session, row, Context.RESOURCE_QUERY_RESPONSE)

    return _respond(await run_in_threadpool(work))


@router.put("/Groups/{group_id}")
async def replace_group(group_id: str, request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    payload = await _body(request)

    def work() -> dict[str, Any]:
        ctx = get_context(request)
        with _work(request, principal, "scim.group.replace", "group", group_id) as (session, _n):
            row = scim.replace_group(session, group_id, payload, clock=ctx.clock)
            return _group_body(request, session, row, Context.RESOURCE_REPLACEMENT_RESPONSE)

    return _respond(await run_in_threadpool(work))


@router.patch("/Groups/{group_id}")
async def patch_group(group_id: str, request: Request) -> JSONResponse:
    principal = await run_in_threadpool(_principal, request)
    payload = await _body(request)

    def work() -> dict[str, Any]:
        ctx = get_context(request)
        with _work(request, principal, "scim.group.patch", "group", group_id) as (session, _n):
            row = scim.patch_group(session, group_id, payload, clock=ctx.clock)
            return _group_body(request, session, row, Context.RESOURCE_PATCH_RESPONSE)

    return _respond(await run_in_threadpool(work))


@router.delete("/Groups/{group_id}", status_code=204)
async def delete_group(group_id: str, request: Request) -> Response:
    principal = await run_in_threadpool(_principal, request)

    def work() -> None:
        with _work(request, principal, "scim.group.delete", "group", group_id) as (session, _n):
            scim.delete_group(session, group_id)

    await run_in_threadpool(work)
    return Response(status_code=204)


@router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
def not_found(rest: str) -> JSONResponse:
    first = rest.split("/", 1)[0]
    if first in KNOWN_ENDPOINTS and "/" not in rest.strip("/"):
        return scim_error(405, "method not allowed on this endpoint")
    return scim_error(404, "no such SCIM endpoint")


__all__ = ["router"]
