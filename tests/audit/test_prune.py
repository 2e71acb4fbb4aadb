"""Retention of the audit log: old entries lose their content, the tree and proofs stay."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from rempart.audit import export_log, issue_checkpoint, prove_consistency, verify_lines
from rempart.audit.models import AuditRecord
from rempart.audit.note import Ed25519Signer, NoteVerifier
from rempart.audit.proofs import prove_inclusion
from rempart.audit.prune import PRUNED_ACTOR, count_prunable, prune_entries
from rempart.errors import NotFound
from rempart.storage import Database, TenantContext
from tests.audit.conftest import T0, fill


def _export(db: Database, tenant: TenantContext) -> list[str]:
    out = io.StringIO()
    with db.tenant_session(tenant) as session:
        export_log(session, out)
    return out.getvalue().splitlines(keepends=True)


def _rows(db: Database, tenant: TenantContext) -> list[AuditRecord]:
    with db.tenant_session(tenant) as s:
        return list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def _age(db: Database, tenant: TenantContext, first: int, days: int) -> None:
    """Make the first ``first`` entries ``days`` old (their content is not touched)."""
    with db.tenant_session(tenant) as s:
        for row in s.scalars(select(AuditRecord).where(AuditRecord.seq < first)):
            row.time = T0 - timedelta(days=days)


@pytest.fixture
def trusted(db: Database, tenant_a: TenantContext, signer: Ed25519Signer) -> str:
    fill(db, tenant_a, 6)
    with db.tenant_session(tenant_a) as s:
        issue_checkpoint(s, signer, clock=lambda: T0)
    fill(db, tenant_a, 4, start=6)
    _age(db, tenant_a, 6, 400)
    with db.tenant_session(tenant_a) as s:
        return issue_checkpoint(s, signer, clock=lambda: T0).note


def test_pruning_drops_content_keeps_the_place_and_the_log_still_verifies(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, trusted: str
) -> None:
    cutoff = T0 - timedelta(days=365)
    with db.tenant_session(tenant_a) as s:
        assert count_prunable(s, before=cutoff) == 6
        assert prune_entries(s, before=cutoff, limit=4) == 4  # in batches
    with db.tenant_session(tenant_a) as s:
        assert prune_entries(s, before=cutoff, limit=4) == 2
        assert prune_entries(s, before=cutoff, limit=4) == 0  # idempotent
    rows = _rows(db, tenant_a)
    old, recent = rows[:6], rows[6:]
    for row in old:
        assert row.entry is None
        assert row.details == {}
        assert row.actor_id == PRUNED_ACTOR
        assert row.resource_id is None
        assert row.leaf_hash is not None  # its place in the tree
    assert all(r.entry is not None and r.actor_id == "agent-1" for r in recent)
    lines = _export(db, tenant_a)
    assert sum('"type":"pruned"' in line for line in lines) == 6
    assert not any("agent-1" in line for line in lines[:8])
    report = verify_lines(lines, trusted, verifier)
    assert report.ok, report.problem
    assert (report.entries, report.pruned) == (10, 6)
    with db.tenant_session(tenant_a) as s:
        # Consistency between the two checkpoints still proves; a pruned entry has no
        # inclusion proof of its content any more, a recent one still has.
        prove_consistency(s, 6, 10)
        with pytest.raises(NotFound, match="pruned"):
            prove_inclusion(s, seq=2)
        assert prove_inclusion(s, seq=8).index == 8


def test_a_changed_pruned_hash_is_caught_by_the_signed_roots(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, trusted: str
) -> None:
    with db.tenant_session(tenant_a) as s:
        prune_entries(s, before=T0 - timedelta(days=365), limit=100)
    lines = _export(db, tenant_a)
    at = next(i for i, line in enumerate(lines) if '"type":"pruned","index":3' in line)
    obj = json.loads(lines[at])
    obj["leaf_hash"] = base64.b64encode(b"\x01" * 32).decode()
    lines[at] = json.dumps(obj, separators=(",", ":")) + "\n"
    report = verify_lines(lines, trusted, verifier)
    assert not report.ok
    assert report.problem is not None
    assert report.problem.kind == "root-mismatch", str(report.problem)
    # A pruned line with a hash of the wrong size is malformed, not accepted.
    obj["leaf_hash"] = base64.b64encode(b"\x01" * 31).decode()
    lines[at] = json.dumps(obj, separators=(",", ":")) + "\n"
    broken = verify_lines(lines, trusted, verifier)
    assert broken.problem is not None
    assert broken.problem.kind == "malformed"


def test_pruning_touches_one_tenant_only(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    fill(db, tenant_a, 3)
    fill(db, tenant_b, 3)
    _age(db, tenant_a, 3, 400)
    _age(db, tenant_b, 3, 400)
    with db.tenant_session(tenant_a) as s:
        assert prune_entries(s, before=T0, limit=100) == 3
    assert all(r.entry is not None for r in _rows(db, tenant_b))
