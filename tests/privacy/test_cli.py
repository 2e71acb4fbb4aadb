"""``rempart privacy``: find, export, erase, verify-certificate, with one-line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli import main as main_cli
from rempart.cli import privacy as privacy_cli
from rempart.config import load_settings
from rempart.errors import CryptoError
from rempart.storage import Database, TenantContext
from rempart.storage.migrate import upgrade
from rempart.storage.open import open_database
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId
from rempart.vault import Vault, open_vault
from tests.privacy.conftest import PASSPHRASE, Seeded, seed_customer
from tests.privacy.helpers import unseal

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(privacy_cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, Vault]]:
    """A migrated SQLite site with tenant 'acme', its vault, and the CLI's settings."""
    monkeypatch.setenv("REMPART_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    admin = open_database(settings, admin=True)
    upgrade(admin.engine)
    admin.dispose()
    db = open_database(settings)
    with db.platform_session() as session:
        tenant = TenantId(create_tenant(session, "acme", "Acme").id)
    vault = open_vault(settings, db)
    vault.create_tenant(tenant)
    try:
        yield db, vault
    finally:
        db.dispose()


def _seed(site: tuple[Database, Vault]) -> Seeded:
    db, vault = site
    with db.platform_session() as session:
        from rempart.storage.tenants import get_tenant

        ctx = TenantContext(get_tenant(session, "acme").tenant_id)
    return seed_customer(db, vault, ctx)


def test_the_privacy_sub_app_is_registered() -> None:
    assert ("privacy", "rempart.cli.privacy") in main_cli.SUBCOMMANDS


def test_find_export_erase_verify(site: tuple[Database, Vault], tmp_path: Path) -> None:
    db, vault = site
    alice = _seed(site)
    code, out, err = invoke("find", "-t", "acme", "--phone", "06 12 34 56 78", "--json")
    assert code == 0, err
    (found,) = json.loads(out)
    assert found["customer"] == alice.customer
    assert found["totals"]["interactions"] == 2
    assert alice.external_id not in out
    code, out, err = invoke("find", "-t", "acme", "--email", alice.email)
    assert code == 0, err
    assert alice.customer in out

    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE + "\n")
    archive = tmp_path / "alice.rpex"
    code, out, err = invoke(
        "export",
        "-t",
        "acme",
        "--customer-id",
        alice.external_id,
        "--out",
        str(archive),
        "--passphrase-file",
        str(secret),
    )
    assert code == 0, err
    assert archive.stat().st_mode & 0o077 == 0
    files = unseal(archive.read_bytes())
    assert json.loads(files["customer.json"])["customer_id"] == alice.external_id

    code, _, err = invoke(
        "export",
        "-t",
        "acme",
        "--ref",
        alice.customer,
        "--out",
        str(archive),
        "--passphrase-file",
        str(secret),
    )
    assert code == 1
    assert err.strip() == f"error: {archive} already exists"

    code, _, err = invoke(
        "erase", "-t", "acme", "--ref", alice.customer, "--reason", "request 9", "--confirm", "x"
    )
    assert code == 2
    assert "--confirm must repeat" in err
    assert all(vault.decrypt_field(ctx, ct) for ctx, ct in alice.ciphertexts)

    cert = tmp_path / "certificate.json"
    code, out, err = invoke(
        "erase",
        "-t",
        "acme",
        "--email",
        alice.email,
        "--reason",
        "request 9",
        "--confirm",
        alice.customer,
        "--certificate-out",
        str(cert),
    )
    assert code == 0, err
    assert "certified" in out
    # A vault opened afresh (this process's cache still holds the key for its age limit).
    fresh = open_vault(load_settings(), db)
    for ctx, ct in alice.ciphertexts:
        with pytest.raises(CryptoError):
            fresh.decrypt_field(ctx, ct)

    code, out, err = invoke("certificate", "-t", "acme", "--ref", alice.customer)
    assert code == 0, err
    assert out == cert.read_text()

    pub = tmp_path / "data" / "audit-checkpoint.pub"
    code, out, err = invoke("verify-certificate", str(cert), "--key", str(pub))
    assert code == 0, err
    assert out.startswith("valid: erasure")
    code, out, err = invoke("verify-certificate", str(cert), "--key", pub.read_text().strip())
    assert code == 0, err

    doc = json.loads(cert.read_text())
    doc["certificate"]["counts"]["interactions"] = 0
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    code, out, err = invoke("verify-certificate", str(forged), "--key", str(pub))
    assert code == 1
    assert err.strip() == "error: the signature does not match the certificate"

    code, out, err = invoke("find", "-t", "acme", "--phone", "06 12 34 56 78")
    assert code == 0, err
    assert "no customer matches" in out


