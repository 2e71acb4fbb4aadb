"""Differential tests: the optimised engine answers exactly what the engine answered
before the performance work (matches recorded in ``vectors/equivalence.json`` by the
engine of commit 52f6c04, on SigmaHQ's regression events and on a synthetic audit
stream through the contact-center pack, correlation included). The pack's record was
made again when the pack moved to the audit log's entries: the same engine of 52f6c04,
given the new pack and pipeline files, over ``audit_stream(8_000)``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rempart.detection import (
    DetectionEngine,
    RuleSet,
    contact_center_rules,
    get_pipeline,
    load_rules,
)
from tests.detection.helpers import VECTORS, audit_stream
from tests.detection.test_conformance import _regression_events

GOLDEN: dict[str, Any] = json.loads((VECTORS / "equivalence.json").read_text(encoding="utf-8"))


def _matches(engine: DetectionEngine, events: list[dict[str, Any]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, event in enumerate(events):
        for rule in engine.match(event, i):
            out.setdefault(rule.id, []).append(i)
    return out


@pytest.mark.parametrize("memo", [0, 4096])
def test_windows_matches_on_the_regression_events_are_unchanged(
    sigmahq_windows: RuleSet, memo: int
) -> None:
    events = _regression_events()
    engine = DetectionEngine(sigmahq_windows, candidate_memo=memo)
    for _ in range(2):  # the second pass meets values seen before (memo, caches)
        assert _matches(engine, events) == GOLDEN["windows"]


def test_matches_without_a_pipeline_are_unchanged(sigmahq_generic: RuleSet) -> None:
    assert _matches(DetectionEngine(sigmahq_generic), _regression_events()) == GOLDEN["none"]


def test_every_rule_agrees_with_its_own_predicate_on_every_event(
    sigmahq_windows: RuleSet,
) -> None:
    """Brute force (every rule's predicate on every event) finds what the engine finds."""
    engine = DetectionEngine(sigmahq_windows)
    events = _regression_events()
    brute: dict[str, list[int]] = {}
    for i, event in enumerate(events):
        ev = engine.view(event)
        for rule in engine.rules:
            if rule.predicate(ev):
                brute.setdefault(rule.id, []).append(i)
    assert brute == GOLDEN["windows"]


def test_pack_detections_and_correlation_state_are_unchanged() -> None:
    pack = load_rules([contact_center_rules()], get_pipeline("rempart"))
    engine = DetectionEngine(pack)
    got: dict[str, list[int]] = {}
    for i, event in enumerate(audit_stream(8_000)):
        for detection in engine.process(event, i):
            got.setdefault(detection.rule_id, []).append(i)
    assert got == GOLDEN["pack"]
    assert engine.correlation_stats() == GOLDEN["pack_correlation"]
    assert sum(s["fired"] for s in GOLDEN["pack_correlation"].values()) > 100
