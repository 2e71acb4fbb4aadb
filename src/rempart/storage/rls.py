"""PostgreSQL row-level security: the second wall between tenants.

Every table with a ``tenant_id`` column gets ``ENABLE`` and ``FORCE ROW LEVEL
SECURITY`` and one policy, for reads and writes alike::

    tenant_id = NULLIF(current_setting('rempart.tenant_id', true), '')

With no tenant set the setting is empty, ``NULLIF`` makes it NULL and the
comparison is never true: a connection that forgot its tenant sees nothing
and can write nothing. The application connects as a member of
``rempart_app``, a role that owns no table and lacks ``BYPASSRLS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import Connection, text

APP_ROLE = "rempart_app"
POLICY = "tenant_isolation"
CURRENT_TENANT = "NULLIF(current_setting('rempart.tenant_id', true), '')"
_CREATE_ROLE = (
    "DO $$ BEGIN "
    "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rempart_app') THEN "
    "CREATE ROLE rempart_app NOLOGIN NOSUPERUSER NOBYPASSRLS; "
    "END IF; END $$"
)
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"unsafe SQL identifier: {name!r}")
    return name


def create_app_role(conn: Connection) -> None:
    """Create the group role the application's login role belongs to (idempotent)."""
    conn.execute(text(_CREATE_ROLE))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}"))
    # Readiness checks compare the schema version; the app may read it, not change it.
    conn.execute(text(f"GRANT SELECT ON alembic_version TO {APP_ROLE}"))


def protect_tables(conn: Connection, tables: Iterable[str]) -> None:
    """Grant the app role DML on tables and put tenant-owned ones under RLS."""
    for table in tables:
        t = _ident(table)
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {APP_ROLE}"))


def enable_tenant_rls(conn: Connection, tables: Iterable[str]) -> None:
    for table in tables:
        t = _ident(table)
        conn.execute(text(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"))
        conn.execute(text(f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY"))
        conn.execute(text(f"DROP POLICY IF EXISTS {POLICY} ON {t}"))
        conn.execute(
            text(
                f"CREATE POLICY {POLICY} ON {t} "
                f"USING (tenant_id = {CURRENT_TENANT}) "
                f"WITH CHECK (tenant_id = {CURRENT_TENANT})"
            )
        )


def posture_problems(conn: Connection) -> list[str]:
    """What makes the current connection's role able to escape RLS, if anything."""
    problems: list[str] = []
    row = conn.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    if row.rolsuper:
        problems.append("the application role is a superuser (bypasses row-level security)")
    if row.rolbypassrls:
        problems.append("the application role has BYPASSRLS")
    owned = (
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "AND pg_get_userbyid(c.relowner) = current_user"
            )
        )
        .scalars()
        .all()
    )
    if owned:
        problems.append(f"the application role owns tables: {', '.join(sorted(owned))}")
    unprotected = (
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "AND NOT (c.relrowsecurity AND c.relforcerowsecurity)"
            )
        )
        .scalars()
        .all()
    )
    if unprotected:
        problems.append(f"tenant tables without forced RLS: {', '.join(sorted(unprotected))}")
    return problems


__all__ = [
    "APP_ROLE",
    "create_app_role",
    "enable_tenant_rls",
    "posture_problems",
    "protect_tables",
]
