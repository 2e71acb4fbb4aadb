"""Generated correlation observers decide exactly as the general ``observe`` does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from rempart.detection import DetectionEngine, get_pipeline, load_rules
from rempart.detection import engine as engine_module
from rempart.detection.engine import fixed_clock
from rempart.detection.observers import compile_observer, generic_observer

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

BASE = """
title: base {a}
name: r_{a}
id: 00000000-0000-4000-8000-00000000000{n}
logsource: {{product: test}}
detection:
    sel: {{action: {a}}}
    condition: sel
"""

CORRELATIONS = {
    "event_count": "type: event_count\n    rules: [r_fail]\n    condition: {gte: 4}",
    "value_count": "type: value_count\n    rules: [r_read]\n    condition: {gt: 3, field: host}",
    "value_count_eq": (
        "type: value_count\n    rules: [r_read, r_fail]\n    condition: {eq: 3, field: host}"
    ),
    "event_count_two_rules": (
        "type: event_count\n    rules: [r_fail, r_read]\n    condition: {gte: 6}"
    ),
    "value_sum": "type: value_sum\n    rules: [r_pay]\n    condition: {gte: 50, field: n}",
    "temporal": "type: temporal\n    rules: [r_fail, r_read]",
}


def _ruleset(tmp_path: Path, kind: str, group_by: str) -> Any:
    docs = [BASE.format(a=a, n=n) for n, a in enumerate(("fail", "read", "pay", "login"))]
    docs.append(
        f"""
title: the correlation
name: c_main
id: 99999999-9999-4999-8999-999999999999
correlation:
    {CORRELATIONS[kind]}
    group-by: {group_by}
    timespan: 10m
level: high
"""
    )
    # chained: the correlation firing, then a login, for the same group
    docs.append(
        f"""
title: chained
id: 88888888-8888-4888-8888-888888888888
correlation:
    type: temporal_ordered
    rules: [c_main, r_login]
    group-by: {group_by}
    timespan: 10m
level: high
"""
    )
    (tmp_path / "rules.yml").write_text("\n---\n".join(docs), encoding="utf-8")
    ruleset = load_rules([tmp_path], get_pipeline(None))
    assert not ruleset.failed, ruleset.failed
    return ruleset


def _stream(seed: int, n: int) -> list[dict[str, Any]]:
    """Matches for few groups, shuffled inside and beyond the window (out-of-order and
    late matches), with events the generated reader cannot answer (a list, a number,
    a dotted key, a missing value) and untimed ones."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for k in range(n):
        # whole minutes: matches exactly one timespan apart (the window's open end)
        minutes = k // 8 + rng.choice((0, 0, 0, 0, -3, -10, -25))
        event: dict[str, Any] = {
            "action": rng.choice(("fail", "fail", "read", "read", "pay", "login")),
            "actor": {"user": {"uid": f"u{rng.randrange(4)}"}},
            "tenant": rng.choice(("t1", "t2")),
            "host": f"h{rng.randrange(6)}",
            "n": rng.randrange(30),
            "time": (T0 + timedelta(minutes=minutes)).isoformat(),
        }
        odd = rng.random()
        if odd < 0.03:
            event["host"] = [f"h{rng.randrange(6)}", "h9"]
        elif odd < 0.06:
            event["host"] = rng.randrange(3)
        elif odd < 0.08:
            del event["host"]
        elif odd < 0.10:
            event["actor.user.uid"] = "dotted"
        elif odd < 0.12:
            event["tenant"] = None
        elif odd < 0.13:
            del event["time"]
        out.append(event)
    return out


def _state(engine: DetectionEngine) -> list[Any]:
    return [
        [
            (key, g.entries, g.times, g.newest, g.start, g.counts, g.positions, g.total)
            for key, g in state.groups.items()
        ]
        for state in engine.correlations
    ]


def _run(ruleset: Any, events: list[dict[str, Any]], **kwargs: Any) -> tuple[Any, ...]:
    engine = DetectionEngine(ruleset, clock=fixed_clock(T0), **kwargs)
    detections = [
        (
            i,
            d.rule_id,
            None if d.correlation is None else (d.correlation.group, d.correlation.time),
            None if d.correlation is None else d.correlation.count,
        )
        for i, e in enumerate(events)
        for d in engine.process(e, i)
    ]
    return detections, engine.correlation_stats(), _state(engine), engine.untimed


@pytest.mark.parametrize("kind", sorted(CORRELATIONS))
@pytest.mark.parametrize("group_by", ["[actor.user.uid]", "[tenant, actor.user.uid]"])
@pytest.mark.parametrize("bounds", [{}, {"max_groups": 3, "max_entries": 5}])
@pytest.mark.parametrize("seed", [1, 2])
def test_generated_observers_decide_as_the_general_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    group_by: str,
    bounds: dict[str, int],
    seed: int,
) -> None:
    ruleset = _ruleset(tmp_path, kind, group_by)
    events = _stream(seed, 600)
    generated = _run(ruleset, events, **bounds)
    monkeypatch.setattr(engine_module, "compile_observer", generic_observer)
    general = _run(ruleset, events, **bounds)
    assert generated == general
    counters = generated[1]["99999999-9999-4999-8999-999999999999"]
    assert counters["late"] > 0
    if bounds:  # the bounds are reached
        assert counters["evicted_groups"] > 0
    else:  # the correlation does fire
        assert counters["fired"] > 0


@pytest.mark.parametrize(
    ("kind", "generated"),
    [
        ("event_count", True),
        ("value_count", True),
        ("value_count_eq", True),
        ("event_count_two_rules", True),
        ("value_sum", False),
        ("temporal", False),
    ],
)
def test_only_counting_correlations_get_a_generated_observer(
    tmp_path: Path, kind: str, generated: bool
) -> None:
    engine = DetectionEngine(_ruleset(tmp_path, kind, "[actor.user.uid]"))
    state = engine.correlations[0]
    observer = compile_observer(state, state.corr.rule_keys[0])
    assert isinstance(observer, partial) is not generated
