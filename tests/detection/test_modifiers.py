"""The Sigma detection language, case by case, from known-answer vectors.

Each vector (tests/detection/vectors/modifiers.yml) gives events that must match and
events that must not; both the compiled predicate and the reference interpreter are held
to them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.detection.helpers import compile_detection, load_vectors, matches, sigma_rule
from tests.detection.reference import reference_match

CASES = load_vectors("modifiers.yml")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_compiled_rule_matches_exactly_the_expected_events(case: dict[str, Any]) -> None:
    rule = compile_detection(case["detection"], case.get("placeholders"))
    for event in case["match"]:
        assert matches(rule, event), f"should match {event!r}\n{rule.source}"
    for event in case["nomatch"]:
        assert not matches(rule, event), f"should not match {event!r}\n{rule.source}"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reference_interpreter_agrees_with_the_vectors(case: dict[str, Any]) -> None:
    rule = sigma_rule(case["detection"], case.get("placeholders"))
    for event in case["match"]:
        assert reference_match(rule, event), f"reference should match {event!r}"
    for event in case["nomatch"]:
        assert not reference_match(rule, event), f"reference should not match {event!r}"


def test_every_modifier_has_a_vector() -> None:
    text = str([c["detection"] for c in CASES])
    for modifier in (
        "contains",
        "startswith",
        "endswith",
        "all",
        "exists",
        "cased",
        "neq",
        "re",
        "|i",
        "|m",
        "|s",
        "windash",
        "lt",
        "lte",
        "gt",
        "gte",
        "cidr",
        "base64",
        "base64offset",
        "utf16le",
        "utf16be",
        "utf16",
        "wide",
        "expand",
        "fieldref",
        "minute",
        "hour",
        "day",
        "week",
        "month",
        "year",
    ):
        assert modifier in text, f"no vector uses {modifier}"
