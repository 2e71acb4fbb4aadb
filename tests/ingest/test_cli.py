"""``rempart webhooks``: secrets shown once, stored sealed, rotated and revoked from the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.main import build_app

runner = CliRunner()
SECRET = re.compile(r"^whsec_[A-Za-z0-9_-]{43}$", re.MULTILINE)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(build_app(), ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(build_app(), ["tenant", "create", "acme", "--name", "Acme"]).exit_code == 0
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def database_bytes(env: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (env / "data").rglob("*.db*"))


def test_create_shows_the_secret_once_and_stores_it_sealed(env: Path) -> None:
    code, out, err = invoke("webhooks", "secret", "create", "--tenant", "acme")
    assert code == 0, err
    [secret] = SECRET.findall(out)
    assert secret.encode() not in database_bytes(env)
    code, out, _ = invoke("webhooks", "secret", "list", "--tenant", "acme")
    assert code == 0
    assert "active" in out
    assert secret not in out


def test_create_twice_is_refused_in_one_line(env: Path) -> None:
    assert invoke("webhooks", "secret", "create", "-t", "acme")[0] == 0
    code, _, err = invoke("webhooks", "secret", "create", "-t", "acme")
    assert code == 1
    assert err.startswith("error:")
    assert "rotate" in err


def test_rotate_issues_a_new_secret_and_keeps_the_old_one_for_the_grace(env: Path) -> None:
    _, first, _ = invoke("webhooks", "secret", "create", "-t", "acme")
    code, out, err = invoke("webhooks", "secret", "rotate", "-t", "acme", "--grace-hours", "2")
    assert code == 0, err
    [new] = SECRET.findall(out)
    assert new not in first
    assert "still verify until" in out
    _, listed, _ = invoke("webhooks", "secret", "list", "-t", "acme")
    assert "retiring" in listed
    assert "active" in listed


def test_rotate_without_a_secret_and_negative_grace_are_refused(env: Path) -> None:
    code, _, err = invoke("webhooks", "secret", "rotate", "-t", "acme")
    assert code == 1
    assert "create one" in err
    code, _, err = invoke("webhooks", "secret", "rotate", "-t", "acme", "--grace-hours", "-1")
    assert code == 1
    assert "negative" in err


def test_revoke_removes_every_secret(env: Path) -> None:
    invoke("webhooks", "secret", "create", "-t", "acme")
    invoke("webhooks", "secret", "rotate", "-t", "acme")
    code, out, _ = invoke("webhooks", "secret", "revoke", "-t", "acme")
    assert code == 0
    assert "revoked 2 secret(s)" in out
    _, listed, _ = invoke("webhooks", "secret", "list", "-t", "acme")
    assert "active" not in listed
    assert invoke("webhooks", "secret", "create", "-t", "acme")[0] == 0


def test_unknown_tenant_is_one_line(env: Path) -> None:
    code, _, err = invoke("webhooks", "secret", "create", "-t", "nobody")
    assert code == 1
    assert err.startswith("error:")


def test_purge_expired_runs_as_a_job(env: Path) -> None:
    code, out, err = invoke("webhooks", "purge-expired")
    assert code == 0, err
    assert "purged 0 idempotency record(s), 0 seen-webhook row(s)" in out


def test_every_change_is_audited_without_the_secret(env: Path) -> None:
    from sqlalchemy import select

    from rempart.audit import AuditRecord
    from rempart.config import load_settings
    from rempart.storage import TenantContext
    from rempart.storage.open import open_database
    from rempart.storage.tenants import get_tenant

    _, out, _ = invoke("webhooks", "secret", "create", "-t", "acme")
    invoke("webhooks", "secret", "rotate", "-t", "acme")
    invoke("webhooks", "secret", "revoke", "-t", "acme")
    [secret] = SECRET.findall(out)
    db = open_database(load_settings())
    try:
        with db.platform_session() as s:
            ctx = TenantContext(get_tenant(s, "acme").tenant_id)
        with db.tenant_session(ctx) as s:
            rows = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
            actions = [(r.action, r.outcome) for r in rows]
            text = " ".join(f"{r.details} {r.entry}" for r in rows)
    finally:
        db.dispose()
    assert actions == [
        ("webhook_secret.create", "success"),
        ("webhook_secret.rotate", "success"),
        ("webhook_secret.revoke", "success"),
    ]
    assert secret not in text