def test_errors_are_one_line(site: tuple[Database, Vault], tmp_path: Path) -> None:
    code, _, err = invoke("find", "-t", "acme")
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("error: give a customer id")
    code, _, err = invoke("find", "-t", "nobody", "--phone", "0612345678")
    assert code == 1
    assert err.count("\n") == 1
    code, _, err = invoke(
        "erase", "-t", "acme", "--email", "ghost@example.test", "--reason", "r", "--confirm", "x"
    )
    assert code == 1
    assert err.strip() == "error: no customer of this tenant matches"
    code, _, err = invoke("verify-certificate", str(tmp_path / "missing.json"), "--key", "k")
    assert code == 1
    assert err.count("\n") == 1


def test_a_stopped_erasure_resumes_by_reference(
    site: tuple[Database, Vault], tmp_path: Path
) -> None:
    alice = _seed(site)
    code, out, err = invoke(
        "erase",
        "-t",
        "acme",
        "--customer-id",
        alice.external_id,
        "--reason",
        "request 3",
        "--confirm",
        alice.customer,
        "--max-batches",
        "0",
    )
    assert code == 0, err
    assert "shredded" in out
    assert f"--ref {alice.customer}" in out
    code, _, err = invoke(
        "erase",
        "-t",
        "acme",
        "--customer-id",
        alice.external_id,
        "--reason",
        "request 3",
        "--confirm",
        alice.customer,
    )
    assert code == 1  # the id index went with the start of the erasure
    code, out, err = invoke(
        "erase",
        "-t",
        "acme",
        "--ref",
        alice.customer,
        "--reason",
        "request 3",
        "--confirm",
        alice.customer,
        "--batch-size",
        "1",
    )
    assert code == 0, err
    assert "certified" in out
    assert '"rempart-erasure-certificate"' in out


def test_verification_is_offline(
    site: tuple[Database, Vault], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = _seed(site)
    cert = tmp_path / "certificate.json"
    code, _, err = invoke(
        "erase",
        "-t",
        "acme",
        "--ref",
        alice.customer,
        "--reason",
        "request 4",
        "--confirm",
        alice.customer,
        "--certificate-out",
        str(cert),
    )
    assert code == 0, err
    key = (tmp_path / "data" / "audit-checkpoint.pub").read_text().strip()
    # No database, no data directory: the file and the public key suffice.
    monkeypatch.setenv("REMPART_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("REMPART_DATA_DIR", str(tmp_path / "nowhere"))
    code, out, err = invoke("verify-certificate", str(cert), "--key", key)
    assert code == 0, err
    assert out.startswith("valid: erasure")
    assert not (tmp_path / "nowhere").exists()
    code, _, err = invoke("certificate", "-t", "acme", "--ref", alice.customer)
    assert code == 1  # reading the stored one does need the database


def test_no_certificate_before_the_erasure_is_finished(site: tuple[Database, Vault]) -> None:
    alice = _seed(site)
    code, _, err = invoke("certificate", "-t", "acme", "--ref", alice.customer)
    assert code == 1
    assert err.startswith("error: no erasure certificate for this customer")
