"""The driver-level bulk insert writes the same rows the ORM reads back, on both engines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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


_AWKWARD = ["", "\x1f", "\x1e", "a\x1fb", "x\x1e", "plain", "\u00e9t\u00e9", "'\"{},\\"]


@pytest.mark.parametrize("size", [1, 2, 9])
def test_awkward_values_come_back_exactly(db: Database, tenant_a: TenantContext, size: int) -> None:
    """Separators, empty texts, quotes and NULLs survive the batch insert (both engines).

    On PostgreSQL a column holding a separator goes as an array instead of
    joined text; a single empty text must not become an empty array.
    """
    events = [
        event(
            tenant_a,
            i,
            actor=_AWKWARD[i % len(_AWKWARD)],
            resource_id=None if i % 3 == 1 else _AWKWARD[(i + 3) % len(_AWKWARD)],
            reason=_AWKWARD[(i + 5) % len(_AWKWARD)],
            outcome="failure",
            request_id="" if i % 2 else None,
        )
        for i in range(size)
    ]
    with db.tenant_session(tenant_a) as session:
        appended = append_batch(session, events)
    with db.tenant_session(tenant_a) as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    assert [r.id for r in rows] == [a.uid for a in appended]
    assert [r.leaf_hash for r in rows] == [a.leaf_hash for a in appended]
    for row, ev in zip(rows, events, strict=True):
        assert (row.actor_id, row.resource_id, row.reason) == (
            ev.actor.id,
            ev.resource_id,
            ev.reason,
        )
        assert row.request_id == ev.request_id
        assert row.time == ev.time


def test_a_column_is_joined_only_when_no_value_holds_a_separator() -> None:
    from rempart.audit.store import _pg_column

    assert _pg_column(["a", "", None, "b"]) == "\x1fa\x1f\x1f\x1e\x1fb"
    assert _pg_column([""]) == "\x1f"
    assert _pg_column([1, None, 3]) == "\x1f1\x1f\x1e\x1f3"
    assert _pg_column([b"\x00\xff"]) == "\x1f\\x00ff"
    assert _pg_column(["a\x1fb", "c"]) is None
    assert _pg_column(["\x1e", "c"]) is None
    assert _pg_column([1.5]) is None  # no text form here: sent as an array
    assert _pg_column(["a", 1]) is None
    assert _pg_column([1, True]) is None  # a bool is not written as an integer
    assert _pg_column([b"\x01", None]) is None
    assert _pg_column([None, None]) == "\x1f\x1e\x1f\x1e"
    moment = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert _pg_column([moment]) == "\x1f2026-01-02T03:04:05.000006+00:00"


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


@pytest.mark.postgres
def test_row_level_security_refuses_a_batch_holding_another_tenants_row(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    """The array insert (one ``INSERT ... SELECT FROM unnest``) is checked row by row."""
    if not db.is_postgres:
        pytest.skip("row-level security is PostgreSQL's second wall")
    from sqlalchemy import Table
    from sqlalchemy.exc import ProgrammingError

    from rempart.audit.store import ENTRY_COLUMNS, NODE_COLUMNS, bulk_insert

    records, nodes = AuditRecord.__table__, AuditNode.__table__
    assert isinstance(records, Table)
    assert isinstance(nodes, Table)

    with db.tenant_session(tenant_a) as session:
        append_batch(session, [event(tenant_a, i) for i in range(3)])
        row = session.execute(
            select(*(AuditRecord.__table__.c[c] for c in ENTRY_COLUMNS)).limit(1)
        ).one()
    columns = (*ENTRY_COLUMNS, "tenant_id")

    def rows(*tenants: str) -> list[tuple[object, ...]]:
        out = []
        for k, tenant in enumerate(tenants):
            values = dict(zip(ENTRY_COLUMNS, row, strict=True))
            values.update(id=f"rls-{k}-{tenant[:8]}", seq=10_000 + k, details="{}")
            out.append((*(values[c] for c in ENTRY_COLUMNS), tenant))
        return out

    a, b = str(tenant_a.tenant_id), str(tenant_b.tenant_id)
    refused = pytest.raises(ProgrammingError, match="row-level security")
    for batch in (rows(b), rows(a, b, a)):
        with refused, db.tenant_session(tenant_a) as session:
            bulk_insert(session, records, columns, batch)
    with refused, db.tenant_session(tenant_a) as session:
        bulk_insert(session, nodes, NODE_COLUMNS, [(9, 0, b"\x01" * 32, b)])
    with db.tenant_session(tenant_a) as session:  # nothing of either batch went in
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 3
        bulk_insert(session, records, columns, rows(a))  # its own row is accepted
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 4
        session.rollback()
