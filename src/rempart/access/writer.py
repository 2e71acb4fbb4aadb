"""The changes access state accepts, as a protocol two backends implement.

``TenantAccess`` applies them in memory (bumping its version); the SQL
store (``rempart.access.store.SqlWriter``) writes rows and bumps the
tenant's version row in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from rempart.access.grants import Grant
from rempart.access.relations import ObjectType, Relation, RelationKind


class AccessWriter(Protocol):
    def assign_role(self, user_id: str, role: str) -> None: ...

    def revoke_role(self, user_id: str, role: str) -> None: ...

    def add_relation(self, relation: Relation) -> None: ...

    def remove_relation(
        self, user_id: str, kind: RelationKind, object_type: ObjectType, object_id: str
    ) -> bool: ...

    def put_grant(self, grant: Grant) -> None: ...

    def revoke_grant(self, grant_id: str, *, at: datetime) -> Grant: ...


__all__ = ["AccessWriter"]
