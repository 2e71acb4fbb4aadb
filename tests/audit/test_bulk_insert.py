"""The driver-level bulk insert writes the same rows the ORM reads back, on both engines."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite

from rempart.audit import append, append_batch, append_platform
from rempart.audit.masking import SECRET_MARK
from rempart.audit.models import AuditNode, AuditRecord, PlatformAuditNode, PlatformAuditRecord
from rempart.audit.store import sqlite_utc_text
from rempart.storage import Database, TenantContext
from rempart.types import TenantId
from tests.audit.conftest import T0, event


def test_rows_read_back_with_masked_details_times_and_nodes(
    db: Database, tenant_a: TenantContext
) -> None:
    secret = {"api_key": "sk-123", "fields": ["a", "b"], "n": 7}
    with db.tenant_session(tenant_a) as session:
        appended = append_batch(
            session,
            [event(tenant_a, i, details=secret if i % 2 else {}) for i in range(40)],
        )
    with db.tenant_session(tenant_a) as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
        stored_nodes = session.scalar(select(func.count()).select_from(AuditNode))
    assert [r.seq for r in rows] == list(range(40))
    assert [r.id for r in rows] == [a.uid for a in appended]
    assert [r.leaf_hash for r in rows] == [a.leaf_hash for a in appended]
    for i, row in enumerate(rows):
        expected = {"api_key": SECRET_MARK, "fields": ["a", "b"], "n": 7} if i % 2 else {}
        assert row.details == expected
        entry = json.loads(row.entry or "")
        assert entry["metadata"]["uid"] == row.id
        assert entry.get("unmapped", {}).get("details", {}) == expected
        assert row.time == event(tenant_a, i).time
        assert row.time.tzinfo is not None
        assert row.tenant_id == str(tenant_a.tenant_id)
    # Perfect subtrees of level >= 4 among 40 leaves: 16-leaf ones at 0 and 16, 32 at 0.
    assert stored_nodes == 3


def test_append_returns_the_record_it_wrote(db: Database, tenant_a: TenantContext) -> None:
    with db.tenant_session(tenant_a) as session:
        record = append(session, event(tenant_a, 0, details={"password": "x", "k": "v"}))
    assert record.details == {"password": SECRET_MARK, "k": "v"}
    assert record.time == T0
    with db.tenant_session(tenant_a) as session:
        again = session.scalars(select(AuditRecord).where(AuditRecord.id == record.id)).one()
    assert (again.details, again.seq, again.entry) == (record.details, record.seq, record.entry)


def test_the_platform_log_rows_carry_the_event_tenant(
    db: Database, tenant_a: TenantContext
) -> None:
    # One transaction, rolled back: the platform log is shared by the tests on a lane.
    with db.platform_session() as session:
        for i in range(17):
            who = tenant_a.tenant_id if i % 2 else TenantId("")
            append_platform(session, event(who, i, action="tenant.update", details={"i": i}))
        rows = list(session.scalars(select(PlatformAuditRecord).order_by(PlatformAuditRecord.seq)))
        tenants = [r.tenant_uid for r in rows[-17:]]
        details = [r.details for r in rows[-17:]]
        nodes = session.scalar(select(func.count()).select_from(PlatformAuditNode))
        session.rollback()
    assert tenants[:3] == [None, str(tenant_a.tenant_id), None]
    assert details == [{"i": i} for i in range(17)]
    assert nodes is not None
    assert nodes >= 1


@settings(max_examples=300, deadline=None)
@given(
    value=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
    )
)
def test_the_sqlite_time_text_is_what_the_column_writes(value: datetime) -> None:
    column = AuditRecord.__table__.c.time
    process = column.type._cached_bind_processor(sqlite.dialect())
    assert process is not None
    assert sqlite_utc_text(value) == process(value)


def test_the_sqlite_time_text_refuses_naive_times_like_the_column() -> None:
    with pytest.raises(ValueError, match="naive datetime refused"):
        sqlite_utc_text(datetime(2026, 1, 1))
