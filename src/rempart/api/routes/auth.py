"""Browser sign-in: single sign-on with the tenant's provider, sessions, step-up, logout.

Thin: the flows live in ``rempart.identity``. Cookies are ``__Host-`` prefixed,
``Secure``, ``HttpOnly`` and ``SameSite=Lax`` (the provider's redirect back is
a top-level cross-site navigation, which ``Strict`` would strip);
state-changing requests carry the session's CSRF token.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from rempart.api.access import sync_access_roles
from rempart.api.deps import (
    Ctx,
    Identity,
    SessionUser,
    client_ip,
    require_assurance,
    require_role,
    user_origin,
)
from rempart.api.problems import ERROR_RESPONSES, problem_response
from rempart.audit import Actor, Origin
from rempart.audit.trail import audited
from rempart.errors import NotFound, PermissionDenied, RempartError
from rempart.identity.allowlist import check_allowed
from rempart.identity.assurance import Level, StepUpRequired
from rempart.identity.bootstrap import ADMIN_ROLE, find_link
from rempart.identity.idp import get_policy
from rempart.identity.login import (
    LOGIN_COOKIE,
    anonymous_origin,
    finish_login,
    start_login,
    tenant_of_state,
)
from rempart.identity.logout import backchannel_logout, logout
from rempart.identity.ratelimit import TooManyRequests
from rempart.identity.sessions import (
    COOKIE_NAME,
    SessionPrincipal,
    list_sessions,
    revoke_session,
    revoke_user_sessions,
)
from rempart.storage import TenantContext
from rempart.storage.tenants import get_tenant

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERROR_RESPONSES)

Slug = Annotated[str, Path(min_length=1, max_length=63, pattern=r"^[a-z0-9-]+$")]
SENSITIVE = Level.MULTI_FACTOR


def _origin(request: Request, ctx: Ctx) -> Origin:
    return anonymous_origin(
        client_ip(request, ctx),
        request.headers.get("user-agent"),
        getattr(request.state, "request_id", None),
    )


def _tenant(ctx: Ctx, slug: str) -> TenantContext:
    with ctx.db.platform_session() as session:
        tenant = get_tenant(session, slug)
        if tenant.status != "active":
            raise NotFound(f"no tenant {slug!r}")
        return TenantContext(tenant.tenant_id)


def _guard_network(identity: Identity, tenant: TenantContext, ip: str | None) -> None:
    with identity.db.tenant_session(tenant) as session:
        networks = list(get_policy(session, tenant.tenant_id).allowed_networks)
    check_allowed(ip, networks)


def _audit_refusal(
    identity: Identity, tenant: TenantContext, origin: Origin, action: str, exc: RempartError
) -> None:
    try:
        with audited(
            identity.db,
            tenant,
            origin,
            action=action,
            resource_type="session",
            clock=identity.clock,
        ) as (_session, note):
            note.details["reason"] = exc.slug
            raise exc
    except RempartError:
        return


def _redirect_to_idp(url: str, browser_cookie: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        LOGIN_COOKIE,
        browser_cookie,
        max_age=600,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/{slug}/login", summary="Start single sign-on with the tenant's identity provider")
def login(
    slug: Slug,
    request: Request,
    ctx: Ctx,
    identity: Identity,
    return_to: Annotated[str | None, Query(max_length=1000)] = None,
    bootstrap: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    tenant = _tenant(ctx, slug)
    ip = client_ip(request, ctx)
    origin = _origin(request, ctx)
    try:
        if identity.login_rate is not None:
            identity.login_rate.hit(f"login:{ip}")
        _guard_network(identity, tenant, ip)
        link_id = None
        if bootstrap is not None:
            with identity.db.tenant_session(tenant) as session:
                link_id = find_link(session, bootstrap, now=identity.clock()).id
    except RempartError as exc:
        _audit_refusal(identity, tenant, origin, "auth.login_start", exc)
        raise
    start = start_login(identity, tenant, return_to=return_to, bootstrap_link_id=link_id)
    return _redirect_to_idp(start.authorization_url, start.browser_cookie)


@router.get("/callback", summary="Where the identity provider sends the browser back")
def callback(
    request: Request,
    ctx: Ctx,
    identity: Identity,
    state: Annotated[str | None, Query(max_length=2048)] = None,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    iss: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    ip = client_ip(request, ctx)
    origin = _origin(request, ctx)
    lock_key = f"login:{ip}"
    lockout = identity.login_lockout
    if lockout is not None:
        lockout.check(lock_key)
    tenant: TenantContext | None = None
    try:
        tenant = TenantContext(tenant_of_state(state or ""))
        _guard_network(identity, tenant, ip)
        current = _current_session_id(request, ctx)
        result = finish_login(
            identity,
            state=state,
            code=code,
            error=error,
            iss=iss,
            browser_cookie=request.cookies.get(LOGIN_COOKIE),
            origin=origin,
            current_session_id=current,
        )
    except RempartError:
        if lockout is not None and lockout.failure(lock_key) and tenant is not None:
            _audit_refusal(identity, tenant, origin, "auth.lockout", TooManyRequests())
        raise
    if lockout is not None:
        lockout.success(lock_key)
    sync_access_roles(ctx.db, tenant, result.user_id, ctx.clock)
    response = RedirectResponse(result.return_to, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        result.session.cookie_value,
        max_age=result.session.max_age_s,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response


def _current_session_id(request: Request, ctx: Ctx) -> str | None:
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    from rempart.identity.sessions import resolve_session

    try:
        return resolve_session(
            ctx.db, cookie, source_ip=client_ip(request, ctx), clock=ctx.clock
        ).session_id
    except RempartError:
        return None


def _me(principal: SessionPrincipal) -> dict[str, Any]:
    return {
        "tenant_id": principal.tenant_id,
        "user_id": principal.user_id,
        "session_id": principal.session_id,
        "roles": sorted(principal.roles),
        "assurance": int(principal.assurance),
        "acr": principal.acr,
        "amr": list(principal.amr),
        "auth_time": principal.auth_time.isoformat(),
        "csrf_token": principal.csrf_token,
    }


@router.get("/me", summary="Who is signed in (and the CSRF token for forms)")
def me(principal: SessionUser) -> JSONResponse:
    return JSONResponse(_me(principal), headers={"Cache-Control": "no-store"})


@router.get("/{slug}/step-up", summary="Authenticate again, stronger, then return (RFC 9470)")
def step_up(
    slug: Slug,
    request: Request,
    ctx: Ctx,
    identity: Identity,
    principal: SessionUser,
    level: Annotated[int, Query(ge=1, le=3)] = int(SENSITIVE),
    return_to: Annotated[str | None, Query(max_length=1000)] = None,
) -> RedirectResponse:
    tenant = _tenant(ctx, slug)
    if tenant.tenant_id != principal.tenant_id:
        raise PermissionDenied("the session belongs to another tenant")
    start = start_login(
        identity,
        tenant,
        return_to=return_to,
        step_up=Level(level),
        max_age=timedelta(0),
        replaces_session_id=principal.session_id,
    )
    return _redirect_to_idp(start.authorization_url, start.browser_cookie)


@router.get("/sessions", summary="My sessions")
def my_sessions(principal: SessionUser, ctx: Ctx) -> JSONResponse:
    with ctx.db.tenant_session(TenantContext(principal.tenant_id)) as session:
        rows = list_sessions(session, user_id=principal.user_id, live_at=ctx.clock())
        body = [_session_view(r, principal.session_id) for r in rows]
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _session_view(row: Any, current: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "created_at": row.created_at.isoformat(),
        "last_seen_at": row.last_seen_at.isoformat(),
        "assurance": row.assurance,
        "source_ip": row.source_ip,
        "user_agent": row.user_agent,
        "current": row.id == current,
    }


@router.post("/sessions/{session_id}/revoke", status_code=204, summary="End one of my sessions")
def revoke_mine(
    session_id: Annotated[str, Path(max_length=36)],
    request: Request,
    ctx: Ctx,
    principal: SessionUser,
) -> Response:
    with audited(
        ctx.db,
        TenantContext(principal.tenant_id),
        user_origin(request, ctx, principal),
        action="session.revoke",
        resource_type="session",
        resource_id=session_id,
        clock=ctx.clock,
    ) as (session, _note):
        revoke_session(
            session, session_id, reason="user", user_id=principal.user_id, clock=ctx.clock
        )
    return Response(status_code=204)


@router.post("/logout", summary="End my session here and at the identity provider")
def rp_logout(request: Request, ctx: Ctx, identity: Identity, principal: SessionUser) -> Response:
    url = logout(identity, principal, user_origin(request, ctx, principal))
    response: Response = (
        RedirectResponse(url, status_code=303) if url else Response(status_code=204)
    )
    response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True, samesite="lax")
    return response


@router.post("/{slug}/backchannel-logout", summary="OIDC back-channel logout endpoint")
def backchannel(
    slug: Slug,
    request: Request,
    ctx: Ctx,
    identity: Identity,
    logout_token: Annotated[str, Form(max_length=16384)],
) -> Response:
    tenant = _tenant(ctx, slug)
    origin = Origin(
        actor=Actor(type="system", id="idp"),
        source_ip=client_ip(request, ctx),
        user_agent=request.headers.get("user-agent"),
        request_id=getattr(request.state, "request_id", None),
    )
    try:
        backchannel_logout(identity, tenant, logout_token, origin)
    except RempartError as exc:
        # The spec asks for 400 on a token that does not validate.
        return problem_response(request, 400, exc.slug, exc.title, exc.detail)
    return Response(status_code=200, headers={"Cache-Control": "no-store"})


AdminUser = Annotated[SessionPrincipal, Depends(require_role(ADMIN_ROLE))]
SteppedUp = Annotated[SessionPrincipal, Depends(require_assurance(SENSITIVE))]


@router.get("/admin/sessions", summary="Sessions of the tenant (administrators)")
def admin_sessions(
    ctx: Ctx,
    principal: AdminUser,
    user_id: Annotated[str | None, Query(max_length=36)] = None,
) -> JSONResponse:
    with ctx.db.tenant_session(TenantContext(principal.tenant_id)) as session:
        rows = list_sessions(session, user_id=user_id, live_at=ctx.clock())
        body = [_session_view(r, principal.session_id) for r in rows]
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post(
    "/admin/users/{user_id}/revoke-sessions",
    summary="End every session of a user (administrators, after step-up)",
)
def admin_revoke(
    user_id: Annotated[str, Path(max_length=36)],
    request: Request,
    ctx: Ctx,
    principal: AdminUser,
    _fresh: SteppedUp,
) -> JSONResponse:
    with audited(
        ctx.db,
        TenantContext(principal.tenant_id),
        user_origin(request, ctx, principal),
        action="session.revoke_all",
        resource_type="user",
        resource_id=user_id,
        clock=ctx.clock,
    ) as (session, note):
        ended = revoke_user_sessions(session, user_id, reason="admin", clock=ctx.clock)
        note.details["sessions_ended"] = ended
    return JSONResponse({"sessions_ended": ended})


async def step_up_handler(request: Request, exc: Exception) -> Response:
    """RFC 9470: 401 with ``insufficient_user_authentication`` and what would suffice."""
    if not isinstance(exc, StepUpRequired):  # pragma: no cover - registration guarantees it
        raise exc
    response = problem_response(
        request, exc.status, exc.slug, exc.title, exc.detail, **exc.extensions
    )
    response.headers["WWW-Authenticate"] = exc.challenge()
    return response


__all__ = ["StepUpRequired", "router", "step_up_handler"]
