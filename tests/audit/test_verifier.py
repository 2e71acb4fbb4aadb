"""The offline verifier: an intact export verifies; every kind of tampering is caught and named."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from rempart.audit import export_log, issue_checkpoint, verify_export, verify_lines
from rempart.audit.merkle import CompactRange, leaf_hash
from rempart.audit.models import AuditCheckpoint, AuditRecord
from rempart.audit.note import Checkpoint, Ed25519Signer, NoteVerifier, sign_checkpoint
from rempart.audit.verifier import VerificationReport
from rempart.storage import Database, TenantContext
from tests.audit.conftest import T0, fill, rebuild_tree


def _checkpoint(db: Database, tenant: TenantContext, signer: Ed25519Signer) -> str:
    with db.tenant_session(tenant) as session:
        return issue_checkpoint(session, signer, clock=lambda: T0).note


def _export(db: Database, tenant: TenantContext) -> list[str]:
    out = io.StringIO()
    with db.tenant_session(tenant) as session:
        export_log(session, out)
    return out.getvalue().splitlines(keepends=True)


@pytest.fixture
def log(db: Database, tenant_a: TenantContext, signer: Ed25519Signer) -> str:
    """A log of 12 entries with checkpoints at 5 and 12; returns the trusted (latest) note."""
    fill(db, tenant_a, 5)
    _checkpoint(db, tenant_a, signer)
    fill(db, tenant_a, 7, start=5)
    return _checkpoint(db, tenant_a, signer)


def _check(report: VerificationReport, kind: str) -> None:
    assert not report.ok
    assert report.problem is not None
    assert report.problem.kind == kind, str(report.problem)


def _edit(db: Database, tenant: TenantContext, seq: int, old: str, new: str) -> None:
    with db.tenant_session(tenant) as session:
        row = session.scalars(select(AuditRecord).where(AuditRecord.seq == seq)).one()
        row.entry = (row.entry or "").replace(old, new)


def test_an_intact_export_verifies(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    report = verify_lines(_export(db, tenant_a), log, verifier)
    assert report.ok, report.problem
    assert (report.entries, report.checkpoints, report.verified_size) == (12, 2, 12)
    assert report.latest_checkpoint == log


def test_an_older_trusted_checkpoint_is_extended(
    db: Database,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    verifier: NoteVerifier,
) -> None:
    fill(db, tenant_a, 3)
    old = _checkpoint(db, tenant_a, signer)
    fill(db, tenant_a, 9, start=3)
    new = _checkpoint(db, tenant_a, signer)
    report = verify_lines(_export(db, tenant_a), old, verifier)
    assert report.ok, report.problem
    assert report.latest_checkpoint == new


def test_verify_export_reads_a_file(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("".join(_export(db, tenant_a)))
    assert verify_export(path, log, verifier).ok
    path.write_bytes(b"\xff\xfe garbage")
    _check(verify_export(path, log, verifier), "malformed")


def test_one_changed_byte_is_named(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    _edit(db, tenant_a, 7, "res-7", "res-8")
    report = verify_lines(_export(db, tenant_a), log, verifier)
    _check(report, "modified")
    assert report.problem is not None
    assert report.problem.index == 7


def test_a_change_with_forged_hashes_is_located_between_checkpoints(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    _edit(db, tenant_a, 7, "res-7", "res-8")
    rebuild_tree(db, tenant_a)
    report = verify_lines(_export(db, tenant_a), log, verifier)
    _check(report, "root-mismatch")
    assert report.problem is not None
    assert "entries 5 to 11" in report.problem.message


def test_a_deleted_entry_is_named(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    with db.tenant_session(tenant_a) as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 3))
    report = verify_lines(_export(db, tenant_a), log, verifier)
    _check(report, "missing")
    assert report.problem is not None
    assert report.problem.index == 3


def test_a_deleted_tail_is_detected(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    with db.tenant_session(tenant_a) as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq >= 9))
    _check(verify_lines(_export(db, tenant_a), log, verifier), "missing")
    # ... and with the newest checkpoint deleted too, against the auditor's checkpoint:
    with db.tenant_session(tenant_a) as session:
        session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.size == 12))
    report = verify_lines(_export(db, tenant_a), log, verifier)
    _check(report, "truncated")


def test_two_swapped_entries_are_detected(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    with db.tenant_session(tenant_a) as session:
        a = session.scalars(select(AuditRecord).where(AuditRecord.seq == 2)).one()
        b = session.scalars(select(AuditRecord).where(AuditRecord.seq == 3)).one()
        a.seq = -1
        session.flush()
        b.seq = 2
        session.flush()
        a.seq = 3
    report = verify_lines(_export(db, tenant_a), log, verifier)
    _check(report, "reordered")
    assert report.problem is not None
    assert report.problem.index == 2


def test_a_replayed_entry_is_detected(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    with db.tenant_session(tenant_a) as session:
        old = session.scalars(select(AuditRecord).where(AuditRecord.seq == 1)).one()
        row = session.scalars(select(AuditRecord).where(AuditRecord.seq == 8)).one()
        row.entry, row.leaf_hash = old.entry, old.leaf_hash
    report = verify_lines(_export(db, tenant_a), log, verifier)
    _check(report, "replayed")
    assert report.problem is not None
    assert report.problem.index == 8


def test_an_entry_of_another_log_is_detected(
    db: Database,
    tenant_a: TenantContext,
    tenant_b: TenantContext,
    verifier: NoteVerifier,
    log: str,
) -> None:
    fill(db, tenant_b, 1)
    with db.tenant_session(tenant_b) as session:
        foreign = session.scalars(select(AuditRecord).where(AuditRecord.seq == 0)).one().entry
    lines = _export(db, tenant_a)
    obj = json.loads(lines[1])
    obj["entry"] = foreign
    del obj["leaf_hash"]
    lines[1] = json.dumps(obj) + "\n"
    _check(verify_lines(lines, log, verifier), "inserted")


def test_an_inserted_line_is_detected(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    lines = _export(db, tenant_a)
    lines.insert(4, lines[2])
    _check(verify_lines(lines, log, verifier), "reordered")


def test_a_fork_under_one_size_is_detected(
    db: Database,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    verifier: NoteVerifier,
    log: str,
) -> None:
    # The operator (who holds the key) shows the auditor another tree of the same size.
    _edit(db, tenant_a, 10, "res-10", "res-99")
    rebuild_tree(db, tenant_a)
    lines = _export(db, tenant_a)
    trusted = verifier.verify(log)
    entries = [json.loads(x)["entry"] for x in lines if '"type":"entry"' in x]
    forked_root = CompactRange.from_leaves(leaf_hash(e.encode()) for e in entries).root()
    forked = sign_checkpoint(Checkpoint(trusted.origin, trusted.size, forked_root), signer)
    lines[-1] = json.dumps({"type": "checkpoint", "note": forked}) + "\n"
    _check(verify_lines(lines, log, verifier), "fork")


def test_a_forged_checkpoint_is_detected(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    lines = _export(db, tenant_a)
    trusted = verifier.verify(log)
    forger = Ed25519Signer.generate("rempart-test")
    forged = sign_checkpoint(Checkpoint(trusted.origin, 12, trusted.root), forger)
    lines[-1] = json.dumps({"type": "checkpoint", "note": forged}) + "\n"
    _check(verify_lines(lines, log, verifier), "forged-checkpoint")


def test_a_rolled_back_checkpoint_size_is_detected(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    lines = _export(db, tenant_a)
    early = next(x for x in lines if '"type":"checkpoint"' in x)
    lines.append(early)
    _check(verify_lines(lines, log, verifier), "rollback")


def test_entries_beyond_the_last_checkpoint_are_not_accepted(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    lines = _export(db, tenant_a)
    del lines[-1]  # the last checkpoint
    _check(verify_lines(lines, log, verifier), "unsigned")


def test_a_truncated_file_is_detected(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    text = "".join(_export(db, tenant_a))
    cut = text[: len(text) - 40]
    _check(verify_lines(io.StringIO(cut), log, verifier), "truncated-file")


@pytest.mark.parametrize(
    ("mutate", "kind"),
    [
        (lambda lines: [], "malformed"),
        (lambda lines: ['{"format":"other","version":1}\n', *lines[1:]], "malformed"),
        (lambda lines: [*lines[:3], "not json\n", *lines[3:]], "malformed"),
        (lambda lines: [*lines[:3], "\n", *lines[3:]], "malformed"),
        (lambda lines: [*lines[:3], '{"type":"mystery"}\n', *lines[3:]], "malformed"),
        (lambda lines: [*lines[:3], '{"type":"entry","index":"2"}\n', *lines[3:]], "malformed"),
    ],
    ids=["empty", "wrong-format", "not-json", "blank-line", "unknown-type", "bad-index"],
)
def test_malformed_exports_fail_precisely(
    db: Database,
    tenant_a: TenantContext,
    verifier: NoteVerifier,
    log: str,
    mutate: object,
    kind: str,
) -> None:
    lines = _export(db, tenant_a)
    assert callable(mutate)
    report = verify_lines(mutate(lines), log, verifier)
    _check(report, kind)
    assert report.problem is not None


def test_a_trusted_checkpoint_of_another_key_or_log_is_refused(
    db: Database,
    tenant_a: TenantContext,
    tenant_b: TenantContext,
    signer: Ed25519Signer,
    verifier: NoteVerifier,
    log: str,
) -> None:
    lines = _export(db, tenant_a)
    other = sign_checkpoint(verifier.verify(log), Ed25519Signer.generate("rempart-test"))
    _check(verify_lines(lines, other, verifier), "untrusted")
    fill(db, tenant_b, 2)
    b_note = _checkpoint(db, tenant_b, signer)
    _check(verify_lines(lines, b_note, verifier), "origin-mismatch")


def test_a_non_canonical_entry_is_detected(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str
) -> None:
    lines = _export(db, tenant_a)
    obj = json.loads(lines[3])
    obj["entry"] = obj["entry"].replace('{"activity_id"', '{ "activity_id"', 1)
    obj["leaf_hash"] = base64.b64encode(b"\x00" * 32).decode()
    lines[3] = json.dumps(obj) + "\n"
    _check(verify_lines(lines, log, verifier), "modified")


def test_the_platform_log_exports_and_verifies(
    db: Database, signer: Ed25519Signer, verifier: NoteVerifier
) -> None:
    from rempart.audit import append_platform
    from rempart.types import TenantId
    from tests.audit.conftest import event

    with db.platform_session() as session:
        for i in range(4):
            append_platform(session, event(TenantId(""), i, action="tenant.create"))
        note = issue_checkpoint(session, signer).note
    out = io.StringIO()
    with db.platform_session() as session:
        export_log(session, out)
    report = verify_lines(out.getvalue().splitlines(keepends=True), note, verifier)
    assert report.ok, report.problem
    assert report.origin == "rempart/audit/platform"
    assert report.verified_size >= 4


def test_an_overlong_line_is_refused_without_reading_it_whole(
    db: Database, tenant_a: TenantContext, verifier: NoteVerifier, log: str, tmp_path: Path
) -> None:
    from rempart.audit.verifier import MAX_LINE

    lines = _export(db, tenant_a)
    lines.insert(2, '{"type":"entry","index":1,"entry":"' + "x" * (MAX_LINE + 10) + '"}\n')
    path = tmp_path / "big.jsonl"
    path.write_text("".join(lines))
    report = verify_export(path, log, verifier)
    _check(report, "malformed")
    assert report.problem is not None
    assert "longer than" in report.problem.message
