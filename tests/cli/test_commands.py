"""The ``rempart`` command: each sub-command, and one-line errors with a non-zero exit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.main import build_app
from rempart.config import load_settings
from rempart.identity.tokens import authenticate
from rempart.storage.open import open_database

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("REMPART_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(build_app(), ["db", "upgrade"]).exit_code == 0
    return data


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_creates_a_private_database(env: Path) -> None:
    assert (env / "rempart.db").stat().st_mode & 0o777 == 0o600
    assert env.stat().st_mode & 0o777 == 0o700
    code, out, _ = invoke("db", "upgrade")
    assert code == 0
    assert "up to date" in out


def test_tenant_create_and_list(env: Path) -> None:
    code, out, _ = invoke("tenant", "create", "acme-fr", "--name", "ACME")
    assert code == 0
    assert "created tenant acme-fr" in out
    code, out, _ = invoke("tenant", "list")
    assert code == 0
    assert "acme-fr" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tenant", "create", "Bad Slug", "--name", "x"], "tenant slug"),
        (["token", "create", "--tenant", "nobody", "--name", "x"], "no tenant 'nobody'"),
        (
            ["token", "create", "--tenant", "acme", "--name", "x", "--scope", "root"],
            "unknown scope",
        ),
        (
            ["token", "create", "--tenant", "acme", "--name", "x", "--ttl-days", "-1"],
            "cannot be negative",
        ),
        (["token", "revoke", "no-such-token", "--tenant", "acme"], "no such token"),
        (["tenant", "create", "acme", "--name", "again"], "already exists"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_1(
    env: Path, args: list[str], message: str
) -> None:
    assert invoke("tenant", "create", "acme", "--name", "ACME")[0] == 0
    code, out, err = invoke(*args)
    assert code == 1
    assert err.startswith("error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_token_is_shown_once_and_works_until_revoked(env: Path) -> None:
    invoke("tenant", "create", "acme", "--name", "ACME")
    code, out, _ = invoke("token", "create", "--tenant", "acme", "--name", "ccaas")
    assert code == 0
    value = re.search(r"^(rmp_\S+)$", out, re.MULTILINE)
    token_id = re.search(r"token id: (\S+)", out)
    assert value is not None
    assert token_id is not None
    db = open_database(load_settings())
    try:
        assert authenticate(db, value.group(1)).token_id == token_id.group(1)
        code, listing, _ = invoke("token", "list", "--tenant", "acme")
        assert code == 0
        assert value.group(1).split("_", 3)[3] not in listing
        assert invoke("token", "revoke", token_id.group(1), "--tenant", "acme")[0] == 0
        with pytest.raises(Exception, match="revoked"):
            authenticate(db, value.group(1))
    finally:
        db.dispose()


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REMPART_DATABASE_URL", "postgresql://app:hunter2@db/rempart")
    code, out, _ = invoke("config", "show")
    assert code == 0
    shown = json.loads(out)
    assert shown["database_url"] == "postgresql://app:***@db/rempart"
    assert "hunter2" not in out


def test_invalid_configuration_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REMPART_PORT", "not-a-port")
    code, _, err = invoke("config", "show")
    assert code == 1
    assert err.startswith("error: invalid settings: port")


def test_tokens_get_least_privilege_by_default(env: Path) -> None:
    invoke("tenant", "create", "acme", "--name", "ACME")
    code, out, _ = invoke("token", "create", "--tenant", "acme", "--name", "ccaas")
    assert code == 0
    value = re.search(r"^(rmp_\S+)$", out, re.MULTILINE)
    assert value is not None
    db = open_database(load_settings())
    try:
        assert {s.value for s in authenticate(db, value.group(1)).scopes} == {"interaction:write"}
    finally:
        db.dispose()
