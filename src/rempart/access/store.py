"""Access state in the database: load a tenant, write changes, keep the version row current.

Every write goes through ``SqlWriter`` (or the functions here), which bumps
``access_state.version`` in the same transaction. ``DecisionPoint`` reads
that version once per request (``read_version``) and reloads the tenant
when it moved, so a committed revocation is seen by the next request in
every process. All functions run in a tenant session (``Database.tenant_session``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from rempart.access.errors import GrantNotFound, SeparationOfDutyViolation
from rempart.access.grants import Grant, GrantKind, GrantStatus
from rempart.access.models import (
    AccessGrant,
    AccessRelation,
    AccessRole,
    AccessRoleAssignment,
    AccessState,
    AccessUserActivity,
)
from rempart.access.pdp import DecisionPoint
from rempart.access.permissions import parse_permission
from rempart.access.policy import AccessPolicy, policy_from_mapping, policy_to_mapping
from rempart.access.relations import ObjectType, Relation, RelationKind
from rempart.access.roles import (
    RoleCatalog,
    catalog_from_mapping,
    catalog_to_mapping,
    default_catalog,
)
from rempart.access.state import TenantAccess
from rempart.access.subjects import InteractionResource
from rempart.access.training import TrainingGate
from rempart.contact.models import Interaction, Queue
from rempart.identity.models import User
from rempart.storage.tenancy import TenantContextMissing, session_tenant
from rempart.types import Clock, TenantId, utc_now

ROLE_SOURCES = ("idp", "manual")


def _tenant(session: Session) -> TenantId:
    tenant = session_tenant(session)
    if tenant is None:
        raise TenantContextMissing("access state needs a tenant session")
    return tenant


def _state_row(session: Session) -> AccessState:
    row = session.scalars(select(AccessState)).one_or_none()
    if row is None:
        row = AccessState(version=0, exclusions=[], custom_roles=False)
        session.add(row)
        session.flush()
    return row


def read_version(session: Session) -> int:
    """The tenant's access version (0 before any change)."""
    version = session.scalars(select(AccessState.version)).one_or_none()
    return int(version or 0)


def bump_version(session: Session) -> int:
    """Move the tenant's version forward, in the session's transaction.

    The step is random (1 to 2**31), not 1: a decision point may cache a
    state it loaded inside a transaction that later rolled back; with a
    random step, another transaction's commit cannot land on the same number
    and make that phantom state look current.
    """
    row = _state_row(session)
    step = secrets.randbelow(2**31) + 1
    session.execute(
        update(AccessState)
        .where(AccessState.id == row.id)
        .values(version=AccessState.version + step)
    )
    session.refresh(row)
    return int(row.version)


# -- catalog -------------------------------------------------------------------
def load_catalog(session: Session) -> RoleCatalog:
    """The tenant's roles: its own when it defined some, else the built-in ones."""
    state = session.scalars(select(AccessState)).one_or_none()
    if state is None or not state.custom_roles:
        return default_catalog()
    roles = session.scalars(select(AccessRole)).all()
    return catalog_from_mapping(
        {
            "roles": {
                r.name: {
                    "permissions": r.permissions,
                    "inherits": r.inherits,
                    "description": r.description,
                    "machine": r.machine,
                }
                for r in roles
            },
            "exclusions": state.exclusions,
        }
    )


def save_catalog(session: Session, catalog: RoleCatalog) -> None:
    """Replace the tenant's role definitions (already validated by ``build_catalog``).

    Existing assignments that now break separation of duty are not removed:
    decisions deny such users until an access review settles it.
    """
    data = catalog_to_mapping(catalog)
    session.execute(delete(AccessRole))
    for name, spec in data["roles"].items():
        session.add(
            AccessRole(
                name=name,
                permissions=spec["permissions"],
                inherits=spec["inherits"],
                description=spec["description"],
                machine=spec["machine"],
            )
        )
    row = _state_row(session)
    row.exclusions = data["exclusions"]
    row.custom_roles = True
    session.flush()
    bump_version(session)


def load_policy(session: Session) -> AccessPolicy:
    """The tenant's stored policy, or the defaults."""
    stored = session.scalars(select(AccessState.policy)).one_or_none()
    return AccessPolicy() if not stored else policy_from_mapping(stored)


def save_policy(session: Session, policy: AccessPolicy) -> None:
    _state_row(session).policy = policy_to_mapping(policy)
    session.flush()
    bump_version(session)


