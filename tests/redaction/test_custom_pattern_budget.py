"""A tenant's own patterns cannot hang the engine: nested quantifiers are refused at
load, and what gets through runs under a time budget (the ``regex`` timeout)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rempart.cli.redact import app
from rempart.errors import ConfigurationError
from rempart.redaction import Policy, redact
from rempart.redaction.batch import detect_jsonl
from rempart.redaction.engine import Engine
from rempart.redaction.recognizers.custom import CustomPattern, CustomPatternTimeout

NESTED = [
    r"(a+)+",
    r"(\d*-?)*",
    r"(?:x+y?)*z",
    r"((ab)+c)+",
    r"(?:(?:\w+\s?)+)$",
    r"(a*)+?b",
    r"(?:a(?:b|c+))*d",
    r"(?=(a+)+)x",
    r"(?:\d+){2,}",
]
ACCEPTED = [
    r"CL-?\d{8}",
    r"(\d{2}[ -]?){4}",
    r"(?:\d[ -]?){8,12}",
    r"[A-Z]{2}\d+(?:-\d+)?",
    r"(?:ab)+c",
    r"\b(?:PO|BC)-\d{6}\b",
]
# Exponential without nested quantifiers: only the time budget stops it.
SLOW = r"(?:a|aa)+b"
SLOW_TEXT = "ref " + "a" * 64 + "!"


@pytest.mark.parametrize("pattern", NESTED)
def test_nested_quantifiers_are_refused_at_load(pattern: str) -> None:
    with pytest.raises(ConfigurationError, match="repetition inside a repetition"):
        CustomPattern(label="ACCOUNT", pattern=pattern)


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert CustomPattern(label="ACCOUNT", pattern=pattern).pattern == pattern


def test_refusal_comes_through_the_policy_configuration() -> None:
    with pytest.raises(ConfigurationError, match="CUSTOMER_ACCOUNT"):
        Policy.from_mapping({"custom": [{"label": "CUSTOMER_ACCOUNT", "pattern": r"(\d+)+"}]})


@pytest.mark.parametrize("timeout_ms", [0, -5, 1001])
def test_time_budget_must_be_sensible(timeout_ms: int) -> None:
    with pytest.raises(ConfigurationError, match="timeout_ms"):
        Policy.from_mapping(
            {"custom": [{"label": "ACCOUNT", "pattern": "A\\d+", "timeout_ms": timeout_ms}]}
        )


def test_patterns_the_regex_package_cannot_compile_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="invalid custom pattern"):
        CustomPattern(label="ACCOUNT", pattern="(unclosed")


def test_a_slow_pattern_raises_a_clear_error_instead_of_hanging() -> None:
    engine = Engine(custom=[CustomPattern(label="ACCOUNT", pattern=SLOW, timeout_ms=5)])
    with pytest.raises(CustomPatternTimeout, match=r"ACCOUNT ran past its 5 ms budget"):
        engine.detect(SLOW_TEXT, "en")


def test_a_slow_pattern_blocks_the_message_when_failing_closed() -> None:
    spec = {"label": "ACCOUNT", "pattern": SLOW, "timeout_ms": 5}
    closed = redact(SLOW_TEXT, "en", Policy.from_mapping({"custom": [spec]}))
    assert closed.blocked
    assert "aaaa" not in closed.text
    with pytest.raises(CustomPatternTimeout):
        redact(SLOW_TEXT, "en", Policy.from_mapping({"custom": [spec], "fail_closed": False}))


def test_the_budget_does_not_change_ordinary_matches() -> None:
    policy = Policy.from_mapping(
        {"custom": [{"label": "ACCOUNT", "pattern": r"CL-?\d{8}", "timeout_ms": 1}]}
    )
    res = redact("client CL-12345678 merci", "fr", policy)
    assert res.text == "client [ACCOUNT] merci"


def test_detect_jsonl_uses_the_policy_custom_entities() -> None:
    policy = Policy.from_mapping({"custom": [{"label": "ACCOUNT", "pattern": r"CL-?\d{8}"}]})
    src = io.BytesIO(b'{"id": 1, "lang": "fr", "text": "client CL-12345678"}\n')
    dst = io.StringIO()
    detect_jsonl(src, dst, policy=policy)
    assert json.loads(dst.getvalue()) == {"id": 1, "spans": [[7, 18, "ACCOUNT"]]}


def test_cli_refuses_a_policy_with_nested_quantifiers(tmp_path: Path) -> None:
    pol, src, out = tmp_path / "p.toml", tmp_path / "in.txt", tmp_path / "out.txt"
    pol.write_text('[[custom]]\nlabel = "ACCOUNT"\npattern = "(\\\\d+ ?)+"\n')
    src.write_text("compte 123 456\n")
    result = CliRunner().invoke(app, [str(src), "-o", str(out), "--policy", str(pol)])
    assert result.exit_code == 1
    assert "repetition inside a repetition" in result.output
    assert not out.exists()
