"""Access control for people's requests: declared permissions, decisions, obligations.

Routes that serve signed-in people declare the permission they exercise
with ``**permitted(Permission.X)`` (published in OpenAPI as
``x-rempart-permission``). For a tenant-wide permission the dependency
decides at once; for a need-to-know permission (one interaction) the route
decides on the loaded interaction with ``Reader.decide`` and applies the
``Allow``'s obligations before answering. Decisions come from one
process-wide ``DecisionPoint`` whose cached tenant state is checked against
the tenant's version on every request, so a revocation applies to the next
request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.access import (
    Allow,
    Decision,
    DecisionPoint,
    Deny,
    DenyReason,
    InteractionResource,
    Permission,
    TenantResource,
    TenantView,
)
from rempart.access import Principal as AccessPrincipal
from rempart.access.errors import SeparationOfDutyViolation
from rempart.access.store import (
    SqlWriter,
    decision_point,
    interaction_resource,
    load_catalog,
    record_login,
)
from rempart.api.context import AppContext
from rempart.api.deps import Ctx, SessionUser, user_origin
from rempart.audit import AuditNote, Origin
from rempart.contact.models import Interaction
from rempart.errors import NotFound, PermissionDenied
from rempart.identity.idp import claim_mapping_of
from rempart.identity.models import IdentityProvider, User
from rempart.identity.sessions import SessionPrincipal, effective_roles
from rempart.storage import Database, TenantContext
from rempart.types import Clock, TenantId

log = structlog.get_logger("rempart.api.access")

PERMISSION_ATTR = "__rempart_permission__"
PERMISSION_EXTENSION = "x-rempart-permission"


def get_decision_point(request: Request, ctx: Ctx) -> DecisionPoint:
    """The process's decision point (built on first use)."""
    point: DecisionPoint | None = getattr(request.app.state, "decision_point", None)
    if point is None:
        point = decision_point(clock=ctx.clock)
        request.app.state.decision_point = point
    return point


Decisions = Annotated[DecisionPoint, Depends(get_decision_point)]


def access_principal(principal: SessionPrincipal) -> AccessPrincipal:
    return AccessPrincipal(
        tenant_id=TenantId(principal.tenant_id),
        user_id=principal.user_id,
        assurance=int(principal.assurance),
    )


@dataclass(frozen=True)
class Reader:
    """A signed-in person, with what a route needs to decide and audit their requests."""

    session_principal: SessionPrincipal
    principal: AccessPrincipal
    origin: Origin
    tenant: TenantContext
    point: DecisionPoint

    def view(self, session: Session) -> TenantView:
        """The tenant's access state, current as of this call (one indexed read)."""
        return self.point.view(session, self.principal.tenant_id)

    def decide(
        self, session: Session, permission: Permission, interaction: Interaction
    ) -> tuple[Decision, InteractionResource]:
        resource = interaction_resource(session, interaction)
        return self.view(session).decide(self.principal, permission, resource), resource

    def require_on(
        self, session: Session, permission: Permission, interaction: Interaction, note: AuditNote
    ) -> tuple[Allow, InteractionResource]:
        """The ``Allow`` on this interaction; otherwise "not found", never "forbidden".

        Answering 404 to someone without need-to-know does not confirm that
        the interaction exists; the audit record keeps the real reason.
        """
        decision, resource = self.decide(session, permission, interaction)
        if isinstance(decision, Deny):
            note.details["denied"] = decision.reason.value
            note.details["permission"] = permission.value
            raise NotFound("no such interaction")
        note.details["basis"] = decision.basis
        return decision, resource


def _reader(
    request: Request, ctx: AppContext, principal: SessionPrincipal, point: DecisionPoint
) -> Reader:
    return Reader(
        session_principal=principal,
        principal=access_principal(principal),
        origin=user_origin(request, ctx, principal),
        tenant=TenantContext(principal.tenant_id),
        point=point,
    )


def _eligible(
    view: TenantView, principal: AccessPrincipal, permission: Permission, now: datetime
) -> Decision:
    """For a need-to-know permission: may this person exercise it on any interaction at all?

    Their roles carry it, or a live grant (just-in-time or break-glass) does;
    the decision on the interaction itself comes later, in the route.
    """
    state = view.state
    user = principal.user_id
    if not state.knows(user):
        return Deny(DenyReason.UNKNOWN_USER)
    if not state.is_active(user):
        return Deny(DenyReason.INACTIVE_USER)
    held, conflict = state.effective(user)
    if conflict:
        return Deny(DenyReason.SEPARATION_OF_DUTY)
    if permission in held:
        return Allow()
    if any(permission in g.permissions and g.live_at(now) for g in state.grants_of(user)):
        return Allow(basis="grant")
    return Deny(DenyReason.NO_ROLE_PERMISSION, permission.value)


@cache
def require_permission(permission: Permission) -> Callable[..., Reader]:
    """A dependency admitting signed-in people whose roles carry ``permission``.

    Tenant-wide permissions are decided here; need-to-know ones need the
    role permission (or a live grant) here and the interaction's decision in
    the route.
    """

    def check(request: Request, ctx: Ctx, principal: SessionUser, point: Decisions) -> Reader:
        reader = _reader(request, ctx, principal, point)
        with ctx.db.tenant_session(reader.tenant) as session:
            view = reader.view(session)
            if permission.need_to_know:
                decision = _eligible(view, reader.principal, permission, ctx.clock())
            else:
                decision = view.decide(
                    reader.principal, permission, TenantResource(reader.principal.tenant_id)
                )
        if isinstance(decision, Deny):
            raise PermissionDenied(
                f"access denied: {decision.reason.value}",
                required_permission=permission.value,
                reason=decision.reason.value,
            )
        return reader

    setattr(check, PERMISSION_ATTR, permission)
    return check


def sync_access_roles(db: Database, tenant: TenantContext, user_id: str, clock: Clock) -> None:
    """At sign-in: record the login, and make the user's IdP-sourced access roles theirs.

    The roles a session carries (claims mapped at sign-in, SCIM groups mapped
    now, local grants) become the user's ``idp`` role assignments in
    ``rempart.access``, which bumps the tenant's access version when they
    change. A set of roles that breaks separation of duty changes nothing and
    is logged: decisions then keep using the previous assignments.
    """
    with db.tenant_session(tenant) as session:
        user = session.get(User, user_id)
        if user is None:
            return
        idp = session.scalar(select(IdentityProvider))
        roles = effective_roles(session, user, claim_mapping_of(idp) if idp else None)
        record_login(session, user_id, clock())  # dormant-account detection reads it
        writer = SqlWriter(session, load_catalog(session), actor="idp", clock=clock)
        try:
            ignored = writer.sync_idp_roles(user_id, roles)
        except SeparationOfDutyViolation as exc:
            log.warning("access roles not synced", user_id=user_id, reason=exc.detail)
            return
    if ignored:
        log.info("roles unknown to the access catalog ignored", user_id=user_id, roles=ignored)


def permitted(permission: Permission) -> dict[str, Any]:
    """Route decorator arguments declaring and enforcing the permission a route exercises.

    The route takes the ``Reader`` with a parameter annotated
    ``Annotated[Reader, Depends(require_permission(P))]`` (the same
    dependency, so it runs once per request).
    """
    return {
        "dependencies": [Depends(require_permission(permission))],
        "openapi_extra": {PERMISSION_EXTENSION: permission.value},
    }


__all__ = [
    "PERMISSION_EXTENSION",
    "Decisions",
    "Reader",
    "access_principal",
    "get_decision_point",
    "permitted",
    "require_permission",
    "sync_access_roles",
]
