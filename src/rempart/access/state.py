"""One tenant's access state in memory, versioned so that no decision uses stale data.

Every change (role assignment, relation, grant, user status) increments
``version``. Derived data (a user's effective permissions) is cached with
the version it was computed at and recomputed when the version moved, so
the decision after a revocation sees the revocation (ASVS 8.3.2). Changes
take a lock; decisions read without one (each read is a single dict lookup,
atomic in CPython). Across processes, the store keeps the same counter in
the database and ``DecisionPoint`` reloads a tenant whose counter moved.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime

from rempart.access.decisions import Allow
from rempart.access.errors import GrantNotFound
from rempart.access.grants import Grant, GrantStatus
from rempart.access.obligations import masks_for
from rempart.access.permissions import Permission
from rempart.access.policy import AccessPolicy
from rempart.access.relations import ObjectType, Relation, RelationKind
from rempart.access.roles import RoleCatalog
from rempart.types import TenantId

_Key = tuple[str, RelationKind, ObjectType, str]


class TenantAccess:
    def __init__(
        self,
        tenant_id: TenantId,
        catalog: RoleCatalog,
        policy: AccessPolicy | None = None,
        *,
        version: int = 0,
    ) -> None:
        self.tenant_id = tenant_id
        self.catalog = catalog
        self.policy = policy or AccessPolicy()
        self.version = version
        self._lock = threading.Lock()
        self._roles: dict[str, frozenset[str]] = {}
        self._inactive: set[str] = set()
        # (user, kind, object type, object id) -> relation: one lookup per decision step.
        self.rel_index: dict[_Key, Relation] = {}
        self._grants: dict[str, Grant] = {}
        self._grants_by_user: dict[str, set[str]] = {}
        self._perm_cache: dict[str, tuple[int, frozenset[Permission], bool]] = {}
        # Allow values are immutable and depend only on (permission, basis) and the policy.
        self._allows: dict[tuple[Permission, str], Allow] = {}
        self.last_login: dict[str, datetime] = {}

    # -- reads ---------------------------------------------------------------
    def knows(self, user_id: str) -> bool:
        return user_id in self._roles

    def is_active(self, user_id: str) -> bool:
        return user_id in self._roles and user_id not in self._inactive

    def roles_of(self, user_id: str) -> frozenset[str]:
        return self._roles.get(user_id, frozenset())

    def users(self) -> list[str]:
        return list(self._roles)

    def effective(self, user_id: str) -> tuple[frozenset[Permission], bool]:
        """(permissions, separation-of-duty conflict) for the user, cached per version."""
        cached = self._perm_cache.get(user_id)
        version = self.version
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
        roles = self._roles.get(user_id, frozenset())
        perms = self.catalog.permissions_of(roles)
        conflict = bool(self.catalog.exclusion_conflicts(roles))
        self._perm_cache[user_id] = (version, perms, conflict)
        return perms, conflict

    def allow(self, permission: Permission, basis: str) -> Allow:
        """The (shared, immutable) ``Allow`` for a permission on a basis, with its masks."""
        found = self._allows.get((permission, basis))
        if found is None:
            found = Allow(masks_for(permission, self.policy.masks), basis)
            self._allows[(permission, basis)] = found
        return found

    def relation(
        self, user_id: str, kind: RelationKind, object_type: ObjectType, object_id: str
    ) -> Relation | None:
        return self.rel_index.get((user_id, kind, object_type, object_id))

    def relations(self, user_id: str | None = None) -> Iterator[Relation]:
        for rel in list(self.rel_index.values()):
            if user_id is None or rel.user_id == user_id:
                yield rel

    def grant(self, grant_id: str) -> Grant:
        found = self._grants.get(grant_id)
        if found is None:
            raise GrantNotFound("no such grant")
        return found

    def grants_of(self, user_id: str) -> list[Grant]:
        return [self._grants[g] for g in self._grants_by_user.get(user_id, ())]

    def grants(self) -> list[Grant]:
        return list(self._grants.values())

    # -- changes ---------------------------------------------------------------
    def _bump(self) -> None:
        self.version += 1

    def set_user(self, user_id: str, *, active: bool = True) -> None:
        with self._lock:
            self._roles.setdefault(user_id, frozenset())
            if active:
                self._inactive.discard(user_id)
            else:
                self._inactive.add(user_id)
            self._bump()

    def assign_role(self, user_id: str, role: str) -> None:
        """Add a role; refuses unknown roles and separation-of-duty conflicts."""
        with self._lock:
            current = self._roles.get(user_id, frozenset())
            self.catalog.check_assignment(current, role)
            self._roles[user_id] = current | {role}
            self._bump()

    def revoke_role(self, user_id: str, role: str) -> None:
        with self._lock:
            self._roles[user_id] = self._roles.get(user_id, frozenset()) - {role}
            self._bump()

    def set_roles_unchecked(self, user_id: str, roles: Iterable[str]) -> None:
        """Load stored roles as they are (a conflict there shows as a deny, not an error)."""
        with self._lock:
            self._roles[user_id] = frozenset(roles)
            self._bump()

    def add_relation(self, relation: Relation) -> None:
        with self._lock:
            self._roles.setdefault(relation.user_id, frozenset())
            self.rel_index[relation.key] = relation
            self._bump()

    def remove_relation(
        self, user_id: str, kind: RelationKind, object_type: ObjectType, object_id: str
    ) -> bool:
        with self._lock:
            found = self.rel_index.pop((user_id, kind, object_type, object_id), None)
            self._bump()
            return found is not None

    def put_grant(self, grant: Grant) -> None:
        with self._lock:
            self._grants[grant.id] = grant
            self._grants_by_user.setdefault(grant.user_id, set()).add(grant.id)
            self._bump()

    def revoke_grant(self, grant_id: str, *, at: datetime) -> Grant:
        with self._lock:
            grant = self.grant(grant_id)
            revoked = replace(grant, status=GrantStatus.REVOKED, decided_at=at)
            self._grants[grant_id] = revoked
            self._bump()
            return revoked


__all__ = ["TenantAccess"]
