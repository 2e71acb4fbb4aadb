"""The tenant context and the session hooks that enforce it.

A session opened for a tenant (``Database.tenant_session``) carries the
tenant id in ``session.info``. Three hooks then apply it:

* every ORM ``SELECT``, ``UPDATE`` and ``DELETE`` gets ``tenant_id = :tenant``
  on every ``TenantScoped`` entity it touches (``with_loader_criteria``);
* a flush stamps new rows with the tenant and refuses rows of another tenant;
* on PostgreSQL, each transaction starts with
  ``set_config('rempart.tenant_id', :tenant, true)`` (transaction-local, so a
  pooled connection never carries it into the next request) for row-level
  security, which also covers SQL that bypasses the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from rempart.errors import PermissionDenied, RempartError
from rempart.storage.base import TenantScoped
from rempart.types import TenantId

TENANT_KEY = "rempart.tenant_id"
# Marks a platform session (the audit package writes the platform log from one).
PLATFORM_KEY = "rempart.platform"
PG_SETTING = "rempart.tenant_id"


@dataclass(frozen=True, slots=True)
class TenantContext:
    """The tenant a unit of work acts for. Passed explicitly, never global."""

    tenant_id: TenantId

    def __post_init__(self) -> None:
        if not self.tenant_id:
            raise ValueError("a tenant context needs a tenant id")


class TenantContextMissing(RempartError):
    """A tenant-owned table was touched from a session opened for no tenant."""

    title = "Tenant context missing"
    slug = "tenant-context-missing"


class CrossTenantWrite(PermissionDenied):
    """A write tried to create or move a row into another tenant."""

    title = "Cross-tenant write refused"
    slug = "cross-tenant-write"


def session_tenant(session: Session) -> TenantId | None:
    value = session.info.get(TENANT_KEY)
    return TenantId(value) if value else None


def scope_orm_execute(state: ORMExecuteState) -> None:
    """``do_orm_execute`` hook: add the tenant criterion to ORM statements."""
    if not (state.is_select or state.is_update or state.is_delete):
        return
    tenant = session_tenant(state.session)
    if tenant is None:
        if _touches_tenant_entities(state):
            raise TenantContextMissing("tenant-owned data queried without a tenant context")
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant,
            include_aliases=True,
        )
    )


def _touches_tenant_entities(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, TenantScoped) for mapper in state.all_mappers)


def check_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    """``before_flush`` hook: stamp new rows, refuse rows of another tenant."""
    tenant = session_tenant(session)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant is None:
            raise TenantContextMissing("tenant-owned data written without a tenant context")
        # A new row may arrive without its tenant: the session's is the only valid one.
        if obj in session.new and getattr(obj, "tenant_id", None) is None:
            obj.tenant_id = tenant
        if obj.tenant_id != tenant:
            raise CrossTenantWrite("a row cannot be written for another tenant")


def set_pg_tenant(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    """``after_begin`` hook (PostgreSQL): bind the transaction to the tenant for RLS."""
    tenant = session_tenant(session) or ""
    connection.execute(
        text("SELECT set_config(:name, :value, true)"), {"name": PG_SETTING, "value": tenant}
    )


__all__ = [
    "CrossTenantWrite",
    "TenantContext",
    "TenantContextMissing",
    "session_tenant",
]
