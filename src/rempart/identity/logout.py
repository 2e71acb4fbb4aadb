"""Logout: RP-initiated (end the session here, then at the provider) and back-channel.

A back-channel logout token (OpenID Connect Back-Channel Logout 1.0) is
validated by ``jwt.validate_logout_token`` against the tenant's pinned keys
and ends every session of that provider matching its ``sid``, or all the
sessions of its ``sub`` when it carries no ``sid``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select, update

from rempart.audit import Origin
from rempart.audit.trail import audited
from rempart.identity.context import IdentityContext
from rempart.identity.idp import get_idp, validation_policy
from rempart.identity.jwt import TokenRejected, validate_logout_token
from rempart.identity.models import User, UserSession
from rempart.identity.sessions import SessionPrincipal, revoke_session
from rempart.storage import TenantContext


def logout(ctx: IdentityContext, principal: SessionPrincipal, origin: Origin) -> str | None:
    """End the session; return the provider's end-session URL to send the browser to, if any."""
    tenant = TenantContext(principal.tenant_id)
    with audited(
        ctx.db,
        tenant,
        origin,
        action="auth.logout",
        resource_type="session",
        resource_id=principal.session_id,
        clock=ctx.clock,
    ) as (session, _note):
        revoke_session(session, principal.session_id, reason="logout", clock=ctx.clock)
        idp = get_idp(session)
        endpoint = idp.discovery.get("end_session_endpoint")
        if not endpoint:
            return None
        params = {"client_id": idp.client_id}
        if idp.post_logout_redirect_uri:
            params["post_logout_redirect_uri"] = idp.post_logout_redirect_uri
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


def backchannel_logout(
    ctx: IdentityContext, tenant: TenantContext, logout_token: str, origin: Origin
) -> int:
    """Validate a logout token and end the sessions it names; returns how many ended."""
    with audited(
        ctx.db,
        tenant,
        origin,
        action="auth.backchannel_logout",
        resource_type="session",
        clock=ctx.clock,
    ) as (session, note):
        idp = get_idp(session)
        keys = ctx.pinned_keys(tenant.tenant_id, idp)
        try:
            claims = validate_logout_token(
                logout_token, keys, validation_policy(idp), now=ctx.clock()
            )
        except TokenRejected as exc:
            note.details["reason"] = exc.reason
            raise
        stmt = update(UserSession).where(
            UserSession.issuer == claims.issuer, UserSession.revoked_at.is_(None)
        )
        if claims.sid is not None:
            stmt = stmt.where(UserSession.idp_sid == claims.sid)
        if claims.subject is not None:
            users = select(User.id).where(
                User.issuer == claims.issuer, User.subject == claims.subject
            )
            stmt = stmt.where(UserSession.user_id.in_(users))
        result = session.execute(
            stmt.values(
                revoked_at=ctx.clock(), revoked_reason="backchannel-logout"
            ).execution_options(synchronize_session=False)
        )
        ended = int(getattr(result, "rowcount", 0) or 0)
        note.details.update(sessions_ended=ended, jti=claims.jti)
        return ended


__all__ = ["backchannel_logout", "logout"]
