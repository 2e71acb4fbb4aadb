"""Who asks (``Principal``) and what about (``TenantResource``, ``InteractionResource``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rempart.types import TenantId


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller of one tenant.

    ``assurance`` is the authenticator assurance level the identity layer
    derived from the IdP's claims for this session (1: password-equivalent,
    2: multi-factor, 3: hardware-bound multi-factor). ``machine`` marks a
    machine token (an integration), which never reads data. Roles are not
    carried here: they are looked up in the tenant's access state, so a
    revocation applies to the next decision of an existing session.
    """

    tenant_id: TenantId
    user_id: str
    assurance: int = 1
    machine: bool = False


@dataclass(frozen=True, slots=True)
class TenantResource:
    """The tenant as a whole: for permissions that are not about one interaction."""

    tenant_id: TenantId


@dataclass(frozen=True, slots=True)
class InteractionResource:
    """What a decision needs to know about one interaction (loaded by the caller).

    ``team_id`` is the team of the interaction's queue; ``agent_id`` the
    agent who handled it. ``rempart.access.store.interaction_resource`` builds
    one from a stored ``Interaction``.
    """

    tenant_id: TenantId
    interaction_id: str
    started_at: datetime
    queue_id: str | None = None
    team_id: str | None = None
    agent_id: str | None = None


Resource = TenantResource | InteractionResource

__all__ = ["InteractionResource", "Principal", "Resource", "TenantResource"]
