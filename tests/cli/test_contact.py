"""``rempart contact``: declaring queues and teams, and the data-protection policy."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_commands import env, invoke  # noqa: F401 - the env fixture


def test_queues_are_declared_with_their_team_and_listed(env: Path) -> None:  # noqa: F811
    assert invoke("tenant", "create", "acme", "--name", "ACME")[0] == 0
    code, out, err = invoke(
        "contact", "queue", "add", "Sinistres", "--team", "Team A", "-t", "acme"
    )
    assert code == 0, err
    assert invoke("contact", "queue", "add", "Support", "-t", "acme")[0] == 0
    code, out, _ = invoke("contact", "queue", "list", "-t", "acme")
    assert code == 0
    assert "Sinistres" in out
    assert " A " in out
    assert "Support" in out


def test_policy_is_shown_changed_and_bad_values_refused_in_one_line(
    env: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert invoke("tenant", "create", "acme", "--name", "ACME")[0] == 0
    code, out, _ = invoke("contact", "policy", "show", "-t", "acme")
    assert code == 0
    assert json.loads(out)["protection"] == "redacted"  # the safe default
    code, _, err = invoke(
        "contact", "policy", "set", "-t", "acme", "--protection", "redacted+original"
    )
    assert code == 0, err
    assert json.loads(invoke("contact", "policy", "show", "-t", "acme")[1])["protection"] == (
        "redacted+original"
    )
    code, out, err = invoke("contact", "policy", "set", "-t", "acme", "--protection", "clear")
    assert code == 1
    assert err.startswith("error: invalid policy: protection")
    assert len(err.strip().splitlines()) == 1
    bad = tmp_path / "policy.json"
    bad.write_text('{"entities": ["NOT_AN_ENTITY"]}')
    code, _, err = invoke("contact", "policy", "set", "-t", "acme", "--redaction", str(bad))
    assert code == 1
    assert "NOT_AN_ENTITY" in err
    # Nothing of the refused changes was kept.
    assert json.loads(invoke("contact", "policy", "show", "-t", "acme")[1])["redaction"] == {}
    code, _, err = invoke("contact", "queue", "add", "Q", "--team", "nobody", "-t", "acme")
    assert code == 0, err  # a named team is created with the queue
    code, _, err = invoke("contact", "queue", "add", "", "-t", "acme")
    assert code == 1
    assert err.startswith("error: a queue name")
