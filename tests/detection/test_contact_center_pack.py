"""The shipped contact-center rules, each with acts that fire it and acts that do not.

The acts are audit events shaped like the platform's own, turned into the entries the
audit log writes (``rempart.audit.schema.to_ocsf``): the rules are tested on what they
read in production. ``tests/api/test_detection_pack.py`` drives the acts themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from rempart.audit import Actor, AuditEvent
from rempart.detection import (
    DetectionEngine,
    RuleSet,
    contact_center_rules,
    get_pipeline,
    load_rules,
)
from rempart.detection.synthetic import entries
from rempart.types import TenantId
from tests.detection.helpers import load_vectors

CASES = load_vectors("contact_center.yml")
TENANT = TenantId("0b8f2f0e-6a3c-4d0e-9d43-5f0c2b7e8a11")


@pytest.fixture(scope="module")
def pack() -> RuleSet:
    return load_rules([contact_center_rules()], get_pipeline("rempart"))


def act(spec: dict[str, Any], time: datetime | None = None) -> AuditEvent:
    """The audit event of one act of the vectors file."""
    fields = dict(spec)
    when = time or datetime.fromisoformat(fields.pop("time"))
    fields.pop("time", None)
    return AuditEvent(
        tenant_id=TenantId(fields.pop("tenant", TENANT)),
        actor=Actor(fields.pop("actor_type", "user"), fields.pop("actor")),
        resource_id=fields.pop("resource_id", None),
        time=when,
        **fields,
    )


def _expand(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events: list[AuditEvent] = []
    for step in steps:
        spec = step["event"]
        start = datetime.fromisoformat(spec["time"])
        for i in range(step.get("repeat", 1)):
            copy = dict(spec)
            if step.get("distinct_resource"):
                copy["resource_id"] = f"{spec['resource_id']}-{i}"
            events.append(act(copy, start + timedelta(seconds=i * step.get("step_seconds", 1))))
    return list(entries(events))


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
def test_positive_acts_fire_the_rule(pack: RuleSet, case: dict[str, Any]) -> None:
    assert case["rule"] in _fired(pack, _expand(case["positive"]))
    if case["rule"] not in {c.id for c in pack.correlations}:
        for step in case["positive"]:  # a single-event rule: each act alone
            assert case["rule"] in _fired(pack, _expand([step])), step


@pytest.mark.parametrize("case", CASES, ids=[c["rule"][-2:] for c in CASES])
def test_negative_acts_do_not(pack: RuleSet, case: dict[str, Any]) -> None:
    for step in case["negative"]:
        assert case["rule"] not in _fired(pack, _expand([step])), step


def test_each_act_is_read_where_the_audit_log_writes_it(pack: RuleSet) -> None:
    """The positive card-unmask act fires on its entry and no longer fires once the
    entry's fields move elsewhere: the rule reads the entry's own paths."""
    [case] = [c for c in CASES if c["rule"].endswith("4a12")]
    [entry] = _expand(case["positive"])
    assert entry["api"]["operation"] == "access.unmask"
    assert entry["unmapped"]["details"]["fields"] == ["card_number", "email", "phone"]
    assert case["rule"] in _fired(pack, [entry])
    flat = {**entry, "action": "access.unmask", "details": entry["unmapped"]["details"]}
    del flat["api"], flat["unmapped"]
    assert _fired(pack, [flat]) == set()


def test_building_blocks_stay_silent(pack: RuleSet) -> None:
    """generate: false: a single interaction read is not an alert by itself."""
    read = {
        "time": "2026-03-02T10:00:00Z",
        "actor": "a",
        "action": "interaction.read",
        "resource_type": "interaction",
        "resource_id": "c",
        "outcome": "success",
    }
    assert _fired(pack, list(entries([act(read)]))) == set()


def test_rules_use_the_names_of_the_pipeline() -> None:
    from rempart.detection.pipelines.rempart import FIELDS, PREFIXES

    ruleset = load_rules([contact_center_rules()], get_pipeline("none"))
    names = {f for r in ruleset.rules for f in r.fields}
    names |= {g for c in ruleset.correlations for g in (*c.group_by, c.value_field) if g}
    prefixes = tuple(str(p) for p in PREFIXES)
    assert all(n in FIELDS or n.startswith(prefixes) for n in names), names
