"""``rempart detect``: check, scan (exact output form), regress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.detect import app
from rempart.detection import contact_center_rules
from tests.detection.helpers import rule_yaml

runner = CliRunner()
RULE = rule_yaml(
    "    sel:\n        CommandLine|contains: mimikatz\n    condition: sel\n", level="high"
)


def _rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "r.yml").write_text(RULE, encoding="utf-8")
    return folder


def test_scan_prints_one_json_line_per_match_with_the_input_position(tmp_path: Path) -> None:
    events = tmp_path / "events.json"
    events.write_text(
        '{"CommandLine": "mimikatz.exe"}\n'
        '{"CommandLine": "notepad"}\n'
        '{\n  "CommandLine": "run MIMIKATZ"\n}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["scan", "--rules", str(_rules(tmp_path)), str(events)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [json.loads(x) for x in lines] == [
        {"rule_id": "11111111-1111-4111-8111-111111111111", "rule_title": "t", "event": 0},
        {"rule_id": "11111111-1111-4111-8111-111111111111", "rule_title": "t", "event": 2},
    ]
    assert list(json.loads(lines[0])) == ["rule_id", "rule_title", "event"]


def test_scan_numbers_events_across_files_and_reports_bad_ones(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text('{"x": 1}\n[1, 2]\n{broken\n', encoding="utf-8")
    b.write_text('{"CommandLine": "mimikatz"}', encoding="utf-8")
    result = runner.invoke(app, ["scan", "-r", str(_rules(tmp_path)), str(a), str(b)])
    assert result.exit_code == 1  # some input was not an event
    assert [json.loads(x)["event"] for x in result.stdout.splitlines()] == [3]
    assert "event 1" in result.stderr
    assert "JSON object" in result.stderr
    assert "event 2" in result.stderr
    assert "invalid JSON" in result.stderr


def test_scan_with_the_rempart_pipeline_and_the_shipped_pack(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from rempart.audit import Actor, AuditEvent
    from rempart.detection.synthetic import entries
    from rempart.types import TenantId

    events = tmp_path / "audit.json"
    unmask = AuditEvent(
        tenant_id=TenantId("t"),
        actor=Actor("user", "sup-1"),
        action="access.unmask",
        resource_type="interaction",
        resource_id="i-1",
        outcome="success",
        time=datetime(2026, 3, 2, 10, tzinfo=UTC),
        details={"permission": "interaction:unmask", "fields": ["card_number"]},
    )
    [event] = entries([unmask])  # the entry as the audit log writes it
    events.write_text(json.dumps(event), encoding="utf-8")
    result = runner.invoke(
        app, ["scan", "-r", str(contact_center_rules()), "-p", "rempart", str(events), "--stats"]
    )
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["rule_title"] == "Card Data Unmasked"
    assert "evaluations=" in result.stderr


def test_check_lists_failures_with_file_and_line(tmp_path: Path) -> None:
    folder = _rules(tmp_path)
    (folder / "bad.yml").write_text(
        RULE.replace("contains", "nosuchmodifier").replace("1111-4111", "2222-4222")
    )
    result = runner.invoke(app, ["check", str(folder)])
    assert result.exit_code == 1
    assert f"FAIL {folder / 'bad.yml'}:" in result.stderr
    assert "loaded 1 of 2 rules" in result.stdout


def test_check_passes_on_the_pack() -> None:
    result = runner.invoke(app, ["check", "-p", "rempart", str(contact_center_rules())])
    assert result.exit_code == 0
    assert "loaded 13 of 13" in result.stdout


def test_regress_reports_rules_that_miss_their_events(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "k.yml").write_text(rule_yaml("    keywords: [mimikatz]\n    condition: keywords\n"))
    data = tmp_path / "regression_data" / "case"
    data.mkdir(parents=True)
    rid = "11111111-1111-4111-8111-111111111111"
    (data / "info.yml").write_text(f"rule_metadata:\n  - id: {rid}\n    title: t\n")
    (data / f"{rid}.raw").write_text("nothing to see\n")
    result = runner.invoke(app, ["regress", str(tmp_path / "regression_data"), "-r", str(rules)])
    assert result.exit_code == 1
    assert f"FAIL {rid}" in result.stdout
    (data / f"{rid}.raw").write_text("sekurlsa via MIMIKATZ\n")
    result = runner.invoke(app, ["regress", str(tmp_path / "regression_data"), "-r", str(rules)])
    assert result.exit_code == 0, result.output
    assert "1 of 1 rules match" in result.stdout


def test_unknown_pipeline_is_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", "-p", "nope", str(_rules(tmp_path))])
    assert result.exit_code == 1
    assert "unknown pipeline" in result.stderr


def test_detect_is_a_subcommand_of_rempart() -> None:
    from rempart.cli.main import build_app

    result = runner.invoke(build_app(), ["detect", "--help"])
    assert result.exit_code == 0
    assert "scan" in result.stdout
    assert "regress" in result.stdout


def test_audit_export_lines_that_are_not_entries_are_reported(tmp_path: Path) -> None:
    from rempart.detection.scan import NotAnEntry, audit_export_entry

    header = {"format": "rempart-audit-export", "version": 1, "origin": "o"}
    assert audit_export_entry(header) is None
    assert audit_export_entry({"type": "checkpoint", "note": "n"}) is None
    assert audit_export_entry({"type": "pruned", "index": 3, "leaf_hash": "x"}) is None
    assert audit_export_entry({"type": "entry", "entry": '{"a": 1}'}) == {"a": 1}
    for bad in (
        {"type": "entry", "entry": {"a": 1}},
        {"type": "entry", "entry": "{oops"},
        {"type": "entry", "entry": "[1]"},
        {"type": "other"},
        {"action": "x"},
    ):
        with pytest.raises(NotAnEntry):
            audit_export_entry(bad)
    export = tmp_path / "broken.jsonl"
    export.write_text(
        json.dumps(header) + "\n" + json.dumps({"type": "entry", "entry": "{oops"}) + "\n"
    )
    result = runner.invoke(
        app, ["scan", "--audit-export", "-r", str(contact_center_rules()), str(export)]
    )
    assert result.exit_code == 1
    assert "event 1: line 2: the entry is not valid JSON" in result.stderr
