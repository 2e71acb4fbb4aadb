"""Broken rules are reported with file:line and a reason; the other rules still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from rempart.detection import RuleError, get_pipeline, load_rules
from rempart.detection.compiler import MAX_CONDITION_DEPTH
from tests.detection.helpers import compile_detection, rule_yaml

GOOD = rule_yaml("    sel:\n        A: 1\n    condition: sel\n")


def _load(tmp_path: Path, **files: str) -> tuple[list[RuleError], int]:
    for name, text in files.items():
        (tmp_path / f"{name}.yml").write_text(text, encoding="utf-8")
    ruleset = load_rules([tmp_path])
    return ruleset.failed, ruleset.loaded


def test_malformed_yaml_reports_its_line_and_the_rest_loads(tmp_path: Path) -> None:
    bad = "title: x\ndetection:\n    sel:\n      - a: [1, 2\n    condition: sel\n"
    failed, loaded = _load(tmp_path, bad=bad, good=GOOD)
    assert loaded == 1
    (err,) = failed
    assert err.location.path == tmp_path / "bad.yml"
    assert err.location.line is not None
    assert err.location.line >= 4
    assert "invalid YAML" in err.reason
    assert str(err).startswith(f"{tmp_path / 'bad.yml'}:")


def test_unknown_modifier_is_reported_on_its_line(tmp_path: Path) -> None:
    text = rule_yaml("    sel:\n        Image|sortof: x\n    condition: sel\n")
    failed, loaded = _load(tmp_path, bad=text, good=GOOD.replace("1111-4111", "2222-4222"))
    assert loaded == 1
    (err,) = failed
    assert "sortof" in err.reason
    line = (tmp_path / "bad.yml").read_text().splitlines()[err.location.line - 1]  # type: ignore[operator]
    assert "sortof" in line


def test_undefined_identifier_in_condition_is_an_error(tmp_path: Path) -> None:
    text = rule_yaml("    sel:\n        A: 1\n    condition: sel and nothere\n")
    failed, loaded = _load(tmp_path, bad=text)
    assert loaded == 0
    assert "nothere" in failed[0].reason
    assert failed[0].location.line is not None


def test_a_document_that_is_not_a_mapping_is_an_error(tmp_path: Path) -> None:
    failed, _ = _load(tmp_path, bad="- just\n- a list\n")
    assert "mapping" in failed[0].reason


def test_duplicate_rule_ids_are_an_error(tmp_path: Path) -> None:
    failed, loaded = _load(tmp_path, a=GOOD, b=GOOD)
    assert loaded == 1
    assert "duplicate rule id" in failed[0].reason


def test_unresolved_placeholder_says_which(tmp_path: Path) -> None:
    text = rule_yaml("    sel:\n        User|expand: '%admins%'\n    condition: sel\n")
    failed, loaded = _load(tmp_path, bad=text)
    assert loaded == 0
    assert "%admins%" in failed[0].reason
    line = (tmp_path / "bad.yml").read_text().splitlines()[failed[0].location.line - 1]  # type: ignore[operator]
    assert "%admins%" in line


def test_placeholders_from_the_pipeline_resolve(tmp_path: Path) -> None:
    (tmp_path / "r.yml").write_text(
        rule_yaml("    sel:\n        User|expand: '%admins%'\n    condition: sel\n")
    )
    pipeline = get_pipeline(None).with_placeholders({"admins": ["root"]})
    assert load_rules([tmp_path], pipeline).loaded == 1


def test_invalid_regex_is_an_error(tmp_path: Path) -> None:
    text = rule_yaml("    sel:\n        A|re: 'a(b'\n    condition: sel\n")
    failed, loaded = _load(tmp_path, bad=text)
    assert loaded == 0
    assert failed


def test_unknown_pipeline_is_refused() -> None:
    with pytest.raises(Exception, match="unknown pipeline"):
        get_pipeline("linux")


def test_too_deep_condition_is_refused_not_crashing() -> None:
    detection: dict[str, object] = {"sel": {"A": 1}}
    cond = "sel"
    for _ in range(MAX_CONDITION_DEPTH + 5):
        cond = f"not ({cond})"
    detection["condition"] = cond
    with pytest.raises(RuleError, match="nested deeper"):
        compile_detection(detection)


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bin.yml").write_bytes(b"\xff\xfe\x00title")
    failed, _ = _load(tmp_path)
    assert "UTF-8" in failed[0].reason


def test_correlation_referencing_a_missing_rule_is_reported(tmp_path: Path) -> None:
    text = (
        "title: c\nid: 33333333-3333-4333-8333-333333333333\ncorrelation:\n"
        "    type: event_count\n    rules: [nope]\n    group-by: [a]\n    timespan: 5m\n"
        "    condition: {gte: 2}\n"
    )
    failed, loaded = _load(tmp_path, c=text)
    assert loaded == 0
    assert "nope" in failed[0].reason
