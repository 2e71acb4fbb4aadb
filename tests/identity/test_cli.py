"""``rempart identity``: provider configuration, policy and the bootstrap link from the CLI."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from rempart.cli.main import build_app
from tests.identity.oidc_server import REDIRECT_URI, OidcServer

runner = CliRunner()


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


def test_idp_set_pins_the_provider_and_seals_the_secret(
    env: Path, oidc: OidcServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_OIDC_SECRET", "very-secret-value")
    code, out, err = invoke(
        "identity", "idp", "set", "-t", "acme",
        "--issuer", oidc.issuer, "--client-id", "rempart-a",
        "--redirect-uri", REDIRECT_URI, "--client-secret-env", "ACME_OIDC_SECRET",
        "--role-map", "cc-agents=agent", "--insecure-http-loopback",
    )  # fmt: skip
    assert code == 0, err
    assert "pinned" in out
    assert "very-secret" not in out
    code, out, _ = invoke("identity", "idp", "show", "-t", "acme")
    shown = json.loads(out)
    assert shown["client_secret"] == "sealed"
    assert "very-secret" not in out
    assert shown["jwks_kids"] == [oidc.key.kid]
    assert shown["claim_mapping"]["roles"] == {"cc-agents": ["agent"]}
    assert invoke("identity", "idp", "refresh", "-t", "acme")[0] == 0


def test_idp_set_refuses_weak_settings_in_one_line(env: Path, oidc: OidcServer) -> None:
    code, _, err = invoke(
        "identity", "idp", "set", "-t", "acme", "--issuer", oidc.issuer,
        "--client-id", "c", "--redirect-uri", REDIRECT_URI, "--alg", "HS256",
        "--insecure-http-loopback",
    )  # fmt: skip
    assert code == 1
    assert err.startswith("error:")
    assert "algorithms" in err
    assert len(err.strip().splitlines()) == 1


def test_policy_set_validates_networks(env: Path) -> None:
    code, _, err = invoke("identity", "policy", "set", "-t", "acme", "--allow", "10.0.0.0/33")
    assert code == 1
    assert "not an IP network" in err
    code, out, _ = invoke(
        "identity",
        "policy",
        "set",
        "-t",
        "acme",
        "--allow",
        "10.1.2.3/8",
        "--allow",
        "2001:db8::/32",
    )
    assert code == 0
    assert "10.0.0.0/8" in out
    shown = json.loads(invoke("identity", "policy", "show", "-t", "acme")[1])
    assert shown["allowed_networks"] == ["10.0.0.0/8", "2001:db8::/32"]


def test_bootstrap_prints_a_one_time_link(env: Path, oidc: OidcServer) -> None:
    code, _, err = invoke("identity", "bootstrap", "-t", "acme", "--base-url", "https://r.example")
    assert code == 1
    assert "identity provider" in err
    assert invoke(
        "identity", "idp", "set", "-t", "acme", "--issuer", oidc.issuer, "--client-id", "rempart-a",
        "--redirect-uri", REDIRECT_URI, "--insecure-http-loopback",
    )[0] == 0  # fmt: skip
    code, out, _ = invoke("identity", "bootstrap", "-t", "acme", "--base-url", "https://r.example/")
    assert code == 0
    url = out.strip().splitlines()[-1]
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "r.example", "/auth/acme/login")
    assert parse_qs(parts.query)["bootstrap"][0].startswith("rb1.")


def test_configuration_changes_from_the_cli_are_audited(env: Path, oidc: OidcServer) -> None:
    from rempart.audit import query
    from rempart.cli.common import tenant_context
    from rempart.config import load_settings
    from rempart.storage.open import open_database

    assert invoke(
        "identity", "idp", "set", "-t", "acme", "--issuer", oidc.issuer, "--client-id", "rempart-a",
        "--redirect-uri", REDIRECT_URI, "--insecure-http-loopback",
    )[0] == 0  # fmt: skip
    assert invoke("identity", "policy", "set", "-t", "acme", "--min-assurance", "2")[0] == 0
    db = open_database(load_settings())
    try:
        ctx = tenant_context(db, "acme")
        with db.tenant_session(ctx) as s:
            done = [e for e in query(s) if e.outcome == "success"]
    finally:
        db.dispose()
    assert {"identity.idp.configure", "identity.policy.set"} <= {e.action for e in done}
    # The trace names the operating-system user who ran the command, as every
    # other command line change does.
    actors = {e.actor.id for e in done if e.action.startswith("identity.")}
    assert actors == {f"cli:{getpass.getuser()}"}
