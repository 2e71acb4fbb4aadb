"""The decision point: ``decide`` turns (principal, permission, resource) into a decision.

Order of checks, each a ``Deny`` reason when it fails:

1. the principal, the resource and the state belong to the same tenant;
2. the user is known and active, and holds no separation-of-duty conflict;
3. a machine principal never gets a permission that reads data;
4. a role grants the permission, or a live break-glass grant covers it;
5. a training requirement on the permission is met (``TrainingGate``);
6. for an interaction: a need-to-know path (handled, assigned, supervises,
   evaluates, within the policy's windows) or a live grant on it; for a
   grant-only permission (unmasking), a live grant with the assurance it
   demands.

An ``Allow`` carries the masking obligations of every field the permission
shows; an unmask ``Allow`` carries ``audit_unmask`` for each field revealed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from rempart.access.decisions import Allow, Decision, Deny, DenyReason
from rempart.access.grants import Grant, GrantKind, GrantStatus
from rempart.access.obligations import FIELDS_UNMASKED, Obligation, ObligationKind, masks_for
from rempart.access.permissions import GRANT_ONLY, NEED_TO_KNOW, READS_DATA, Permission
from rempart.access.relations import ObjectType, RelationKind
from rempart.access.state import TenantAccess
from rempart.access.subjects import InteractionResource, Principal, Resource
from rempart.access.training import NoTrainingRecords, TrainingGate
from rempart.types import Clock, TenantId, utc_now

_NO_TRAINING = NoTrainingRecords()


_NO_RELATION = Deny(DenyReason.NO_RELATION)
_WINDOW_ELAPSED = Deny(DenyReason.WINDOW_ELAPSED)
_CROSS_TENANT = Deny(DenyReason.CROSS_TENANT)
_UNKNOWN_USER = Deny(DenyReason.UNKNOWN_USER)
_INACTIVE_USER = Deny(DenyReason.INACTIVE_USER)
_ASSIGNED = (RelationKind.ASSIGNED, ObjectType.INTERACTION)
_SUPERVISES = (RelationKind.SUPERVISES, ObjectType.TEAM)
_EVAL_TEAM = (RelationKind.EVALUATES, ObjectType.TEAM)
_EVAL_QUEUE = (RelationKind.EVALUATES, ObjectType.QUEUE)


def decide(
    state: TenantAccess,
    principal: Principal,
    permission: Permission,
    resource: Resource,
    *,
    now: datetime,
    training: TrainingGate = _NO_TRAINING,
) -> Decision:
    tenant = state.tenant_id
    if principal.tenant_id != tenant or resource.tenant_id != tenant:
        return _CROSS_TENANT
    user = principal.user_id
    if not state.knows(user):
        return _UNKNOWN_USER
    if not state.is_active(user):
        return _INACTIVE_USER
    perms, conflict = state.effective(user)
    if conflict:
        return Deny(DenyReason.SEPARATION_OF_DUTY, "the user's roles break separation of duty")
    if principal.machine and permission in READS_DATA:
        return Deny(DenyReason.MACHINE_CANNOT_READ)
    interaction = resource if isinstance(resource, InteractionResource) else None
    emergency: Grant | None = None
    if permission not in perms:
        if interaction is not None:
            emergency = _live_grant(
                state,
                user,
                permission,
                interaction.interaction_id,
                now,
                kind=GrantKind.BREAK_GLASS,
            )
        if emergency is None:
            return Deny(DenyReason.NO_ROLE_PERMISSION, permission.value)
    if state.policy.training:
        requirement = state.policy.training.get(permission)
        if requirement is not None and not training.is_current(tenant, user, requirement, now):
            return Deny(DenyReason.TRAINING_LAPSED, requirement)
    if permission not in NEED_TO_KNOW:
        return state.allow(permission, "role")
    if interaction is None:
        return Deny(DenyReason.WRONG_RESOURCE, "this permission applies to one interaction")
    if permission in GRANT_ONLY or emergency is not None:
        return _by_grant(state, principal, permission, interaction, now, emergency)
    basis = _relation_basis(state, user, interaction, now)
    if isinstance(basis, Deny):
        grant = _live_grant(state, user, permission, interaction.interaction_id, now)
        if grant is None:
            return basis
        if principal.assurance < grant.min_assurance:
            return Deny(DenyReason.ASSURANCE_TOO_LOW, f"level {grant.min_assurance} required")
        return Allow(masks_for(permission, state.policy.masks), "grant", grant.id)
    return state.allow(permission, basis)


def _relation_basis(
    state: TenantAccess, user: str, res: InteractionResource, now: datetime
) -> str | Deny:
    policy = state.policy
    age = now - res.started_at
    elapsed = False
    if res.agent_id == user:
        if age <= policy.handled_window:
            return "handled"
        elapsed = True
    index = state.rel_index
    if not index:
        return _WINDOW_ELAPSED if elapsed else _NO_RELATION
    rel = index.get((user, *_ASSIGNED, res.interaction_id))
    if rel is not None and rel.valid_at(now):
        return "assigned"
    if res.team_id is not None:
        rel = index.get((user, *_SUPERVISES, res.team_id))
        if rel is not None and rel.valid_at(now):
            if age <= policy.supervises_window:
                return "supervises"
            elapsed = True
    for key in (
        None if res.team_id is None else (user, *_EVAL_TEAM, res.team_id),
        None if res.queue_id is None else (user, *_EVAL_QUEUE, res.queue_id),
    ):
        rel = None if key is None else index.get(key)
        if rel is not None and rel.valid_at(now):
            if age <= policy.evaluates_window:
                return "evaluates"
            elapsed = True
    return _WINDOW_ELAPSED if elapsed else _NO_RELATION


def _live_grant(
    state: TenantAccess,
    user: str,
    permission: Permission,
    interaction_id: str,
    now: datetime,
    *,
    kind: GrantKind | None = None,
) -> Grant | None:
    for grant in state.grants_of(user):
        if (
            (kind is None or grant.kind is kind)
            and grant.covers(permission, interaction_id)
            and grant.live_at(now)
        ):
            return grant
    return None


def _by_grant(
    state: TenantAccess,
    principal: Principal,
    permission: Permission,
    res: InteractionResource,
    now: datetime,
    grant: Grant | None,
) -> Decision:
    if grant is None:
        grant = _live_grant(state, principal.user_id, permission, res.interaction_id, now)
    if grant is None:
        expired = any(
            g.covers(permission, res.interaction_id)
            and g.status is GrantStatus.ACTIVE
            and now >= g.expires_at
            for g in state.grants_of(principal.user_id)
        )
        return Deny(DenyReason.GRANT_EXPIRED if expired else DenyReason.GRANT_REQUIRED)
    if principal.assurance < grant.min_assurance:
        return Deny(DenyReason.ASSURANCE_TOO_LOW, f"level {grant.min_assurance} required")
    revealed = FIELDS_UNMASKED.get(permission)
    if revealed is None:
        return Allow(masks_for(permission, state.policy.masks), "grant", grant.id)
    obligations = tuple(
        Obligation(ObligationKind.AUDIT_UNMASK, f, grant.id) for f in sorted(revealed)
    )
    return Allow(obligations, "grant", grant.id)


VersionReader = Callable[[Session], int]
Loader = Callable[[Session], TenantAccess]


class DecisionPoint:
    """A process-wide cache of tenant states, refreshed when the tenant's version moves.

    ``view(session)`` costs one indexed read of the tenant's version row; a
    request calls it once, then decides as often as it needs in memory. A
    change committed by any process before that read is visible to every
    decision of the request.
    """

    def __init__(
        self,
        *,
        version_of: VersionReader,
        load: Loader,
        training: TrainingGate = _NO_TRAINING,
        clock: Clock = utc_now,
    ) -> None:
        self._version_of = version_of
        self._load = load
        self.training = training
        self.clock = clock
        self._states: dict[TenantId, TenantAccess] = {}
        self._lock = threading.Lock()
        self.reloads = 0

    def view(self, session: Session, tenant_id: TenantId) -> TenantView:
        current = self._version_of(session)
        state = self._states.get(tenant_id)
        if state is None or state.version != current:
            with self._lock:
                state = self._load(session)
                self._states[tenant_id] = state
                self.reloads += 1
        return TenantView(state, self.training, self.clock)

    def forget(self, tenant_id: TenantId) -> None:
        self._states.pop(tenant_id, None)


class TenantView:
    """The decisions of one request, against one consistent tenant state."""

    def __init__(self, state: TenantAccess, training: TrainingGate, clock: Clock) -> None:
        self.state = state
        self._training = training
        self._clock = clock

    def decide(self, principal: Principal, permission: Permission, resource: Resource) -> Decision:
        return decide(
            self.state,
            principal,
            permission,
            resource,
            now=self._clock(),
            training=self._training,
        )


__all__ = ["DecisionPoint", "TenantView", "decide"]
