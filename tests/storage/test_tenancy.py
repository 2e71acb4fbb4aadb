"""Tenant separation in the application: every lane (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from rempart.contact.models import Customer, Queue
from rempart.storage import CrossTenantWrite, Database, TenantContext, TenantContextMissing
from rempart.storage.base import new_id

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def add_customers(db: Database, ctx: TenantContext, *refs: str) -> list[str]:
    ids = []
    with db.tenant_session(ctx) as s:
        for ref in refs:
            c = Customer(id=new_id(), external_id=ref, created_at=NOW)
            s.add(c)
            ids.append(c.id)
    return ids


def test_orm_queries_see_only_the_sessions_tenant(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    add_customers(db, tenant_a, "A-1", "A-2")
    add_customers(db, tenant_b, "B-1")
    with db.tenant_session(tenant_a) as s:
        refs = sorted(r or "" for r in s.scalars(select(Customer.external_id)))
        count = s.scalar(select(func.count()).select_from(Customer))
    assert refs == ["A-1", "A-2"]
    assert count == 2


def test_get_by_id_of_another_tenant_finds_nothing(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    [b_id] = add_customers(db, tenant_b, "B-1")
    with db.tenant_session(tenant_a) as s:
        assert s.get(Customer, b_id) is None
    with db.tenant_session(tenant_b) as s:
        assert s.get(Customer, b_id) is not None


def test_new_rows_are_stamped_with_the_sessions_tenant(
    db: Database, tenant_a: TenantContext
) -> None:
    with db.tenant_session(tenant_a) as s:
        q = Queue(id=new_id(), name="Support")
        s.add(q)
        s.flush()
        assert q.tenant_id == tenant_a.tenant_id


def test_writing_a_row_for_another_tenant_is_refused(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    with pytest.raises(CrossTenantWrite), db.tenant_session(tenant_a) as s:
        s.add(Queue(id=new_id(), name="Sneaky", tenant_id=tenant_b.tenant_id))
    with db.tenant_session(tenant_b) as s:
        assert s.scalars(select(Queue)).all() == []


def test_moving_a_row_to_another_tenant_is_refused(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    [a_id] = add_customers(db, tenant_a, "A-1")
    with db.tenant_session(tenant_a) as s:
        c = s.get(Customer, a_id)
        assert c is not None
        c.tenant_id = tenant_b.tenant_id
        with pytest.raises(CrossTenantWrite):
            s.flush()
        s.rollback()
    with db.tenant_session(tenant_a) as s:
        assert s.get(Customer, a_id) is not None


def test_bulk_update_touches_only_the_sessions_tenant(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    add_customers(db, tenant_a, "A-1")
    add_customers(db, tenant_b, "B-1")
    with db.tenant_session(tenant_a) as s:
        s.execute(update(Customer).values(external_id="renamed"))
    with db.tenant_session(tenant_b) as s:
        assert list(s.scalars(select(Customer.external_id))) == ["B-1"]


def test_tenant_data_from_a_platform_session_is_refused(
    db: Database, tenant_a: TenantContext
) -> None:
    add_customers(db, tenant_a, "A-1")
    with pytest.raises(TenantContextMissing), db.platform_session() as s:
        s.scalars(select(Customer)).all()
    with pytest.raises(TenantContextMissing), db.platform_session() as s:
        s.add(Customer(id=new_id(), external_id="x", created_at=NOW, tenant_id=tenant_a.tenant_id))


def test_a_tenant_context_needs_a_tenant_id() -> None:
    with pytest.raises(ValueError, match="tenant id"):
        TenantContext("")  # type: ignore[arg-type]


def test_naive_datetimes_are_refused(db: Database, tenant_a: TenantContext) -> None:
    with pytest.raises(Exception, match="naive datetime"), db.tenant_session(tenant_a) as s:
        s.add(Customer(id=new_id(), external_id="x", created_at=datetime(2026, 1, 1)))


def test_timestamps_come_back_aware_in_utc(db: Database, tenant_a: TenantContext) -> None:
    [cid] = add_customers(db, tenant_a, "A-1")
    with db.tenant_session(tenant_a) as s:
        c = s.get(Customer, cid)
        assert c is not None
        assert c.created_at == NOW
        assert c.created_at.tzinfo is not None
