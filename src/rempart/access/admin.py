"""Audited administration of access: role catalog, role assignments, relations.

What routes call for ``role:define``, ``role:assign`` and relation changes.
Each function checks the actor's permission against the current state,
applies the change through the writer (which bumps the version), and
records an audit event on success *and* on refusal (bad configuration,
separation of duty, missing permission) before re-raising.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from rempart.access.decisions import Allow
from rempart.access.errors import AccessDenied
from rempart.access.hooks import AuditSink
from rempart.access.pdp import decide
from rempart.access.permissions import Permission
from rempart.access.policy import AccessPolicy, policy_from_mapping
from rempart.access.relations import Relation
from rempart.access.roles import RoleCatalog, catalog_from_mapping
from rempart.access.state import TenantAccess
from rempart.access.subjects import Principal, TenantResource
from rempart.access.writer import AccessWriter
from rempart.audit import Actor, AuditEvent
from rempart.errors import RempartError
from rempart.types import Clock, utc_now

T = TypeVar("T")


class AccessAdmin:
    def __init__(
        self,
        state: TenantAccess,
        writer: AccessWriter,
        audit: AuditSink,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.state = state
        self.writer = writer
        self.audit = audit
        self.clock = clock

    def _run(
        self,
        actor: Principal,
        permission: Permission,
        action: str,
        resource_id: str | None,
        details: dict[str, Any],
        work: Callable[[], T],
    ) -> T:
        try:
            decision = decide(
                self.state, actor, permission, TenantResource(actor.tenant_id), now=self.clock()
            )
            if not isinstance(decision, Allow):
                raise AccessDenied(
                    f"access denied: {decision.reason.value}", reason=decision.reason.value
                )
            result = work()
        except RempartError as exc:
            self._record(
                actor, action, resource_id, details, ok=False, reason=exc.slug, detail=exc.detail
            )
            raise
        self._record(actor, action, resource_id, details, ok=True)
        return result

    def _record(
        self,
        actor: Principal,
        action: str,
        resource_id: str | None,
        details: dict[str, Any],
        *,
        ok: bool,
        reason: str | None = None,
        detail: str | None = None,
    ) -> None:
        extra = dict(details)
        if detail:
            extra["detail"] = detail[:300]
        self.audit.record(
            AuditEvent(
                tenant_id=self.state.tenant_id,
                actor=Actor("machine" if actor.machine else "user", actor.user_id),
                action=action,
                resource_type="access_role" if action.startswith("access.role") else "access",
                resource_id=resource_id,
                outcome="success" if ok else "failure",
                time=self.clock(),
                reason=reason,
                details=extra,
            )
        )

    def configure_roles(
        self,
        actor: Principal,
        data: Mapping[str, Any],
        save: Callable[[RoleCatalog], None],
    ) -> RoleCatalog:
        """Validate a catalog given as data and hand it to ``save`` (``store.save_catalog``)."""

        def work() -> RoleCatalog:
            catalog = catalog_from_mapping(data)
            save(catalog)
            return catalog

        return self._run(actor, Permission.ROLE_DEFINE, "access.role.define", None, {}, work)

    def configure_policy(
        self,
        actor: Principal,
        data: Mapping[str, Any],
        save: Callable[[AccessPolicy], None],
    ) -> AccessPolicy:
        """Validate a policy given as data and hand it to ``save`` (``store.save_policy``)."""

        def work() -> AccessPolicy:
            policy = policy_from_mapping(data)
            save(policy)
            return policy

        return self._run(
            actor, Permission.TENANT_CONFIGURE, "access.policy.configure", None, {}, work
        )

    def assign_role(self, actor: Principal, user_id: str, role: str) -> None:
        def work() -> None:
            if actor.user_id == user_id:
                raise AccessDenied("nobody assigns roles to themselves")
            self.writer.assign_role(user_id, role)

        self._run(
            actor, Permission.ROLE_ASSIGN, "access.role.assign", user_id, {"role": role[:63]}, work
        )

    def revoke_role(self, actor: Principal, user_id: str, role: str) -> None:
        self._run(
            actor,
            Permission.ROLE_ASSIGN,
            "access.role.revoke",
            user_id,
            {"role": role[:63]},
            lambda: self.writer.revoke_role(user_id, role),
        )

    def relate(self, actor: Principal, relation: Relation) -> None:
        self._run(
            actor,
            Permission.USER_MANAGE,
            "access.relation.add",
            relation.user_id,
            _rel(relation),
            lambda: self.writer.add_relation(relation),
        )

    def unrelate(self, actor: Principal, relation: Relation) -> bool:
        return self._run(
            actor,
            Permission.USER_MANAGE,
            "access.relation.remove",
            relation.user_id,
            _rel(relation),
            lambda: self.writer.remove_relation(
                relation.user_id, relation.kind, relation.object_type, relation.object_id
            ),
        )


def _rel(relation: Relation) -> dict[str, Any]:
    return {
        "kind": relation.kind.value,
        "object_type": relation.object_type.value,
        "object_id": relation.object_id,
        "valid_until": relation.valid_until.isoformat() if relation.valid_until else None,
    }


def role_permission_matrix(catalog: RoleCatalog) -> dict[str, dict[Permission, bool]]:
    """For each role, whether it holds each permission: the table a route x role test
    (one case per pair, generated from the routes' declared permissions) checks against."""
    return {name: {p: p in catalog.effective[name] for p in Permission} for name in catalog.roles}


__all__ = ["AccessAdmin", "role_permission_matrix"]
