"""Single sign-on with the tenant's provider: Authorization Code + PKCE + nonce (Authlib).

``start_login`` records an attempt (state, nonce, PKCE verifier) bound to
the browser by a random cookie whose hash the attempt keeps, and returns
the provider's authorization URL. ``finish_login`` takes the callback: it
consumes the attempt once (in its own transaction, so a failed callback
cannot be replayed), checks the browser binding, exchanges the code with
the verifier, validates the ID token strictly (``jwt.py``), maps assurance
and roles, finds or provisions the user by (issuer, subject), binds a
bootstrap administrator when asked, and opens a fresh session. Any failure
leaves an audit event and no session.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx2
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import OAuth2Client
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rempart.audit import Actor, Origin
from rempart.audit.trail import audited
from rempart.errors import AuthenticationFailed, RempartError
from rempart.identity.assurance import Level, assess
from rempart.identity.bootstrap import consume_bootstrap_link
from rempart.identity.context import IdentityContext
from rempart.identity.discovery import IdpUnavailable
from rempart.identity.idp import (
    assurance_of,
    claim_mapping_of,
    client_secret,
    get_idp,
    get_policy,
    validation_policy,
)
from rempart.identity.jwt import IdTokenClaims, TokenRejected, validate_id_token
from rempart.identity.models import IdentityProvider, LoginAttempt, User
from rempart.identity.sessions import IssuedSession, create_session, revoke_session
from rempart.storage import TenantContext
from rempart.storage.tenants import Tenant
from rempart.types import TenantId

LOGIN_COOKIE = "__Host-rempart_login"
ATTEMPT_TTL = timedelta(minutes=10)
ATTEMPT_RETENTION = timedelta(days=1)
MAX_PARAM_LENGTH = 2048
TOKEN_TIMEOUT_S = 5.0


class LoginFailed(AuthenticationFailed):
    """The login did not complete; ``reason`` says which step refused it."""

    title = "Login failed"
    slug = "login-failed"

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(detail or f"login refused: {reason}", reason=reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LoginStart:
    authorization_url: str
    browser_cookie: str
    attempt_id: str


@dataclass(frozen=True, slots=True)
class LoginResult:
    user_id: str
    session: IssuedSession
    return_to: str
    assurance: Level
    bootstrap_role: str | None


@dataclass(frozen=True, slots=True)
class _Attempt:
    id: str
    nonce: str
    code_verifier: str
    required_level: int
    max_age_s: int | None
    return_to: str
    bootstrap_link_id: str | None
    replaces_session_id: str | None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def safe_return_to(value: str | None) -> str:
    """Only a local absolute path is a valid place to return to (no open redirect)."""
    if not value or len(value) > 1000 or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x20 for c in value):
        return "/"
    return value


def tenant_of_state(state: str) -> TenantId:
    """The tenant a ``state`` value was minted for (its first part), or ``LoginFailed``."""
    head, _, rest = state.partition(".")
    if len(head) != 32 or not rest or len(state) > 200:
        raise LoginFailed("state-mismatch", "unknown or expired login attempt")
    try:
        return TenantId(str(uuid.UUID(hex=head)))
    except ValueError as exc:
        raise LoginFailed("state-mismatch", "unknown or expired login attempt") from exc


def _oauth_client(ctx: IdentityContext, idp: IdentityProvider, secret: str | None) -> OAuth2Client:
    methods = idp.discovery.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method = (
        "none"
        if secret is None
        else ("client_secret_basic" if "client_secret_basic" in methods else "client_secret_post")
    )
    return OAuth2Client(
        client_id=idp.client_id,
        client_secret=secret,
        token_endpoint_auth_method=method,
        scope=" ".join(idp.scopes),
        redirect_uri=idp.redirect_uri,
        code_challenge_method="S256",
        timeout=TOKEN_TIMEOUT_S,
        follow_redirects=False,
    )


def start_login(
    ctx: IdentityContext,
    tenant: TenantContext,
    *,
    return_to: str | None = None,
    step_up: Level | None = None,
    max_age: timedelta | None = None,
    bootstrap_link_id: str | None = None,
    replaces_session_id: str | None = None,
) -> LoginStart:
    """Record an attempt and build the authorization URL (acr_values/max_age for step-up)."""
    now = ctx.clock()
    with ctx.db.tenant_session(tenant) as session:
        idp = get_idp(session)
        policy = get_policy(session, tenant.tenant_id, clock=ctx.clock)
        required = max(Level(policy.min_assurance), step_up or Level.UNKNOWN)
        state = f"{uuid.UUID(tenant.tenant_id).hex}.{secrets.token_urlsafe(32)}"
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        browser = secrets.token_urlsafe(32)
        attempt = LoginAttempt(
            tenant_id=tenant.tenant_id,
            state_hash=_sha256(state),
            browser_hash=_sha256(browser),
            nonce=nonce,
            code_verifier=verifier,
            required_level=int(required),
            max_age_s=None if max_age is None else int(max_age.total_seconds()),
            return_to=safe_return_to(return_to),
            bootstrap_link_id=bootstrap_link_id,
            replaces_session_id=replaces_session_id,
            created_at=now,
            expires_at=now + ATTEMPT_TTL,
        )
        session.add(attempt)
        # Attempts are short-lived: sweep the tenant's stale ones as new ones arrive.
        session.execute(
            delete(LoginAttempt)
            .where(LoginAttempt.expires_at < now - ATTEMPT_RETENTION)
            .execution_options(synchronize_session=False)
        )
        session.flush()
        extra: dict[str, Any] = {"nonce": nonce}
        if step_up is not None:
            acr = assurance_of(idp).request_acr.get(int(step_up))
            if acr:
                extra["acr_values"] = acr
            extra["prompt"] = "login"
        if max_age is not None:
            extra["max_age"] = int(max_age.total_seconds())
        with _oauth_client(ctx, idp, None) as client:
            url, _ = client.create_authorization_url(
                idp.discovery["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                **extra,
            )
        return LoginStart(authorization_url=url, browser_cookie=browser, attempt_id=attempt.id)


def _consume_attempt(
    ctx: IdentityContext, tenant: TenantContext, state: str, browser_cookie: str | None
) -> _Attempt:
    now = ctx.clock()
    with ctx.db.tenant_session(tenant) as session:
        row = session.scalar(select(LoginAttempt).where(LoginAttempt.state_hash == _sha256(state)))
        if row is None or row.used_at is not None or now >= row.expires_at:
            raise LoginFailed("state-mismatch", "unknown, used or expired login attempt")
        # Consumed even when the browser check fails: a stolen state is burnt.
        row.used_at = now
        snapshot = _Attempt(
            id=row.id,
            nonce=row.nonce,
            code_verifier=row.code_verifier,
            required_level=row.required_level,
            max_age_s=row.max_age_s,
            return_to=row.return_to,
            bootstrap_link_id=row.bootstrap_link_id,
            replaces_session_id=row.replaces_session_id,
        )
        bound = browser_cookie is not None and hmac.compare_digest(
            row.browser_hash, _sha256(browser_cookie)
        )
    if not bound:
        raise LoginFailed("browser-mismatch", "this login was started in another browser")
    return snapshot


def _exchange_code(
    ctx: IdentityContext, tenant: TenantContext, code: str, attempt: _Attempt
) -> tuple[IdentityProvider, str]:
    with ctx.db.tenant_session(tenant) as session:
        idp = get_idp(session)
        secret = client_secret(idp, ctx.sealer)
        session.expunge(idp)
    try:
        with _oauth_client(ctx, idp, secret) as client:
            token = client.fetch_token(
                idp.discovery["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=attempt.code_verifier,
                redirect_uri=idp.redirect_uri,
            )
    except AuthlibBaseError as exc:
        raise LoginFailed(
            "code-exchange-refused", "the identity provider refused the code"
        ) from exc
    except httpx2.HTTPError as exc:
        raise IdpUnavailable("the identity provider could not be reached") from exc
    except ValueError as exc:
        raise LoginFailed("code-exchange-refused", "the token response was not valid") from exc
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str):
        raise LoginFailed("no-id-token", "the identity provider returned no ID token")
    return idp, id_token


def _check_response_issuer(ctx: IdentityContext, tenant: TenantContext, iss: str | None) -> None:
    """RFC 9207: the ``iss`` of the authorization response must be our provider (mix-up defence)."""
    with ctx.db.tenant_session(tenant) as session:
        idp = get_idp(session)
        expected = idp.issuer
        required = bool(idp.discovery.get("authorization_response_iss_parameter_supported"))
    if iss is None and not required:
        return
    if iss is None or not hmac.compare_digest(iss.encode(), expected.encode()):
        raise LoginFailed("issuer-mismatch", "the authorization response comes from another issuer")


def _find_or_provision(
    session: Session,
    tenant_id: TenantId,
    idp: IdentityProvider,
    claims: IdTokenClaims,
    now: datetime,
) -> User:
    user = session.scalar(
        select(User).where(User.issuer == claims.issuer, User.subject == claims.subject)
    )
    raw = claims.claims
    if user is None:
        if idp.provisioning != "jit":
            raise LoginFailed("not-provisioned", "this account is not provisioned in Rempart")
        user = User(
            tenant_id=tenant_id,
            issuer=claims.issuer,
            subject=claims.subject,
            display_name=str(raw.get("name") or "")[:200],
            email=raw.get("email") if isinstance(raw.get("email"), str) else None,
            active=True,
            created_at=now,
        )
        session.add(user)
    if not user.active:
        raise LoginFailed("account-disabled", "this account is disabled")
    user.idp_roles = claim_mapping_of(idp).roles_from_claims(raw)
    user.updated_at = now
    session.flush()
    return user


def finish_login(
    ctx: IdentityContext,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    browser_cookie: str | None,
    origin: Origin,
    iss: str | None = None,
    current_session_id: str | None = None,
) -> LoginResult:
    """Complete the callback; every failure is audited and opens no session."""
    if not state or len(state) > MAX_PARAM_LENGTH:
        raise LoginFailed("state-mismatch", "the callback carries no valid state")
    tenant = TenantContext(tenant_of_state(state))
    with ctx.db.platform_session() as platform:
        registered = platform.get(Tenant, tenant.tenant_id)
        if registered is None or registered.status != "active":
            raise LoginFailed("state-mismatch", "unknown or expired login attempt")
    try:
        attempt = _consume_attempt(ctx, tenant, state, browser_cookie)
        if error is not None:
            raise LoginFailed("idp-error", "the identity provider reported an error")
        if not code or len(code) > MAX_PARAM_LENGTH:
            raise LoginFailed("no-code", "the callback carries no authorization code")
        _check_response_issuer(ctx, tenant, iss)
        idp, id_token = _exchange_code(ctx, tenant, code, attempt)
    except RempartError as exc:
        _audit_failure(ctx, tenant, origin, exc)
        raise
    with audited(
        ctx.db, tenant, origin, action="auth.login", resource_type="session", clock=ctx.clock
    ) as (session, note):
        now = ctx.clock()
        idp = get_idp(session)
        keys = ctx.pinned_keys(tenant.tenant_id, idp)
        max_age = None if attempt.max_age_s is None else timedelta(seconds=attempt.max_age_s)
        try:
            claims = validate_id_token(
                id_token,
                keys,
                validation_policy(idp),
                nonce=attempt.nonce,
                now=now,
                max_age=max_age,
            )
        except TokenRejected as exc:
            note.details["reason"] = exc.reason
            raise
        level = assess(
            assurance_of(idp), acr=claims.acr, amr=claims.amr, acrs=claims.claims.get("acrs")
        )
        note.details.update(assurance=int(level), acr=claims.acr, amr=list(claims.amr))
        if level < attempt.required_level:
            note.details["reason"] = "assurance-too-low"
            raise LoginFailed(
                "assurance-too-low",
                f"this tenant requires authentication level {attempt.required_level}; "
                f"the identity provider reported level {int(level)}",
            )
        user = _find_or_provision(session, tenant.tenant_id, idp, claims, now)
        note.details["user_id"] = user.id
        bootstrap_role = None
        if attempt.bootstrap_link_id is not None:
            bootstrap_role = consume_bootstrap_link(
                session, attempt.bootstrap_link_id, user, now=now
            )
            note.details["bootstrap_role"] = bootstrap_role
        for old in {attempt.replaces_session_id, current_session_id} - {None}:
            with contextlib.suppress(RempartError):
                revoke_session(session, str(old), reason="rotated", clock=ctx.clock)
        policy = get_policy(session, tenant.tenant_id, clock=ctx.clock)
        issued = create_session(
            session,
            tenant.tenant_id,
            user=user,
            issuer=claims.issuer,
            idp_sid=claims.sid,
            assurance=level,
            acr=claims.acr,
            amr=claims.amr,
            auth_time=claims.auth_time or now,
            policy=policy,
            source_ip=origin.source_ip,
            user_agent=origin.user_agent,
            clock=ctx.clock,
        )
        note.resource_id = issued.session_id
    return LoginResult(
        user_id=user.id,
        session=issued,
        return_to=attempt.return_to,
        assurance=level,
        bootstrap_role=bootstrap_role,
    )


def _audit_failure(
    ctx: IdentityContext, tenant: TenantContext, origin: Origin, exc: RempartError
) -> None:
    try:
        with audited(
            ctx.db, tenant, origin, action="auth.login", resource_type="session", clock=ctx.clock
        ) as (_session, note):
            note.details["reason"] = getattr(exc, "reason", exc.slug)
            raise exc
    except RempartError:
        return


def anonymous_origin(
    source_ip: str | None, user_agent: str | None, request_id: str | None
) -> Origin:
    return Origin(
        actor=Actor(type="user", id="anonymous"),
        source_ip=source_ip,
        user_agent=user_agent,
        request_id=request_id,
    )


__all__ = [
    "LOGIN_COOKIE",
    "LoginFailed",
    "LoginResult",
    "LoginStart",
    "TokenRejected",
    "anonymous_origin",
    "finish_login",
    "safe_return_to",
    "start_login",
    "tenant_of_state",
]
