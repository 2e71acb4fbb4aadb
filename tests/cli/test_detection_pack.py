"""Weakening a tenant's protection from the command line raises the pack's alert.

``rempart contact policy set`` and ``rempart identity policy set`` record both sides of
the change in the audit log; the contact-center pack reads them there. Changes that
strengthen or keep the protection raise nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from rempart.cli.common import tenant_context
from rempart.config import load_settings
from rempart.redaction.entities import BUILTIN_ENTITIES
from rempart.storage.open import open_database
from tests.cli.test_commands import env, invoke  # noqa: F401 - the env fixture
from tests.detection.helpers import logged_detections

WEAKENED = "Security Setting Weakened"


def alerts() -> list[tuple[str, dict[str, object]]]:
    db = open_database(load_settings())
    try:
        return logged_detections(db, tenant_context(db, "acme"))
    finally:
        db.dispose()


def run(*args: str) -> None:
    code, _, err = invoke(*args, "-t", "acme")
    assert code == 0, err


def test_lowering_the_sign_in_assurance_below_mfa_raises_an_alert(env: Path) -> None:  # noqa: F811
    assert invoke("tenant", "create", "acme", "--name", "ACME")[0] == 0
    run("identity", "policy", "set", "--min-assurance", "2")  # raised: nothing
    run("identity", "policy", "set", "--min-assurance", "2", "--idle-timeout", "900")
    assert alerts() == []
    run("identity", "policy", "set", "--min-assurance", "1")  # MFA no longer required
    [(title, entry)] = alerts()
    assert title == WEAKENED
    change = entry["unmapped"]["change"]  # type: ignore[index]
    assert change["before"]["min_assurance"] == 2
    assert change["after"]["min_assurance"] == 1


def test_turning_redaction_down_raises_an_alert(env: Path, tmp_path: Path) -> None:  # noqa: F811
    assert invoke("tenant", "create", "acme", "--name", "ACME")[0] == 0
    run("contact", "policy", "set", "--unknown-queues", "create")
    run("contact", "policy", "set", "--chat-failure", "closed")
    assert alerts() == []
    run("contact", "policy", "set", "--chat-failure", "open")  # chats pass unredacted
    assert [t for t, _ in alerts()] == [WEAKENED]
    run("contact", "policy", "set", "--chat-failure", "closed")
    no_cards = tmp_path / "no-cards.json"
    no_cards.write_text(json.dumps({"entities": sorted(BUILTIN_ENTITIES - {"CARD_NUMBER"})}))
    run("contact", "policy", "set", "--redaction", str(no_cards))  # card numbers kept
    found = alerts()
    assert [t for t, _ in found] == [WEAKENED, WEAKENED]
    details = found[1][1]["unmapped"]["details"]  # type: ignore[index]
    assert details["entities_unredacted"] == ["CARD_NUMBER"]
    every = tmp_path / "all.json"
    every.write_text("{}")  # back to every entity: stronger, nothing new
    run("contact", "policy", "set", "--redaction", str(every))
    assert len(alerts()) == 2


def test_keeping_originals_raises_an_alert(env: Path) -> None:  # noqa: F811
    assert invoke("tenant", "create", "acme", "--name", "ACME")[0] == 0
    run("contact", "policy", "set", "--protection", "redacted+original")
    [(title, entry)] = alerts()
    assert title == WEAKENED
    assert entry["unmapped"]["change"]["after"]["protection"] == "redacted+original"  # type: ignore[index]


def test_an_audit_export_is_scanned_entry_by_entry(env: Path, tmp_path: Path) -> None:  # noqa: F811
    """What an auditor holds: ``rempart audit export`` read by ``rempart detect scan
    --audit-export``; the match points at the export's line (0-based)."""
    from rempart.detection import contact_center_rules

    assert invoke("tenant", "create", "acme", "--name", "ACME")[0] == 0
    run("contact", "policy", "set", "--unknown-queues", "create")
    run("contact", "policy", "set", "--chat-failure", "open")
    export = tmp_path / "acme.jsonl"
    code, _, err = invoke("audit", "export", str(export), "--tenant", "acme")
    assert code == 0, err
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    code, out, err = invoke(
        "detect", "scan", "--audit-export", "-p", "rempart", "-r", str(contact_center_rules()),
        str(export),
    )  # fmt: skip
    assert code == 0, err
    [match] = [json.loads(line) for line in out.splitlines()]
    assert match["rule_title"] == WEAKENED
    flagged = json.loads(lines[match["event"]]["entry"])
    assert flagged["api"]["operation"] == "data_policy.update"
    assert flagged["unmapped"]["change"]["after"]["chat_failure"] == "open"
    # Without the flag the export's lines are not entries: nothing matches.
    code, out, _ = invoke(
        "detect", "scan", "-p", "rempart", "-r", str(contact_center_rules()), str(export)
    )
    assert code == 0
    assert out == ""
