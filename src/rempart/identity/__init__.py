"""Identity: who is calling, and how strongly they proved it.

Single sign-on with each tenant's OpenID Connect provider (``login``), strict
token validation written once (``jwt``, ``keys``), server-side sessions
(``sessions``), assurance levels and step-up (``assurance``), logout
(``logout``), SCIM 2.0 provisioning (``scim``), IP allowlists, rate limits and
lockout (``allowlist``, ``ratelimit``), first-admin bootstrap (``bootstrap``),
and machine tokens for integrations (``tokens``). See docs/identity.md.
"""

from rempart.identity.assurance import AssuranceMapping, Level, StepUpRequired, assess
from rempart.identity.bootstrap import ADMIN_ROLE, create_bootstrap_link
from rempart.identity.context import IdentityContext
from rempart.identity.idp import (
    ClaimMapping,
    IdpSettings,
    PolicySettings,
    configure_idp,
    get_idp,
    get_policy,
    prepare_idp,
    set_policy,
)
from rempart.identity.jwt import (
    IdTokenClaims,
    LogoutClaims,
    TokenRejected,
    ValidationPolicy,
    validate_id_token,
    validate_logout_token,
)
from rempart.identity.login import LoginFailed, finish_login, start_login
from rempart.identity.logout import backchannel_logout, logout
from rempart.identity.models import MachineToken, User
from rempart.identity.scopes import Scope
from rempart.identity.sessions import (
    SessionInvalid,
    SessionPrincipal,
    effective_roles,
    resolve_session,
    revoke_session,
    revoke_user_sessions,
)
from rempart.identity.tokens import (
    IssuedToken,
    MachinePrincipal,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
)

__all__ = [
    "ADMIN_ROLE",
    "AssuranceMapping",
    "ClaimMapping",
    "IdTokenClaims",
    "IdentityContext",
    "IdpSettings",
    "IssuedToken",
    "Level",
    "LoginFailed",
    "LogoutClaims",
    "MachinePrincipal",
    "MachineToken",
    "PolicySettings",
    "Scope",
    "SessionInvalid",
    "SessionPrincipal",
    "StepUpRequired",
    "TokenRejected",
    "User",
    "ValidationPolicy",
    "assess",
    "authenticate",
    "backchannel_logout",
    "configure_idp",
    "create_bootstrap_link",
    "create_token",
    "effective_roles",
    "finish_login",
    "get_idp",
    "get_policy",
    "list_tokens",
    "logout",
    "prepare_idp",
    "resolve_session",
    "revoke_session",
    "revoke_token",
    "revoke_user_sessions",
    "set_policy",
    "start_login",
    "validate_id_token",
    "validate_logout_token",
]
