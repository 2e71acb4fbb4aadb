"""Laws of the stored log: any sequence of batches gives the RFC tree, and its proofs verify."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from rempart.audit import append_batch
from rempart.audit.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from rempart.audit.models import AuditRecord
from rempart.audit.store import StoreNodes, log_of
from rempart.storage import Database, TenantContext
from rempart.storage.migrate import upgrade
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId
from tests.audit.conftest import event


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("audit-props") / "rempart.db"
    db = Database.from_url(f"sqlite:///{path}")
    upgrade(db.engine)
    try:
        yield db
    finally:
        db.dispose()


@settings(max_examples=25, deadline=None)
@given(
    batches=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=6), data=st.data()
)
def test_batches_build_the_rfc_tree_and_stored_proofs_verify(
    sqlite_db: Database, batches: list[int], data: st.DataObject
) -> None:
    with sqlite_db.platform_session() as session:
        slug = f"p-{uuid.uuid4().hex[:12]}"
        tenant = TenantContext(TenantId(create_tenant(session, slug, slug).id))
    done = 0
    for n in batches:
        with sqlite_db.tenant_session(tenant) as session:
            append_batch(session, [event(tenant, done + i) for i in range(n)])
        done += n
    with sqlite_db.tenant_session(tenant) as session:
        stmt = (
            select(AuditRecord.entry).where(AuditRecord.seq.is_not(None)).order_by(AuditRecord.seq)
        )
        leaves = [leaf_hash((e or "").encode()) for e in session.scalars(stmt)]
        assert len(leaves) == done
        nodes = StoreNodes(session, log_of(session))
        size = data.draw(st.integers(min_value=1, max_value=done))
        root = CompactRange.from_leaves(leaves[:size]).root()
        assert tree_root(nodes, size) == root
        index = data.draw(st.integers(min_value=0, max_value=size - 1))
        verify_inclusion(index, size, leaves[index], inclusion_proof(nodes, index, size), root)
        old = data.draw(st.integers(min_value=1, max_value=size))
        old_root = CompactRange.from_leaves(leaves[:old]).root()
        verify_consistency(old, size, consistency_proof(nodes, old, size), old_root, root)
