"""Identity: who is calling. Machine tokens now; OIDC single sign-on and SCIM arrive later."""

from rempart.identity.models import MachineToken, User
from rempart.identity.scopes import Scope
from rempart.identity.tokens import (
    IssuedToken,
    MachinePrincipal,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
)

__all__ = [
    "IssuedToken",
    "MachinePrincipal",
    "MachineToken",
    "Scope",
    "User",
    "authenticate",
    "create_token",
    "list_tokens",
    "revoke_token",
]
