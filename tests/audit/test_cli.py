"""``rempart audit``: export, checkpoint, prove, and the offline verify with its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.audit import ConsistencyProof, InclusionProof, NoteVerifier, append_batch
from rempart.cli import audit as audit_cli
from rempart.cli import main as main_cli
from rempart.config import load_settings
from rempart.storage import TenantContext
from rempart.storage.migrate import upgrade
from rempart.storage.open import open_database
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId
from tests.audit.conftest import event

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(audit_cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory with a migrated database and a tenant 'acme' holding 6 entries."""
    data = tmp_path / "data"
    monkeypatch.setenv("REMPART_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    db = open_database(load_settings(), admin=True)
    try:
        upgrade(db.engine)
        with db.platform_session() as session:
            ctx = TenantContext(TenantId(create_tenant(session, "acme", "Acme").id))
        with db.tenant_session(ctx) as session:
            append_batch(session, [event(ctx, i) for i in range(6)])
    finally:
        db.dispose()
    return tmp_path


def test_the_audit_sub_app_is_registered() -> None:
    assert ("audit", "rempart.cli.audit") in main_cli.SUBCOMMANDS


def test_export_then_verify_offline(site: Path) -> None:
    code, out, _ = invoke("public-key")
    assert code == 0
    (site / "log.pub").write_text(out)
    code, note, _ = invoke("checkpoint", "--tenant", "acme", "--anchor-dir", str(site / "anchor"))
    assert code == 0
    (site / "trusted.checkpoint").write_text(note)
    assert "\n6\n" in note
    anchored = list((site / "anchor").rglob("*.checkpoint"))
    assert {p.name for p in anchored} == {"00000000000000000006.checkpoint", "latest.checkpoint"}

    code, out, _ = invoke("export", str(site / "export.jsonl"), "--tenant", "acme")
    assert code == 0, out
    args = ["--trusted", str(site / "trusted.checkpoint"), "--public-key", str(site / "log.pub")]
    latest = site / "latest.checkpoint"
    code, out, err = invoke(
        "verify", str(site / "export.jsonl"), *args, "--save-latest", str(latest)
    )
    assert code == 0, err
    assert "verified: 6 entries" in out
    assert latest.read_text() == note  # the export's newest checkpoint, for the next audit

    lines = (site / "export.jsonl").read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace("res-2", "res-7")
    (site / "tampered.jsonl").write_text("".join(lines))
    code, out, err = invoke("verify", str(site / "tampered.jsonl"), *args)
    assert code == 1
    assert "NOT VERIFIED" in err
    assert "entry 2 was modified" in err


def test_verify_fails_closed_on_bad_inputs(site: Path) -> None:
    code, out, _ = invoke("public-key")
    (site / "log.pub").write_text(out)
    _code, note, _ = invoke("checkpoint", "--tenant", "acme")
    (site / "trusted.checkpoint").write_text(note)
    invoke("export", str(site / "export.jsonl"), "--tenant", "acme")
    (site / "bad.pub").write_text("not a key\n")
    (site / "empty.jsonl").write_text("")
    cases = [
        ("export.jsonl", "bad.pub", "public key"),
        ("missing.jsonl", "log.pub", "not found"),
        ("empty.jsonl", "log.pub", "empty"),
    ]
    for export, key, message in cases:
        code, _out, err = invoke(
            "verify",
            str(site / export),
            "--trusted",
            str(site / "trusted.checkpoint"),
            "--public-key",
            str(site / key),
        )
        assert code == 1, export
        assert message in err


def test_prove_prints_proofs_that_verify_offline(site: Path) -> None:
    code, key, _ = invoke("public-key")
    (site / "log.pub").write_text(key)
    verifier = NoteVerifier.from_vkey(key)
    invoke("checkpoint", "--tenant", "acme")
    with_key = ["--public-key", str(site / "log.pub")]
    code, out, err = invoke("prove", "--tenant", "acme", "--seq", "4")
    assert code == 0, err
    InclusionProof.from_json(json.loads(out)).verify(verifier)
    (site / "incl.json").write_text(out)
    code, out, err = invoke("verify-proof", str(site / "incl.json"), *with_key)
    assert code == 0, err
    assert "entry 4 is in the signed tree of size 6" in out

    doc = json.loads((site / "incl.json").read_text())
    doc["entry"] = doc["entry"].replace("res-4", "res-5")
    (site / "forged.json").write_text(json.dumps(doc))
    code, _out, err = invoke("verify-proof", str(site / "forged.json"), *with_key)
    assert code == 1
    assert "NOT VERIFIED" in err
    (site / "junk.json").write_text('{"entry": 1}')
    code, _out, err = invoke("verify-proof", str(site / "junk.json"), *with_key)
    assert code == 1

    code, out, err = invoke("prove", "--tenant", "acme", "--from", "6")
    assert code == 0, err
    ConsistencyProof.from_json(json.loads(out)).verify(verifier)
    (site / "cons.json").write_text(out)
    code, out, err = invoke("verify-proof", str(site / "cons.json"), *with_key)
    assert code == 0, err
    assert "prefix" in out

    code, _out, err = invoke("prove", "--tenant", "acme")
    assert code == 1
    code, _out, err = invoke("prove", "--tenant", "acme", "--platform", "--seq", "1")
    assert code == 1
    assert "exactly one" in err


def test_due_checkpoints_for_a_scheduler(site: Path) -> None:
    code, out, err = invoke("checkpoint", "--due", "--interval", "0")
    assert code == 0, err
    assert "size 6" in out
