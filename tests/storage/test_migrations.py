"""The migrations build exactly the schema the models describe, on both lanes."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import rempart
from rempart.storage import Base, Database
from rempart.storage.base import tenant_tables
from rempart.storage.migrate import current_heads, expected_heads, is_up_to_date


def _import_all_models() -> None:
    for info in pkgutil.walk_packages(rempart.__path__, "rempart."):
        if info.name.rsplit(".", 1)[-1] == "models" or info.name.endswith(".tenants"):
            importlib.import_module(info.name)


def test_schema_is_at_every_head(db: Database) -> None:
    assert current_heads(db.engine) == expected_heads()
    assert is_up_to_date(db.engine)


def test_migrated_schema_matches_the_models(db: Database) -> None:
    _import_all_models()
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Alembic's own bookkeeping table is not a model.
    diffs = [d for d in diffs if "alembic_version" not in repr(d)]
    assert diffs == []


def test_every_tenant_owned_table_references_the_tenant_registry() -> None:
    _import_all_models()
    tables = tenant_tables(Base.metadata)
    assert {"interactions", "transcript_segments", "machine_tokens", "audit_records"} <= {
        t.name for t in tables
    }
    for table in tables:
        refs = {fk.target_fullname for fk in table.c.tenant_id.foreign_keys}
        assert refs == {"tenants.id"}, table.name
        assert not table.c.tenant_id.nullable, table.name


@pytest.mark.postgres
def test_every_tenant_table_has_forced_rls_on_postgres(pg_lane: object) -> None:
    from sqlalchemy import text

    from tests.conftest import PostgresLane

    assert isinstance(pg_lane, PostgresLane)
    owner = Database.from_url(pg_lane.admin_url, pool_size=1)
    try:
        with owner.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity "
                    "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                    "WHERE a.attname = 'tenant_id' AND c.relkind = 'r'"
                )
            ).all()
    finally:
        owner.dispose()
    assert rows
    unprotected = [r.relname for r in rows if not (r.relrowsecurity and r.relforcerowsecurity)]
    assert unprotected == []
