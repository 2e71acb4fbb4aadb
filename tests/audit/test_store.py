"""The stored log: transactional appends, contiguous sequence numbers, one tree per log."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from rempart.audit import append, append_batch, append_platform, query
from rempart.audit.errors import LogStateError
from rempart.audit.merkle import (
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_root,
)
from rempart.audit.models import AuditNode, AuditRecord, PlatformAuditRecord
from rempart.audit.store import STORED_MIN_LEVEL, StoreNodes, compact_of, log_of, read_head
from rempart.errors import NotFound, ValidationFailed
from rempart.storage import Base, Database, TenantContext
from rempart.types import TenantId
from tests.audit.conftest import event, fill


def _entries(db: Database, tenant: TenantContext) -> list[AuditRecord]:
    with db.tenant_session(tenant) as session:
        stmt = select(AuditRecord).where(AuditRecord.seq.is_not(None)).order_by(AuditRecord.seq)
        return list(session.scalars(stmt))


def test_appends_get_contiguous_sequence_numbers_and_the_head_root_is_the_tree_root(
    db: Database, tenant_a: TenantContext
) -> None:
    with db.tenant_session(tenant_a) as session:
        first = append(session, event(tenant_a, 0))
        assert first.seq == 0
    fill(db, tenant_a, 20, start=1)
    rows = _entries(db, tenant_a)
    assert [r.seq for r in rows] == list(range(21))
    expected = CompactRange.from_leaves(leaf_hash((r.entry or "").encode()) for r in rows)
    with db.tenant_session(tenant_a) as session:
        log = log_of(session)
        head = read_head(session, log)
        assert head is not None
        assert head.size == 21
        assert bytes(head.root) == expected.root()
        assert compact_of(head).hashes == expected.hashes
        # Interior nodes kept for proofs give the same root for every prefix.
        for size in (1, 2, 7, 8, 13, 21):
            prefix = CompactRange.from_leaves(
                leaf_hash((r.entry or "").encode()) for r in rows[:size]
            )
            assert tree_root(StoreNodes(session, log), size) == prefix.root()


def test_only_nodes_of_level_four_and_up_are_stored_and_proofs_match_the_full_tree(
    db: Database, tenant_a: TenantContext
) -> None:
    fill(db, tenant_a, 70)
    rows = _entries(db, tenant_a)
    full = MemoryTree()
    for r in rows:
        full.append(leaf_hash((r.entry or "").encode()))
    with db.tenant_session(tenant_a) as session:
        stored = session.execute(select(AuditNode.level, AuditNode.idx)).all()
        # 70 leaves complete four level-4 subtrees, two of level 5 and one of level 6.
        assert sorted(stored) == [(4, 0), (4, 1), (4, 2), (4, 3), (5, 0), (5, 1), (6, 0)]
        assert STORED_MIN_LEVEL == 4
        nodes = StoreNodes(session, log_of(session))
        for size in (1, 5, 16, 17, 33, 64, 70):
            assert tree_root(nodes, size) == tree_root(full, size)
            for index in range(size):
                assert inclusion_proof(nodes, index, size) == inclusion_proof(full, index, size)
            for old in range(1, size + 1):
                assert consistency_proof(nodes, old, size) == consistency_proof(full, old, size)


def test_an_act_that_rolls_back_leaves_no_entry_and_no_tree_change(
    db: Database, tenant_a: TenantContext
) -> None:
    fill(db, tenant_a, 3)

    def failing_act() -> None:
        with db.tenant_session(tenant_a) as session:
            append(session, event(tenant_a, 3))
            raise RuntimeError("the audited act failed")

    with pytest.raises(RuntimeError):
        failing_act()
    fill(db, tenant_a, 1, start=4)
    assert [r.seq for r in _entries(db, tenant_a)] == [0, 1, 2, 3]
    assert [r.resource_id for r in _entries(db, tenant_a)][-1] == "res-4"


def test_each_tenant_has_its_own_log(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    fill(db, tenant_a, 4)
    fill(db, tenant_b, 2)
    a, b = _entries(db, tenant_a), _entries(db, tenant_b)
    assert [r.seq for r in a] == [0, 1, 2, 3]
    assert [r.seq for r in b] == [0, 1]
    assert all(str(tenant_a.tenant_id) in (r.entry or "") for r in a)
    assert not any(str(tenant_a.tenant_id) in (r.entry or "") for r in b)


def test_an_event_of_another_tenant_is_refused(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    with pytest.raises(ValidationFailed), db.tenant_session(tenant_a) as session:
        append(session, event(tenant_b, 0))
    with pytest.raises(ValidationFailed), db.tenant_session(tenant_a) as session:
        append_batch(session, [event(tenant_a, 0), event(tenant_b, 1)])
    assert _entries(db, tenant_a) == []


def test_the_platform_log_is_separate_and_needs_a_platform_session(
    db: Database, tenant_a: TenantContext
) -> None:
    with db.platform_session() as session:
        first = append_platform(session, event(TenantId(""), 0, action="tenant.create"))
        second = append_platform(session, event(tenant_a, 1, action="tenant.update"))
        assert (first.seq, second.seq) == (0, 1)
        rows = list(session.scalars(select(PlatformAuditRecord).order_by(PlatformAuditRecord.seq)))
        assert "rempart/audit/platform" in (rows[0].entry or "")
        assert rows[1].tenant_uid == str(tenant_a.tenant_id)
    with pytest.raises(ValidationFailed), db.tenant_session(tenant_a) as session:
        append_platform(session, event(tenant_a, 0))
    assert _entries(db, tenant_a) == []


def test_query_filters_the_tenant_log_newest_first(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    fill(db, tenant_a, 5)
    fill(db, tenant_b, 5)
    with db.tenant_session(tenant_a) as session:
        append(session, event(tenant_a, 9, action="interaction.create", actor="bot"))
        everything = query(session)
        assert len(everything) == 6
        assert everything[0].action == "interaction.create"
        assert {e.tenant_id for e in everything} == {tenant_a.tenant_id}
        assert [e.actor.id for e in query(session, actor_id="bot")] == ["bot"]
        assert [e.resource_id for e in query(session, resource_id="res-2")] == ["res-2"]


def test_a_corrupted_compact_range_is_detected(db: Database, tenant_a: TenantContext) -> None:
    fill(db, tenant_a, 3)
    with db.tenant_session(tenant_a) as session:
        head = read_head(session, log_of(session))
        assert head is not None
        head.compact = ["zz"]
    with pytest.raises(LogStateError), db.tenant_session(tenant_a) as session:
        append(session, event(tenant_a, 3))


def test_proof_of_an_unknown_entry_is_not_found(db: Database, tenant_a: TenantContext) -> None:
    from rempart.audit import prove_inclusion

    with pytest.raises(NotFound), db.tenant_session(tenant_a) as session:
        prove_inclusion(session, uid="nope")


@pytest.mark.postgres
def test_concurrent_appends_never_fork_the_sequence(db: Database, tenant_a: TenantContext) -> None:
    if not db.is_postgres:
        pytest.skip("SQLite serialises writers on its file lock; concurrency is PostgreSQL's case")
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(10):
                with db.tenant_session(tenant_a) as session:
                    append(session, event(tenant_a, k * 100 + i))
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = _entries(db, tenant_a)
    assert [r.seq for r in rows] == list(range(40))
    with db.tenant_session(tenant_a) as session:
        head = read_head(session, log_of(session))
        assert head is not None
        expected = CompactRange.from_leaves(leaf_hash((r.entry or "").encode()) for r in rows)
        assert bytes(head.root) == expected.root()
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 40


def test_models_match_the_migrated_schema(db: Database) -> None:
    insp = inspect(db.engine)
    audit_tables = [t for t in Base.metadata.sorted_tables if t.name.startswith("audit_")]
    assert len(audit_tables) == 8
    for table in audit_tables:
        columns = {c["name"]: c for c in insp.get_columns(table.name)}
        assert set(columns) == set(table.columns.keys()), table.name
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, (table.name, column.name)
        pk = insp.get_pk_constraint(table.name)["constrained_columns"]
        assert sorted(pk) == sorted(c.name for c in table.primary_key.columns), table.name
        uniques = {
            tuple(sorted(u["column_names"])) for u in insp.get_unique_constraints(table.name)
        }
        for constraint in table.constraints:
            if constraint.__class__.__name__ == "UniqueConstraint":
                cols = tuple(sorted(c.name for c in constraint.columns))  # type: ignore[attr-defined]
                assert cols in uniques, (table.name, cols)


@pytest.mark.postgres
def test_row_level_security_hides_other_tenants_audit_rows_even_from_raw_sql(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    if not db.is_postgres:
        pytest.skip("row-level security is PostgreSQL's second wall")
    from sqlalchemy import text

    from rempart.audit import issue_checkpoint
    from rempart.audit.note import Ed25519Signer

    fill(db, tenant_a, 16)  # 16 entries complete a stored (level-4) node
    with db.tenant_session(tenant_a) as session:
        issue_checkpoint(session, Ed25519Signer.generate("k"))
    tables = ("audit_records", "audit_nodes", "audit_log_heads", "audit_checkpoints")
    query = "SELECT count(*) FROM {} WHERE tenant_id = :t"
    with db.tenant_session(tenant_a) as session:
        for table in tables:  # the query does find the rows, for their owner
            owned = session.execute(text(query.format(table)), {"t": str(tenant_a.tenant_id)})
            assert owned.scalar_one() > 0, table
    with db.tenant_session(tenant_b) as session:
        for table in tables:
            seen = session.execute(text(query.format(table)), {"t": str(tenant_a.tenant_id)})
            assert seen.scalar_one() == 0, table


def test_the_audit_migration_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    from alembic import command

    from rempart.storage.migrate import alembic_config, upgrade

    db = Database.from_url(f"sqlite:///{tmp_path / 'dg.db'}")
    try:
        upgrade(db.engine)
        cfg = alembic_config()
        with db.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, "audit@0001_foundation")
        insp = inspect(db.engine)
        assert [t for t in insp.get_table_names() if t.startswith("audit")] == ["audit_records"]
        assert "seq" not in {c["name"] for c in insp.get_columns("audit_records")}
        upgrade(db.engine)
        assert "audit_nodes" in inspect(db.engine).get_table_names()
    finally:
        db.dispose()


def test_overlong_fields_are_clipped_in_columns_but_kept_whole_in_the_entry(
    db: Database, tenant_a: TenantContext
) -> None:
    long_id = "r" * 500
    with db.tenant_session(tenant_a) as session:
        record = append(session, event(tenant_a, 0, resource_id=long_id, request_id="q" * 100))
    assert record.resource_id == long_id[:200]
    assert long_id in (record.entry or "")
    assert ("q" * 100) in (record.entry or "")
