"""Scopes a machine token can carry, named ``resource:action``."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    INTERACTION_WRITE = "interaction:write"
    INTERACTION_READ = "interaction:read"
    # Audit tooling of the tenant (SIEM, auditors' scripts): search, proofs, checkpoints.
    AUDIT_READ = "audit:read"
    # The tenant's provisioning client (SCIM 2.0 Users and Groups).
    SCIM_PROVISION = "scim:provision"
    # The IVR / CCaaS flow that relays a caller's keypad digits (secure payment capture).
    PAYMENT_CAPTURE = "payment:capture"
    # The agent desktop's progress view of a capture (masked, no card data).
    PAYMENT_OBSERVE = "payment:observe"
    # A chat platform redacting messages in flight (POST /api/v1/chat/redact).
    CHAT_REDACT = "chat:redact"


def parse_scopes(values: list[str] | tuple[str, ...]) -> list[Scope]:
    """Validate scope names; unknown names are an error, duplicates are dropped."""
    known = {s.value: s for s in Scope}
    out: list[Scope] = []
    for value in values:
        scope = known.get(value.strip())
        if scope is None:
            raise ValueError(f"unknown scope {value!r}; known: {', '.join(sorted(known))}")
        if scope not in out:
            out.append(scope)
    if not out:
        raise ValueError("a token needs at least one scope")
    return out


__all__ = ["Scope", "parse_scopes"]