# -- loading -------------------------------------------------------------------
def load_tenant(session: Session, policy: AccessPolicy | None = None) -> TenantAccess:
    """Everything a decision needs for the session's tenant, at its current version.

    ``policy`` overrides the tenant's stored policy (tests, benchmarks).
    """
    tenant = _tenant(session)
    version = read_version(session)
    state = TenantAccess(tenant, load_catalog(session), policy or load_policy(session))
    roles: dict[str, set[str]] = {}
    for user_id, role in session.execute(
        select(AccessRoleAssignment.user_id, AccessRoleAssignment.role)
    ):
        roles.setdefault(user_id, set()).add(role)
    for user_id, active in session.execute(select(User.id, User.active)):
        state.set_user(user_id, active=bool(active))
    for user_id, names in roles.items():
        state.set_roles_unchecked(user_id, names)
    for r in session.scalars(select(AccessRelation)):
        state.add_relation(_relation(r))
    for g in session.scalars(select(AccessGrant)):
        state.put_grant(_grant(g))
    for user_id, at in session.execute(
        select(AccessUserActivity.user_id, AccessUserActivity.last_login_at)
    ):
        state.last_login[user_id] = at
    state.version = version
    return state


def _relation(r: AccessRelation) -> Relation:
    return Relation(
        r.user_id,
        RelationKind(r.kind),
        ObjectType(r.object_type),
        r.object_id,
        r.valid_from,
        r.valid_until,
    )


def _grant(g: AccessGrant) -> Grant:
    return Grant(
        id=g.id,
        user_id=g.user_id,
        kind=GrantKind(g.kind),
        permissions=frozenset(parse_permission(p) for p in g.permissions),
        interaction_id=g.interaction_id,
        reason=g.reason,
        requested_at=g.requested_at,
        expires_at=g.expires_at,
        status=GrantStatus(g.status),
        min_assurance=g.min_assurance,
        duration=timedelta(seconds=g.duration_s),
        approver_id=g.approver_id,
        decided_at=g.decided_at,
        review_required=g.review_required,
        reviewed_by=g.reviewed_by,
        reviewed_at=g.reviewed_at,
        extra={str(k): str(v) for k, v in (g.extra or {}).items()},
    )


def decision_point(
    *,
    policy: AccessPolicy | None = None,
    training: TrainingGate | None = None,
    clock: Clock = utc_now,
) -> DecisionPoint:
    """A process-wide decision point backed by the database (build one per process)."""
    kwargs = {} if training is None else {"training": training}
    return DecisionPoint(
        version_of=read_version,
        load=lambda session: load_tenant(session, policy),
        clock=clock,
        **kwargs,
    )


