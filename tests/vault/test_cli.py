"""``rempart vault``: init, status, rotate, rewrap, shredding, with one-line errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rempart.audit import query
from rempart.cli import main as main_cli
from rempart.cli import vault as vault_cli
from rempart.config import load_settings
from rempart.errors import CryptoError
from rempart.storage import Database, TenantContext
from rempart.storage.migrate import upgrade
from rempart.storage.open import open_database
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId
from rempart.vault import FieldContext, Vault, key_providers, open_vault, provider_for
from rempart.vault.records import KekRecord, KeyStatus, TenantKeyring
from rempart.vault.sql_store import SqlKeyringStore

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(vault_cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, TenantId]:
    """A migrated SQLite database in a data directory, with tenants 'acme' and 'globex'."""
    monkeypatch.setenv("REMPART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    db = open_database(load_settings(), admin=True)
    try:
        upgrade(db.engine)
        with db.platform_session() as session:
            ids = {
                slug: TenantId(create_tenant(session, slug, slug.title()).id)
                for slug in ("acme", "globex")
            }
    finally:
        db.dispose()
    return ids


@contextmanager
def opened() -> Iterator[tuple[Database, Vault]]:
    """The vault the CLI would open, in this process."""
    settings = load_settings()
    db = open_database(settings)
    try:
        yield db, open_vault(settings, db)
    finally:
        db.dispose()


def status(tenant: str) -> dict[str, Any]:
    code, out, err = invoke("status", "--tenant", tenant, "--json", "--subjects")
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def test_the_vault_sub_app_is_registered() -> None:
    assert ("vault", "rempart.cli.vault") in main_cli.SUBCOMMANDS


def test_init_creates_a_keyring_once_and_status_shows_no_key_material(
    site: dict[str, TenantId], tmp_path: Path
) -> None:
    code, out, _ = invoke("init", "--tenant", "acme")
    assert code == 0
    assert "provider local" in out
    code, out, _ = invoke("init", "--tenant", "acme")
    assert code == 0
    assert "already has a keyring" in out
    report = status("acme")
    assert report["provider"] == "local"
    assert [(k["version"], k["status"], k["deks"]) for k in report["keks"]] == [(1, "active", 2)]
    assert {(d["key_id"], d["version"], d["status"]) for d in report["deks"]} == {
        ("data", 1, "active"),
        ("index", 1, "active"),
    }
    # Neither the KEK (in the key file) nor a wrapped DEK shows up in any output.
    doc = json.loads((tmp_path / "data" / "vault-keys.json").read_text())
    keks = json.loads(base64.b64decode(doc["payload"]))["keks"]
    _, human, _ = invoke("status", "--tenant", "acme")
    _, summary, _ = invoke("status")
    with opened() as (_, vault):
        wrapped = [d.wrapped for d in vault.keys.store.list_deks(site["acme"])]
    for output in (json.dumps(report), human, summary):
        for kek in keks.values():
            assert kek not in output
        for w in wrapped:
            assert w is not None
            assert base64.b64encode(w).decode() not in output
            assert w.hex() not in output
    assert "acme" in summary
    assert "globex" not in summary  # no keyring yet


def test_usage_counts_show_reserved_encryptions(site: dict[str, TenantId]) -> None:
    invoke("init", "--tenant", "acme")
    with opened() as (_, vault):
        vault.encrypt_field(FieldContext(site["acme"], "t", "c", "r"), b"x")
    data = [d for d in status("acme")["deks"] if d["key_id"] == "data"]
    assert data[0]["encryptions_reserved"] == 4096


def test_rotate_dek_and_kek_then_a_stopped_rewrap_resumes(site: dict[str, TenantId]) -> None:
    invoke("init", "--tenant", "acme")
    ctx = FieldContext(site["acme"], "customers", "email", "1")
    with opened() as (_, vault):
        old = vault.encrypt_field(ctx, b"before rotation")
    code, out, _ = invoke("rotate", "--tenant", "acme")
    assert code == 0
    assert "data v2 is active" in out
    code, out, _ = invoke("rotate", "--tenant", "acme", "--kek")
    assert code == 0
    assert "KEK v2 is active" in out
    code, out, _ = invoke("rewrap", "--tenant", "acme", "--batch-size", "1", "--max-batches", "1")
    assert code == 0
    assert "1 DEKs re-wrapped under KEK v2" in out
    assert "2 remaining" in out
    assert "run the same command again to resume" in out
    code, out, _ = invoke("rewrap", "--tenant", "acme")
    assert code == 0
    assert "0 remaining" in out
    report = status("acme")
    assert {d["kek_version"] for d in report["deks"]} == {2}
    with opened() as (_, vault):
        assert vault.decrypt_field(ctx, old) == b"before rotation"
        assert vault.encrypt_field(ctx, b"x")[8:12] == (2).to_bytes(4, "big")


def test_shred_tenant_needs_the_slug_as_confirmation_then_data_is_unreadable(
    site: dict[str, TenantId],
) -> None:
    for slug in ("acme", "globex"):
        invoke("init", "--tenant", slug)
    acme = FieldContext(site["acme"], "customers", "phone", "1")
    globex = FieldContext(site["globex"], "customers", "phone", "1")
    with opened() as (_, vault):
        ct_acme = vault.encrypt_field(acme, b"+33612345678")
        ct_globex = vault.encrypt_field(globex, b"+33698765432")
    code, _, err = invoke("shred-tenant", "--tenant", "acme", "--reason", "off-boarding")
    assert code == 2
    assert err.startswith("error: refusing to shred tenant acme")
    assert err.count("\n") == 1
    code, _, _ = invoke(
        "shred-tenant", "--tenant", "acme", "--reason", "off-boarding", "--confirm", "globex"
    )
    assert code == 2
    with opened() as (_, vault):
        assert vault.decrypt_field(acme, ct_acme) == b"+33612345678"
    code, out, _ = invoke(
        "shred-tenant", "--tenant", "acme", "--reason", "off-boarding", "--confirm", "acme"
    )
    assert code == 0, out
    assert status("acme")["shredded"] is True
    with opened() as (db, vault):
        with pytest.raises(CryptoError):
            vault.decrypt_field(acme, ct_acme)
        assert vault.decrypt_field(globex, ct_globex) == b"+33698765432"
        with db.tenant_session(TenantContext(site["acme"])) as session:
            events = query(session, action="vault.tenant.shredded")
    assert len(events) == 1
    assert events[0].reason == "off-boarding"
    assert events[0].actor.id.startswith("cli:")


def test_shred_subject_destroys_only_that_subject_and_is_audited(
    site: dict[str, TenantId],
) -> None:
    invoke("init", "--tenant", "acme")
    ctx = FieldContext(site["acme"], "customers", "email", "42")
    with opened() as (_, vault):
        mine = vault.encrypt_field(ctx, b"alice@example.org", subject="cust-42")
        other = vault.encrypt_field(ctx, b"bob@example.org", subject="cust-43")
    code, _, err = invoke(
        "shred-subject", "--tenant", "acme", "--subject", "cust-42", "--reason", "r"
    )
    assert code == 2
    assert "--confirm cust-42" in err
    args = ["--subject", "cust-42", "--reason", "GDPR request 7", "--confirm", "cust-42"]
    code, out, _ = invoke("shred-subject", "--tenant", "acme", *args)
    assert code == 0
    assert "1 key version(s) destroyed" in out
    with opened() as (db, vault):
        with pytest.raises(CryptoError):
            vault.decrypt_field(ctx, mine)
        assert vault.decrypt_field(ctx, other) == b"bob@example.org"
        with db.tenant_session(TenantContext(site["acme"])) as session:
            events = query(session, action="vault.subject.shredded")
    assert [e.resource_id for e in events] == ["subject:cust-42"]
    assert events[0].reason == "GDPR request 7"
    report = status("acme")
    assert report["subject_keys"] == 2
    assert report["subject_keys_usable"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "--tenant", "nobody"], "error: no tenant 'nobody'"),
        (["status", "--tenant", "globex"], "error: no keyring for this tenant"),
        (["rotate", "--tenant", "acme", "--key", "bogus"], "error: unknown key 'bogus'"),
        (["rotate", "--tenant", "globex", "--kek"], "error: no keyring for this tenant"),
        (["rewrap", "--tenant", "acme", "--batch-size", "0"], "error: --batch-size must be"),
        (["rewrap", "--tenant", "acme", "--max-batches", "0"], "error: --max-batches must be"),
        (
            ["shred-tenant", "--tenant", "acme", "--reason", " ", "--confirm", "acme"],
            "error: --reason must not be empty",
        ),
        (
            ["shred-subject", "-t", "acme", "--subject", "", "--reason", "r", "--confirm", ""],
            "error: subject id must be",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_a_non_zero_exit(
    site: dict[str, TenantId], args: list[str], message: str
) -> None:
    invoke("init", "--tenant", "acme")
    code, _, err = invoke(*args)
    assert code != 0
    assert err.startswith(message), err
    assert err.count("\n") == 1
    assert status("acme")["shredded"] is False


def test_a_provider_chosen_but_not_configured_is_a_one_line_error(
    site: dict[str, TenantId], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_VAULT_TENANT_PROVIDERS", '{"acme": "pkcs11"}')
    code, _, err = invoke("init", "--tenant", "acme")
    assert code == 1
    assert err == "error: vault key provider chosen but not configured: pkcs11\n"


def test_the_provider_per_tenant_follows_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        vault_tenant_providers={"acme": "pkcs11", "t-2": "aws-kms"},
    )
    assert provider_for(settings, TenantId("t-1"), "acme") == "pkcs11"
    assert provider_for(settings, TenantId("t-2"), "globex") == "aws-kms"
    assert provider_for(settings, TenantId("t-3"), "initech") == "local"


def test_a_passphrase_from_the_settings_protects_the_key_file_with_argon2id(
    site: dict[str, TenantId], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMPART_VAULT_PASSPHRASE", "a long operator passphrase")
    code, _, err = invoke("init", "--tenant", "acme")
    assert code == 0, err
    doc = json.loads((tmp_path / "data" / "vault-keys.json").read_text())
    assert doc["kdf"]["name"] == "argon2id"
    assert "(protection: argon2id)" in status("acme")["providers"]["local"]
    monkeypatch.setenv("REMPART_VAULT_PASSPHRASE", "a wrong guess")
    code, _, err = invoke("status", "--tenant", "acme")
    assert code == 1
    assert "wrong passphrase" in err
    assert "guess" not in err
    assert err.count("\n") == 1
    monkeypatch.delenv("REMPART_VAULT_PASSPHRASE")
    code, _, err = invoke("status", "--tenant", "acme")
    assert code == 1
    assert "needs a passphrase" in err


def test_rotate_due_rotates_only_keyrings_past_the_age(site: dict[str, TenantId]) -> None:
    settings = load_settings()
    long_ago = datetime.now(UTC) - timedelta(days=100)
    db = open_database(settings)
    try:
        old = Vault(SqlKeyringStore(db), key_providers(settings), clock=lambda: long_ago)
        old.create_tenant(site["acme"])
    finally:
        db.dispose()
    invoke("init", "--tenant", "globex")
    code, out, _ = invoke("rotate-due", "--dek-max-age-days", "90", "--kek-max-age-days", "365")
    assert code == 0
    assert "tenant acme: rotated data" in out
    assert "tenant globex: nothing due" in out
    assert {(d["key_id"], d["version"]) for d in status("acme")["deks"]} >= {("data", 2)}
    code, _, err = invoke("rotate-due", "--dek-max-age-days", "0")
    assert code == 1
    assert err.startswith("error: maximum ages must be at least one day")


def test_retire_an_old_dek_with_confirmation_and_an_old_kek_after_rewrap(
    site: dict[str, TenantId],
) -> None:
    invoke("init", "--tenant", "acme")
    ctx = FieldContext(site["acme"], "customers", "email", "1")
    with opened() as (_, vault):
        old = vault.encrypt_field(ctx, b"under v1")
    invoke("rotate", "--tenant", "acme")
    code, _, err = invoke("retire", "--tenant", "acme", "--version", "1")
    assert code == 2
    assert "--confirm data:v1" in err
    code, _, err = invoke("retire", "--tenant", "acme", "--version", "2", "--confirm", "data:v2")
    assert code == 1
    assert err.startswith("error: rotate before retiring the active key version")
    code, _, _ = invoke("retire", "--tenant", "acme", "--version", "1", "--confirm", "data:v1")
    assert code == 0
    with opened() as (_, vault), pytest.raises(CryptoError):
        vault.decrypt_field(ctx, old)
    invoke("rotate", "--tenant", "acme", "--kek")
    code, _, err = invoke("retire", "--tenant", "acme", "--kek", "1")
    assert code == 1
    assert err.startswith("error: DEKs are still wrapped by this KEK: re-wrap first")
    invoke("rewrap", "--tenant", "acme")
    code, out, _ = invoke("retire", "--tenant", "acme", "--kek", "1")
    assert code == 0
    assert "KEK v1 destroyed" in out
    assert [k["status"] for k in status("acme")["keks"]] == ["retired", "active"]
    code, _, err = invoke("retire", "--tenant", "acme", "--kek", "1", "--version", "1")
    assert code == 1
    assert err.startswith("error: give either --kek")


def test_protect_key_file_asks_twice_and_the_new_passphrase_opens_it(
    site: dict[str, TenantId], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("init", "--tenant", "acme")
    new = "a brand new operator passphrase"
    result = runner.invoke(vault_cli.app, ["protect-key-file"], input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.stderr
    assert new not in result.stdout
    doc = json.loads((tmp_path / "data" / "vault-keys.json").read_text())
    assert doc["kdf"]["name"] == "argon2id"
    code, _, err = invoke("status", "--tenant", "acme")
    assert code == 1
    assert "needs a passphrase" in err
    monkeypatch.setenv("REMPART_VAULT_PASSPHRASE", new)
    assert status("acme")["provider"] == "local"
    short = runner.invoke(vault_cli.app, ["protect-key-file"], input="short\nshort\n")
    assert short.exit_code == 1
    assert short.stderr.startswith("error: the new passphrase must have at least 12")
    code, _, err = invoke("protect-key-file", "--kdf", "md5")
    assert code == 1
    assert err.startswith("error: --kdf must be argon2id or scrypt")


def test_recover_sweeps_an_unconfirmed_kek_creation(site: dict[str, TenantId]) -> None:
    invoke("init", "--tenant", "acme")
    with opened() as (_, vault):
        # What a crash between the intent and the confirmation leaves (local provider:
        # the key file already holds KEK v2).
        vault.keys.store.add_kek(
            KekRecord(site["acme"], 2, "local", "", KeyStatus.PENDING, datetime.now(UTC))
        )
        vault.keys.provider("local").create_kek(site["acme"], 2)
    code, out, _ = invoke("recover", "--tenant", "acme")
    assert code == 0
    assert "no unconfirmed KEK creation" in out  # younger than the grace period
    code, out, _ = invoke("recover", "--tenant", "acme", "--older-than-minutes", "0")
    assert code == 0
    assert "unconfirmed KEK v2 abandoned" in out
    with opened() as (_, vault):
        assert vault.keys.provider("local").find_keks(site["acme"], 2) == []
    assert {k["version"]: k["status"] for k in status("acme")["keks"]} == {
        1: "active",
        2: "destroyed",
    }


def test_init_finishes_a_keyring_creation_a_crash_interrupted(site: dict[str, TenantId]) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with opened() as (_, vault):
        # The crash: keyring and KEK intent recorded, the key file already holds KEK v1.
        vault.keys.store.add_tenant(TenantKeyring(site["acme"], "local", an_hour_ago))
        vault.keys.store.add_kek(
            KekRecord(site["acme"], 1, "local", "", KeyStatus.PENDING, an_hour_ago)
        )
        vault.keys.provider("local").create_kek(site["acme"], 1)
        assert not vault.keys.is_complete(site["acme"])
    code, out, err = invoke("init", "--tenant", "acme")
    assert code == 0, err
    assert "finished the interrupted creation" in out
    assert {k["version"]: k["status"] for k in status("acme")["keks"]} == {
        1: "destroyed",
        2: "active",
    }
    with opened() as (_, vault):
        assert vault.keys.is_complete(site["acme"])
        assert vault.keys.provider("local").find_keks(site["acme"], 1) == []
        c = FieldContext(site["acme"], "customers", "email", "1")
        assert vault.decrypt_field(c, vault.encrypt_field(c, b"x")) == b"x"
    code, out, _ = invoke("init", "--tenant", "acme")
    assert code == 0
    assert "already has a keyring" in out
