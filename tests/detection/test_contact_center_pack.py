"""The shipped contact-center rules, each with events that fire it and events that do not."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest

from rempart.detection import (
    DetectionEngine,
    RuleSet,
    contact_center_rules,
    get_pipeline,
    load_rules,
)
from tests.detection.helpers import load_vectors

CASES = load_vectors("contact_center.yml")


@pytest.fixture(scope="module")
def pack() -> RuleSet:
    return load_rules([contact_center_rules()], get_pipeline("rempart"))


def _expand(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for step in steps:
        for i in range(step.get("repeat", 1)):
            event = copy.deepcopy(step["event"])
            start = datetime.fromisoformat(event["time"])
            event["time"] = (start + timedelta(seconds=i * step.get("step_seconds", 1))).isoformat()
            if step.get("distinct_resource"):
                event["resource"]["id"] = f"{event['resource']['id']}-{i}"
            events.append(event)
    return events


def _fired(ruleset: RuleSet, events: list[dict[str, Any]]) -> set[str]:
    engine = DetectionEngine(ruleset)
    return {d.rule_id for i, e in enumerate(events) for d in engine.process(e, i)}


def test_the_pack_loads_whole(pack: RuleSet) -> None:
    assert pack.failed == []
    assert pack.skipped == []
    assert len(pack.rules) == 9
    assert len(pack.correlations) == 4


def test_every_alerting_rule_has_vectors(pack: RuleSet) -> None:
    alerting = {r.id for r in pack.rules if r.level != "informational"}
    alerting |= {c.id for c in pack.correlations if c.level != "medium"}
    assert alerting == {c["rule"] for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c["rule"][-2:] for c in CASES])
def test_positive_events_fire_the_rule(pack: RuleSet, case: dict[str, Any]) -> None:
    assert case["rule"] in _fired(pack, _expand(case["positive"]))


@pytest.mark.parametrize("case", CASES, ids=[c["rule"][-2:] for c in CASES])
def test_negative_events_do_not(pack: RuleSet, case: dict[str, Any]) -> None:
    for step in case["negative"]:
        assert case["rule"] not in _fired(pack, _expand([step])), step


def test_building_blocks_stay_silent(pack: RuleSet) -> None:
    """generate: false: a single record read is not an alert by itself."""
    event = {
        "time": "2026-03-02T10:00:00Z",
        "tenant": "t1",
        "actor": {"user": {"uid": "a"}},
        "action": "customer.read",
        "resource": {"type": "customer", "id": "c"},
        "outcome": "success",
    }
    assert _fired(pack, [event]) == set()


def test_rules_use_the_flat_names_of_the_pipeline() -> None:
    from rempart.detection.pipelines.rempart import FIELDS

    ruleset = load_rules([contact_center_rules()], get_pipeline("none"))
    flat_fields = {f for r in ruleset.rules for f in r.fields}
    assert flat_fields <= set(FIELDS)  # every field the pack uses is mapped
