"""FastAPI dependencies: the app context, the caller's identity, scopes, request origin."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from rempart.api.context import AppContext
from rempart.audit import Actor, Origin
from rempart.errors import AuthenticationFailed, PermissionDenied, UnsupportedMediaType
from rempart.identity.scopes import Scope
from rempart.identity.tokens import MachinePrincipal, authenticate
from rempart.storage import TenantContext

SCOPE_ATTR = "__rempart_scope__"
SCOPE_EXTENSION = "x-rempart-scope"


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_context)]


def client_ip(request: Request, ctx: AppContext) -> str | None:
    """The caller's address; ``X-Forwarded-For`` only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else None
    if peer is None or peer not in ctx.settings.trusted_proxies:
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in ctx.settings.trusted_proxies:
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


def get_principal(request: Request, ctx: Ctx) -> MachinePrincipal:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationFailed("missing bearer token")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationFailed("authorization must use the Bearer scheme")
    principal = authenticate(ctx.db, value.strip(), clock=ctx.clock)
    request.state.tenant_id = principal.tenant_id
    request.state.token_id = principal.token_id
    return principal


Principal = Annotated[MachinePrincipal, Depends(get_principal)]


def require(scope: Scope) -> Callable[[MachinePrincipal], MachinePrincipal]:
    """A dependency that admits only principals holding ``scope``; routes declare it."""

    def check(principal: Principal) -> MachinePrincipal:
        if scope not in principal.scopes:
            raise PermissionDenied(f"token lacks the {scope.value} scope", required_scope=scope)
        return principal

    setattr(check, SCOPE_ATTR, scope)
    return check


def scoped(scope: Scope) -> dict[str, Any]:
    """Route decorator arguments declaring and enforcing the scope a route needs.

    Enforced by a dependency, published in OpenAPI as ``x-rempart-scope``.
    """
    return {
        "dependencies": [Depends(require(scope))],
        "openapi_extra": {SCOPE_EXTENSION: scope.value},
    }


def tenant_of(principal: MachinePrincipal) -> TenantContext:
    return TenantContext(principal.tenant_id)


def origin_of(request: Request, ctx: AppContext, principal: MachinePrincipal) -> Origin:
    return Origin(
        actor=Actor(type="machine", id=principal.actor_id),
        source_ip=client_ip(request, ctx),
        user_agent=request.headers.get("user-agent"),
        request_id=getattr(request.state, "request_id", None),
    )


def require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("the body must be application/json")


__all__ = [
    "SCOPE_ATTR",
    "SCOPE_EXTENSION",
    "Ctx",
    "Principal",
    "client_ip",
    "get_context",
    "get_principal",
    "origin_of",
    "require",
    "require_json",
    "scoped",
    "tenant_of",
]
