"""``rempart retention``: policy, holds and purge from the command line; one-line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.main import build_app
from rempart.config import load_settings
from rempart.contact.media import MediaStore
from rempart.storage import Database, TenantContext
from rempart.storage.open import open_database
from rempart.storage.tenants import get_tenant
from tests.retention.helpers import INTACT, add_customer, add_interaction, state

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("REMPART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert invoke("db", "upgrade")[0] == 0
    assert invoke("tenant", "create", "acme", "--name", "ACME")[0] == 0
    db = open_database(load_settings())
    try:
        yield db
    finally:
        db.dispose()


def _acme(db: Database) -> TenantContext:
    with db.platform_session() as session:
        return TenantContext(get_tenant(session, "acme").tenant_id)


def _media() -> MediaStore:
    return MediaStore.for_settings(load_settings())


def test_policy_set_and_show(env: Database) -> None:
    code, out, err = invoke(
        "retention", "policy", "set", "-t", "acme", "--metadata", "365", "--original", "30"
    )
    assert (code, err) == (0, "")
    assert "original: 30 days" in out
    assert "transcript: 365 days" in out
    code, out, _ = invoke("retention", "policy", "show", "-t", "acme", "--json")
    assert code == 0
    shown = {d["data_class"]: (d["days"], d["effective"]) for d in json.loads(out)}
    assert shown["transcript"] == (None, 365)
    assert shown["audit"] == (None, None)
    code, out, _ = invoke("retention", "policy", "show", "-t", "acme")
    assert "(from metadata)" in out
    assert "pruned, not deleted" in out
    code, out, _ = invoke("retention", "policy", "set", "-t", "acme", "--unset", "original")
    assert "original: 365 days" in out


def test_holds_from_the_command_line(env: Database) -> None:
    ctx = _acme(env)
    customer = add_customer(env, ctx)
    code, out, _ = invoke(
        "retention", "hold", "add", "-t", "acme", "--customer", customer, "--reason", "case 17"
    )
    assert code == 0
    hold_id = out.split()[1]
    code, text_out, _ = invoke("retention", "hold", "list", "-t", "acme")
    assert hold_id in text_out
    assert "reason: case 17" in text_out
    code, out, _ = invoke("retention", "hold", "list", "-t", "acme", "--json")
    (listed,) = json.loads(out)
    assert (listed["id"], listed["scope"], listed["target_id"]) == (hold_id, "customer", customer)
    code, _, _ = invoke("retention", "hold", "release", hold_id, "-t", "acme", "--reason", "done")
    assert code == 0
    assert json.loads(invoke("retention", "hold", "list", "-t", "acme", "--json")[1]) == []
    released = json.loads(
        invoke("retention", "hold", "list", "-t", "acme", "--released", "--json")[1]
    )
    assert released[0]["released_at"] is not None


def test_purge_dry_run_then_purge(env: Database) -> None:
    ctx = _acme(env)
    media = _media()
    old = add_interaction(env, ctx, media, age_days=400)
    young = add_interaction(env, ctx, media, age_days=10)
    assert invoke("retention", "policy", "set", "-t", "acme", "--metadata", "365")[0] == 0

    code, out, _ = invoke("retention", "purge", "--dry-run", "-t", "acme", "--json")
    assert code == 0
    (report,) = json.loads(out)["reports"]
    metadata = next(c for c in report["classes"] if c["data_class"] == "metadata")
    assert (report["dry_run"], metadata["interactions"], metadata["recordings"]) == (True, 1, 1)
    assert state(env, ctx, media, old) == INTACT

    code, out, _ = invoke("retention", "purge", "-t", "acme")
    assert code == 0
    assert "acme" in out
    assert "metadata" in out
    assert not state(env, ctx, media, old).exists
    assert state(env, ctx, media, young) == INTACT
    # Without --tenant: every tenant; nothing left to do here.
    code, out, _ = invoke("retention", "purge", "--json")
    assert code == 0
    assert json.loads(out)["failed"] == {}
    assert invoke("tenant", "create", "other", "--name", "Other")[0] == 0
    code, out, _ = invoke("retention", "purge")
    assert code == 0
    assert "other" in out
    assert "no retention configured" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["policy", "set", "-t", "acme", "--audit", "30"], "audit must be between 365"),
        (
            ["policy", "set", "-t", "acme", "--original", "400", "--metadata", "365"],
            "must not be kept longer",
        ),
        (["policy", "set", "-t", "acme", "--unset", "everything"], "unknown data class"),
        (["policy", "set", "-t", "acme"], "no retention change"),
        (["policy", "show", "-t", "nobody"], "no tenant 'nobody'"),
        (["hold", "add", "-t", "acme", "--reason", "x"], "exactly one of"),
        (["hold", "add", "-t", "acme", "--all", "--reason", " "], "needs a reason"),
        (["hold", "add", "-t", "acme", "--interaction", "nope", "--reason", "x"], "no such"),
        (["hold", "release", "nope", "-t", "acme", "--reason", "x"], "no such legal hold"),
        (["purge", "-t", "acme", "--batch-size", "0"], "batch size"),
        (["purge", "-t", "nobody"], "no tenant 'nobody'"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_1(
    env: Database, args: list[str], message: str
) -> None:
    code, out, err = invoke("retention", *args)
    assert code == 1
    assert err.startswith("error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_a_purge_that_fails_exits_1_with_one_line(env: Database) -> None:
    ctx = _acme(env)
    media = _media()
    old = add_interaction(env, ctx, media, age_days=400)
    assert invoke("retention", "policy", "set", "-t", "acme", "--metadata", "365")[0] == 0
    # A recording file that cannot be removed (a directory in its place, which even root
    # cannot unlink): the purge must stop, not skip the media and delete the row.
    blocked = media.paths(str(ctx.tenant_id), old.recordings[0]).original
    blocked.unlink()
    blocked.mkdir()
    code, _, err = invoke("retention", "purge", "-t", "acme")
    blocked.rmdir()
    assert code == 1
    assert err.startswith("error: media store error")
    assert len(err.strip().splitlines()) == 1
    assert state(env, ctx, media, old).exists
    assert invoke("retention", "purge", "-t", "acme")[0] == 0
    assert not state(env, ctx, media, old).exists