# -- writes ----------------------------------------------------------------------
class SqlWriter:
    """``AccessWriter`` over a tenant session; each change bumps the version row."""

    def __init__(
        self,
        session: Session,
        catalog: RoleCatalog,
        *,
        actor: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.session = session
        self.catalog = catalog
        self.actor = actor
        self.clock = clock

    def roles_of(self, user_id: str) -> set[str]:
        return set(
            self.session.scalars(
                select(AccessRoleAssignment.role).where(AccessRoleAssignment.user_id == user_id)
            )
        )

    def assign_role(self, user_id: str, role: str, *, source: str = "manual") -> None:
        if source not in ROLE_SOURCES:
            raise ValueError(f"unknown role source {source!r}")
        current = self.roles_of(user_id)
        if role in current:
            return
        self.catalog.check_assignment(current, role)
        self.session.add(
            AccessRoleAssignment(
                user_id=user_id,
                role=role,
                source=source,
                granted_by=self.actor,
                granted_at=self.clock(),
            )
        )
        self.session.flush()
        bump_version(self.session)

    def revoke_role(self, user_id: str, role: str) -> None:
        self.session.execute(
            delete(AccessRoleAssignment).where(
                AccessRoleAssignment.user_id == user_id, AccessRoleAssignment.role == role
            )
        )
        bump_version(self.session)

    def sync_idp_roles(self, user_id: str, role_names: Iterable[str]) -> list[str]:
        """Make the user's IdP-sourced roles exactly ``role_names`` (login, SCIM group change).

        Names the catalog does not define are ignored and returned, so the
        caller can log them; a combination that breaks separation of duty is
        refused (``SeparationOfDutyViolation``) and nothing changes.
        """
        wanted = {n for n in role_names if n in self.catalog.roles}
        ignored = sorted({n for n in role_names if n not in self.catalog.roles})
        rows = self.session.scalars(
            select(AccessRoleAssignment).where(AccessRoleAssignment.user_id == user_id)
        ).all()
        manual = {r.role for r in rows if r.source != "idp"}
        conflicts = self.catalog.exclusion_conflicts(manual | wanted)
        if conflicts:
            raise SeparationOfDutyViolation(
                f"separation of duty: nobody may hold both {' and '.join(sorted(conflicts[0]))}"
            )
        have = {r.role: r for r in rows if r.source == "idp"}
        changed = False
        for name, row in have.items():
            if name not in wanted:
                self.session.delete(row)
                changed = True
        for name in wanted - have.keys() - manual:
            self.session.add(
                AccessRoleAssignment(
                    user_id=user_id,
                    role=name,
                    source="idp",
                    granted_by="idp",
                    granted_at=self.clock(),
                )
            )
            changed = True
        if changed:
            self.session.flush()
            bump_version(self.session)
        return ignored

    def add_relation(self, relation: Relation) -> None:
        existing = self._relation_row(
            relation.user_id, relation.kind, relation.object_type, relation.object_id
        )
        if existing is None:
            self.session.add(
                AccessRelation(
                    user_id=relation.user_id,
                    kind=relation.kind.value,
                    object_type=relation.object_type.value,
                    object_id=relation.object_id,
                    valid_from=relation.valid_from,
                    valid_until=relation.valid_until,
                    created_at=self.clock(),
                )
            )
        else:
            existing.valid_from = relation.valid_from
            existing.valid_until = relation.valid_until
        self.session.flush()
        bump_version(self.session)

    def _relation_row(
        self, user_id: str, kind: RelationKind, object_type: ObjectType, object_id: str
    ) -> AccessRelation | None:
        return self.session.scalars(
            select(AccessRelation).where(
                AccessRelation.user_id == user_id,
                AccessRelation.kind == kind.value,
                AccessRelation.object_type == object_type.value,
                AccessRelation.object_id == object_id,
            )
        ).one_or_none()

    def remove_relation(
        self, user_id: str, kind: RelationKind, object_type: ObjectType, object_id: str
    ) -> bool:
        row = self._relation_row(user_id, kind, object_type, object_id)
        if row is not None:
            self.session.delete(row)
            self.session.flush()
        bump_version(self.session)
        return row is not None

    def put_grant(self, grant: Grant) -> None:
        row = self.session.get(AccessGrant, grant.id)
        if row is None:
            row = AccessGrant(id=grant.id)
            self.session.add(row)
        row.user_id = grant.user_id
        row.kind = grant.kind.value
        row.permissions = sorted(p.value for p in grant.permissions)
        row.interaction_id = grant.interaction_id
        row.reason = grant.reason
        row.requested_at = grant.requested_at
        row.expires_at = grant.expires_at
        row.status = grant.status.value
        row.min_assurance = grant.min_assurance
        row.duration_s = int(grant.duration.total_seconds())
        row.approver_id = grant.approver_id
        row.decided_at = grant.decided_at
        row.review_required = grant.review_required
        row.reviewed_by = grant.reviewed_by
        row.reviewed_at = grant.reviewed_at
        row.extra = dict(grant.extra)
        self.session.flush()
        bump_version(self.session)

    def revoke_grant(self, grant_id: str, *, at: datetime) -> Grant:
        row = self.session.get(AccessGrant, grant_id)
        if row is None:
            raise GrantNotFound("no such grant")
        revoked = replace(_grant(row), status=GrantStatus.REVOKED, decided_at=at)
        self.put_grant(revoked)
        return revoked


def record_login(session: Session, user_id: str, at: datetime) -> None:
    """Identity calls this at each successful login; access reviews read it (dormant accounts).

    Not a policy change: the version does not move.
    """
    row = session.scalars(
        select(AccessUserActivity).where(AccessUserActivity.user_id == user_id)
    ).one_or_none()
    if row is None:
        session.add(AccessUserActivity(user_id=user_id, last_login_at=at))
    elif at > row.last_login_at:
        row.last_login_at = at
    session.flush()


def interaction_resource(session: Session, interaction: Interaction) -> InteractionResource:
    """The decision's view of a stored interaction (its queue's team looked up now)."""
    team_id = None
    if interaction.queue_id is not None:
        team_id = session.scalars(
            select(Queue.team_id).where(Queue.id == interaction.queue_id)
        ).one_or_none()
    return InteractionResource(
        tenant_id=TenantId(interaction.tenant_id),
        interaction_id=interaction.id,
        started_at=interaction.started_at,
        queue_id=interaction.queue_id,
        team_id=team_id,
        agent_id=interaction.agent_id,
    )


__all__ = [
    "SqlWriter",
    "bump_version",
    "decision_point",
    "interaction_resource",
    "load_catalog",
    "load_policy",
    "load_tenant",
    "read_version",
    "record_login",
    "save_catalog",
    "save_policy",
]
