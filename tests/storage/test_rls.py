"""PostgreSQL row-level security: the second wall, tested against a real server.

These tests deliberately bypass the ORM's tenant filter with raw SQL, as a
careless query would, and check that the database itself still separates
tenants.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rempart.storage import Database, TenantContext
from rempart.storage.rls import posture_problems
from tests.conftest import PostgresLane, make_tenant

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_db(pg_lane: PostgresLane) -> Iterator[Database]:
    # One pooled connection: every session reuses it, which is what the carry-over test needs.
    db = Database.from_url(pg_lane.app_url, pool_size=1)
    try:
        yield db
    finally:
        db.dispose()


def _insert_customer(db: Database, ctx: TenantContext, ref: str) -> None:
    with db.tenant_session(ctx) as s:
        s.execute(
            text(
                "INSERT INTO customers (id, tenant_id, external_id, created_at) "
                "VALUES (gen_random_uuid()::text, :t, :r, now())"
            ),
            {"t": ctx.tenant_id, "r": ref},
        )


def test_raw_query_without_tenant_filter_sees_only_own_rows(app_db: Database) -> None:
    a, b = make_tenant(app_db), make_tenant(app_db)
    _insert_customer(app_db, a, "A-1")
    _insert_customer(app_db, b, "B-1")
    with app_db.tenant_session(a) as s:
        rows = s.execute(text("SELECT external_id, tenant_id FROM customers")).all()
    assert [tuple(r) for r in rows] == [("A-1", a.tenant_id)]


def test_raw_insert_for_another_tenant_is_refused_by_the_database(app_db: Database) -> None:
    a, b = make_tenant(app_db), make_tenant(app_db)
    with pytest.raises(DBAPIError, match="row-level security"), app_db.tenant_session(a) as s:
        s.execute(
            text(
                "INSERT INTO customers (id, tenant_id, external_id, created_at) "
                "VALUES (gen_random_uuid()::text, :t, 'x', now())"
            ),
            {"t": b.tenant_id},
        )
    with app_db.tenant_session(b) as s:
        assert s.execute(text("SELECT count(*) FROM customers")).scalar_one() == 0


def test_raw_update_cannot_move_a_row_to_another_tenant(app_db: Database) -> None:
    a, b = make_tenant(app_db), make_tenant(app_db)
    _insert_customer(app_db, a, "A-1")
    with pytest.raises(DBAPIError, match="row-level security"), app_db.tenant_session(a) as s:
        s.execute(text("UPDATE customers SET tenant_id = :b"), {"b": b.tenant_id})


def test_pooled_connection_does_not_carry_the_tenant_into_the_next_use(app_db: Database) -> None:
    a = make_tenant(app_db)
    _insert_customer(app_db, a, "A-1")
    with app_db.tenant_session(a) as s:
        assert s.execute(text("SELECT count(*) FROM customers")).scalar_one() == 1
        first_pid = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
    # Same pooled connection, used without a tenant: the setting is gone.
    with app_db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first_pid
        setting = conn.execute(
            text("SELECT current_setting('rempart.tenant_id', true)")
        ).scalar_one()
        seen = conn.execute(text("SELECT count(*) FROM customers")).scalar_one()
    assert setting in (None, "")
    assert seen == 0
    with app_db.platform_session() as s:
        assert s.execute(text("SELECT count(*) FROM customers")).scalar_one() == 0


def test_tenant_setting_of_a_failed_transaction_does_not_leak(app_db: Database) -> None:
    a = make_tenant(app_db)
    _insert_customer(app_db, a, "A-1")
    with pytest.raises(RuntimeError), app_db.tenant_session(a):
        raise RuntimeError("request failed")
    with app_db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers")).scalar_one() == 0


def test_app_role_cannot_escape_rls(app_db: Database) -> None:
    with app_db.engine.connect() as conn:
        assert posture_problems(conn) == []


def test_posture_check_flags_the_table_owner(pg_lane: PostgresLane) -> None:
    owner = Database.from_url(pg_lane.admin_url, pool_size=1)
    try:
        with owner.engine.connect() as conn:
            problems = posture_problems(conn)
    finally:
        owner.dispose()
    assert any("owns tables" in p for p in problems)


def test_even_the_table_owner_is_bound_by_forced_rls(pg_lane: PostgresLane) -> None:
    owner = Database.from_url(pg_lane.admin_url, pool_size=1)
    try:
        a = make_tenant(owner)
        _insert_customer(owner, a, "A-1")
        with owner.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM customers")).scalar_one() == 0
    finally:
        owner.dispose()
