"""Signed checkpoints: issued on demand and when due, sizes only grow, forks refused."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from rempart.audit import (
    SignedCheckpoint,
    issue_checkpoint,
    issue_due_checkpoints,
    latest_checkpoint,
    list_checkpoints,
    load_or_create_signer,
    load_signer,
    prove_consistency,
    prove_inclusion,
)
from rempart.audit.errors import InvalidProof, LogStateError
from rempart.audit.keys import KEY_FILE, PUBLIC_KEY_FILE
from rempart.audit.merkle import EMPTY_ROOT
from rempart.audit.models import AuditRecord
from rempart.audit.note import Ed25519Signer, NoteVerifier, verifier_key
from rempart.audit.store import log_of, read_head
from rempart.errors import ConfigurationError, Conflict
from rempart.storage import Database, TenantContext
from tests.audit.conftest import T0, fill, rebuild_tree


class ListAnchor:
    def __init__(self) -> None:
        self.published: list[SignedCheckpoint] = []

    def publish(self, checkpoint: SignedCheckpoint) -> None:
        self.published.append(checkpoint)


def _issue(db: Database, tenant: TenantContext, signer: Ed25519Signer) -> SignedCheckpoint:
    with db.tenant_session(tenant) as session:
        return issue_checkpoint(session, signer, clock=lambda: T0)


def test_a_checkpoint_signs_the_tree_head(
    db: Database, tenant_a: TenantContext, signer: Ed25519Signer, verifier: NoteVerifier
) -> None:
    fill(db, tenant_a, 5)
    anchor = ListAnchor()
    with db.tenant_session(tenant_a) as session:
        cp = issue_checkpoint(session, signer, anchors=[anchor])
        head = read_head(session, log_of(session))
        assert head is not None
    parsed = verifier.verify(cp.note)
    assert (parsed.origin, parsed.size, parsed.root) == (cp.origin, 5, bytes(head.root))
    assert parsed.origin == f"rempart/audit/tenant/{tenant_a.tenant_id}"
    assert anchor.published == [cp]


def test_no_new_checkpoint_without_new_entries_and_sizes_only_grow(
    db: Database, tenant_a: TenantContext, signer: Ed25519Signer
) -> None:
    empty = _issue(db, tenant_a, signer)
    assert empty.size == 0
    fill(db, tenant_a, 3)
    first = _issue(db, tenant_a, signer)
    assert _issue(db, tenant_a, signer) == first
    fill(db, tenant_a, 4, start=3)
    second = _issue(db, tenant_a, signer)
    with db.tenant_session(tenant_a) as session:
        assert [c.size for c in list_checkpoints(session)] == [0, 3, 7]
        assert latest_checkpoint(session) == second


def test_a_log_that_shrank_is_not_signed(
    db: Database, tenant_a: TenantContext, signer: Ed25519Signer
) -> None:
    fill(db, tenant_a, 6)
    _issue(db, tenant_a, signer)
    with db.tenant_session(tenant_a) as session:
        head = read_head(session, log_of(session))
        assert head is not None
        head.size, head.compact, head.root = 0, [], EMPTY_ROOT
    with pytest.raises(LogStateError, match="shrank"):
        _issue(db, tenant_a, signer)


def test_rewritten_history_is_not_signed(
    db: Database, tenant_a: TenantContext, signer: Ed25519Signer
) -> None:
    fill(db, tenant_a, 4)
    _issue(db, tenant_a, signer)
    fill(db, tenant_a, 4, start=4)
    # Someone with database access rewrites entry 1 and recomputes the whole tree.
    with db.tenant_session(tenant_a) as session:
        record = session.scalars(select(AuditRecord).where(AuditRecord.seq == 1)).one()
        record.entry = (record.entry or "").replace("res-1", "res-9")
    rebuild_tree(db, tenant_a)
    with pytest.raises(LogStateError, match="does not extend"):
        _issue(db, tenant_a, signer)
    # The scheduler reports the refusal (an alert) and carries on with other logs.
    run = issue_due_checkpoints(db, signer, interval=timedelta(0), clock=lambda: T0)
    assert str(tenant_a.tenant_id) in [log for log, _err in run.refused]


def test_checkpoints_are_issued_when_due(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext, signer: Ed25519Signer
) -> None:
    now = [T0]
    fill(db, tenant_a, 2)
    fill(db, tenant_b, 1)
    issued = issue_due_checkpoints(
        db, signer, interval=timedelta(minutes=5), clock=lambda: now[0]
    ).issued
    origins = {c.origin for c in issued}
    assert f"rempart/audit/tenant/{tenant_a.tenant_id}" in origins
    assert f"rempart/audit/tenant/{tenant_b.tenant_id}" in origins
    fill(db, tenant_a, 1, start=2)
    now[0] = T0 + timedelta(minutes=1)
    again = issue_due_checkpoints(
        db, signer, interval=timedelta(minutes=5), clock=lambda: now[0]
    ).issued
    assert not any(c.origin.endswith(str(tenant_a.tenant_id)) for c in again)
    now[0] = T0 + timedelta(minutes=6)
    later = issue_due_checkpoints(
        db, signer, interval=timedelta(minutes=5), clock=lambda: now[0]
    ).issued
    mine = [c for c in later if c.origin.endswith(str(tenant_a.tenant_id))]
    assert [c.size for c in mine] == [3]
    assert not any(c.origin.endswith(str(tenant_b.tenant_id)) for c in later)


def test_inclusion_proofs_verify_against_the_signed_checkpoint(
    db: Database, tenant_a: TenantContext, signer: Ed25519Signer, verifier: NoteVerifier
) -> None:
    fill(db, tenant_a, 11)
    cp = _issue(db, tenant_a, signer)
    with db.tenant_session(tenant_a) as session:
        proofs = [prove_inclusion(session, seq=i) for i in range(11)]
        uid = session.query(AuditRecord.id).filter(AuditRecord.seq == 7).scalar()
        assert prove_inclusion(session, uid=uid).index == 7
    for proof in proofs:
        proof.verify(verifier, origin=cp.origin)
    forged = proofs[3]
    tampered = type(forged)(
        forged.entry.replace("res-3", "res-X"),
        forged.index,
        forged.tree_size,
        forged.hashes,
        forged.checkpoint,
    )
    with pytest.raises(InvalidProof):
        tampered.verify(verifier)
    with pytest.raises(InvalidProof):
        proofs[3].verify(verifier, origin="rempart/audit/tenant/other")


def test_an_entry_after_the_last_checkpoint_cannot_be_proven_yet(
    db: Database, tenant_a: TenantContext, signer: Ed25519Signer
) -> None:
    fill(db, tenant_a, 2)
    _issue(db, tenant_a, signer)
    fill(db, tenant_a, 1, start=2)
    with pytest.raises(Conflict), db.tenant_session(tenant_a) as session:
        prove_inclusion(session, seq=2)


def test_consistency_proofs_between_checkpoints_verify(
    db: Database, tenant_a: TenantContext, signer: Ed25519Signer, verifier: NoteVerifier
) -> None:
    sizes = [1, 3, 8, 13]
    done = 0
    for size in sizes:
        fill(db, tenant_a, size - done, start=done)
        done = size
        _issue(db, tenant_a, signer)
    with db.tenant_session(tenant_a) as session:
        for old in sizes:
            proof = prove_consistency(session, old)
            proof.verify(verifier)
        proof = prove_consistency(session, 3, 8)
    other = NoteVerifier.from_vkey(verifier_key(Ed25519Signer.generate("rempart-test")))
    with pytest.raises(Exception, match="signature"):
        proof.verify(other)
    with pytest.raises(InvalidProof):
        type(proof)(proof.old_checkpoint, proof.new_checkpoint, proof.hashes[:-1]).verify(verifier)


def test_the_local_signing_key_is_created_owner_only_and_reloaded(tmp_path: Path) -> None:
    signer = load_or_create_signer(tmp_path)
    key = tmp_path / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / PUBLIC_KEY_FILE).read_text().strip() == verifier_key(signer)
    assert verifier_key(load_or_create_signer(tmp_path)) == verifier_key(signer)
    key.chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        load_signer(key)
    key.chmod(0o600)
    key.write_text("not a key\n")
    with pytest.raises(ConfigurationError, match="not a valid key"):
        load_signer(key)
