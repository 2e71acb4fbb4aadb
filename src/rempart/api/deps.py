"""FastAPI dependencies: the app context, the caller's identity, scopes, request origin."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select

from rempart.api.context import AppContext
from rempart.audit import Actor, AuditEvent, Origin, append
from rempart.errors import AuthenticationFailed, PermissionDenied, UnsupportedMediaType
from rempart.identity.allowlist import NetworkNotAllowed
from rempart.identity.assurance import AssuranceMapping, Level, check_assurance
from rempart.identity.context import IdentityContext
from rempart.identity.idp import assurance_of, get_policy
from rempart.identity.models import IdentityProvider
from rempart.identity.scopes import Scope
from rempart.identity.sessions import (
    COOKIE_NAME,
    SessionInvalid,
    SessionPrincipal,
    check_csrf,
    resolve_session,
)
from rempart.identity.tokens import MachinePrincipal, authenticate, parse_token
from rempart.identity.vaultseam import LazyVaultSealer
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
    source_ip = client_ip(request, ctx)
    try:
        principal = authenticate(
            ctx.db, value.strip(), clock=ctx.clock, source_ip=source_ip, check_network=True
        )
    except NetworkNotAllowed:
        # Raised only once the secret is proven, so the claimed tenant is the real one.
        _record_network_refusal(request, ctx, value.strip(), source_ip)
        raise
    request.state.tenant_id = principal.tenant_id
    request.state.token_id = principal.token_id
    return principal


def _record_network_refusal(
    request: Request, ctx: AppContext, token: str, source_ip: str | None
) -> None:
    tenant_id, token_id, _secret = parse_token(token)
    with ctx.db.tenant_session(TenantContext(tenant_id)) as session:
        append(
            session,
            AuditEvent(
                tenant_id=tenant_id,
                actor=Actor(type="machine", id=f"token:{token_id}"),
                action="auth.machine_token",
                resource_type="machine_token",
                resource_id=token_id,
                outcome="failure",
                time=ctx.clock(),
                reason=NetworkNotAllowed.slug,
                source_ip=source_ip,
                user_agent=request.headers.get("user-agent"),
                request_id=getattr(request.state, "request_id", None),
            ),
        )


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


# --- Browser sessions (people signed in through their tenant's identity provider) ---

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def get_identity(request: Request, ctx: Ctx) -> IdentityContext:
    """The process's identity context (built on first use from the app context)."""
    identity: IdentityContext | None = getattr(request.app.state, "identity", None)
    if identity is None:
        identity = IdentityContext(
            db=ctx.db, sealer=LazyVaultSealer(ctx.settings, ctx.db), clock=ctx.clock
        )
        request.app.state.identity = identity
    return identity


Identity = Annotated[IdentityContext, Depends(get_identity)]


async def get_session_user(request: Request, ctx: Ctx) -> SessionPrincipal:
    """The signed-in person; state-changing methods must also carry the session's CSRF token."""
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        raise SessionInvalid("sign in first")
    principal = resolve_session(ctx.db, cookie, source_ip=client_ip(request, ctx), clock=ctx.clock)
    request.state.tenant_id = principal.tenant_id
    request.state.user_id = principal.user_id
    if request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if presented is None and media == "application/x-www-form-urlencoded":
            form = await request.form()
            value = form.get(CSRF_FIELD)
            presented = value if isinstance(value, str) else None
        check_csrf(principal, presented)
    return principal


SessionUser = Annotated[SessionPrincipal, Depends(get_session_user)]


def require_role(role: str) -> Callable[[SessionPrincipal], SessionPrincipal]:
    """A dependency admitting only signed-in people holding ``role`` (a role name)."""

    def check(principal: SessionUser) -> SessionPrincipal:
        if role not in principal.roles:
            raise PermissionDenied(f"this action needs the {role} role")
        return principal

    return check


def require_assurance(
    level: Level, max_age_s: int | None = None
) -> Callable[[SessionPrincipal, AppContext], SessionPrincipal]:
    """A dependency for sensitive actions: step up (RFC 9470) when level or auth age fall short.

    ``max_age_s`` defaults to the tenant's policy (``step_up_max_age_s``); the
    challenge names the acr value the tenant's provider maps to ``level``.
    """

    def check(principal: SessionUser, ctx: Ctx) -> SessionPrincipal:
        with ctx.db.tenant_session(TenantContext(principal.tenant_id)) as session:
            policy = get_policy(session, principal.tenant_id, clock=ctx.clock)
            idp = session.scalar(select(IdentityProvider))
            mapping = assurance_of(idp) if idp is not None else AssuranceMapping.from_config(None)
            age = policy.step_up_max_age_s if max_age_s is None else max_age_s
        check_assurance(
            level=int(principal.assurance),
            auth_time=principal.auth_time,
            required=level,
            max_age=timedelta(seconds=age),
            now=ctx.clock(),
            mapping=mapping,
        )
        return principal

    return check


def user_origin(request: Request, ctx: AppContext, principal: SessionPrincipal) -> Origin:
    return Origin(
        actor=Actor(type="user", id=principal.actor_id),
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
    "Identity",
    "Principal",
    "SessionUser",
    "client_ip",
    "get_context",
    "get_identity",
    "get_principal",
    "get_session_user",
    "origin_of",
    "require",
    "require_assurance",
    "require_json",
    "require_role",
    "scoped",
    "tenant_of",
    "user_origin",
]
