"""Correlation rules: types, sliding windows, grouping, aliases, chaining, bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rempart.detection import DetectionEngine, get_pipeline, load_rules

BASE = """
title: {title}
name: {name}
id: {id}
logsource: {{product: test}}
detection:
    sel: {{action: {action}}}
    condition: sel
"""
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _ids() -> Any:
    n = 0
    while True:
        n += 1
        yield f"00000000-0000-4000-8000-{n:012d}"


def _engine(tmp_path: Path, correlation: str, **kwargs: Any) -> DetectionEngine:
    ids = _ids()
    docs = [
        BASE.format(title=f"base {a}", name=f"r_{a}", id=next(ids), action=a)
        for a in ("login", "fail", "read", "pay")
    ]
    docs.append(correlation)
    (tmp_path / "rules.yml").write_text("\n---\n".join(docs), encoding="utf-8")
    ruleset = load_rules([tmp_path], get_pipeline(None))
    assert not ruleset.failed, ruleset.failed
    return DetectionEngine(ruleset, **kwargs)


def _corr(kind: str, rules: str, condition: str, timespan: str = "10m", extra: str = "") -> str:
    return f"""
title: the correlation
id: 99999999-9999-4999-8999-999999999999
correlation:
    type: {kind}
    rules: {rules}
    group-by: [user]
    timespan: {timespan}
    condition: {condition}
{extra}
level: high
"""


def _ev(action: str, minutes: float, user: str = "u1", **fields: Any) -> dict[str, Any]:
    return {
        "action": action,
        "user": user,
        "time": (T0 + timedelta(minutes=minutes)).isoformat(),
        **fields,
    }


def _fired(engine: DetectionEngine, events: list[dict[str, Any]]) -> list[int]:
    return [
        i for i, e in enumerate(events) for d in engine.process(e, i) if d.correlation is not None
    ]


def test_event_count_fires_once_per_burst(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _corr("event_count", "[r_fail]", "{gte: 3}"))
    events = [_ev("fail", m) for m in (0, 1, 2, 3, 4)]
    assert _fired(engine, events) == [2]  # then the group starts over


def test_windows_slide_instead_of_fixed_buckets(tmp_path: Path) -> None:
    """Events at 10:08, 10:12, 10:16 are 3 within 10 minutes across any bucket edge."""
    engine = _engine(tmp_path, _corr("event_count", "[r_fail]", "{gte: 3}"))
    events = [_ev("fail", m) for m in (8, 12, 16)]
    assert _fired(engine, events) == [2]


def test_events_outside_the_window_do_not_count(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _corr("event_count", "[r_fail]", "{gte: 3}"))
    assert _fired(engine, [_ev("fail", m) for m in (0, 6, 11, 22, 33)]) == []


def test_groups_are_separate(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _corr("event_count", "[r_fail]", "{gte: 2}"))
    events = [_ev("fail", 0, "a"), _ev("fail", 1, "b"), _ev("fail", 2, "a")]
    assert _fired(engine, events) == [2]


def test_value_count_counts_distinct_values(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _corr("value_count", "[r_read]", "{gt: 2, field: record}"))
    events = [_ev("read", m, record=r) for m, r in ((0, "a"), (1, "a"), (2, "b"), (3, "c"))]
    assert _fired(engine, events) == [3]


@pytest.mark.parametrize(
    ("kind", "condition", "amounts", "expected"),
    [
        ("value_sum", "{gte: 100, field: amount}", [40, 30, 30], [2]),
        ("value_avg", "{gt: 50, field: amount}", [40, 30, 90], [2]),
        ("value_median", "{gte: 30, field: amount}", [10, 30, 90], [2]),
        ("value_percentile", "{gte: 80, field: amount, percentile: 90}", [10, 20, 95], [2]),
        ("value_sum", "{gte: 1000, field: amount}", [40, 30, 30], []),
    ],
)
def test_value_aggregates(
    tmp_path: Path, kind: str, condition: str, amounts: list[int], expected: list[int]
) -> None:
    engine = _engine(tmp_path, _corr(kind, "[r_pay]", condition))
    events = [_ev("pay", i, amount=a) for i, a in enumerate(amounts)]
    assert _fired(engine, events) == expected


def test_temporal_needs_every_rule_in_any_order(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _corr("temporal", "[r_login, r_read]", "null"))
    assert _fired(engine, [_ev("read", 0), _ev("login", 1)]) == [1]


def test_temporal_ordered_needs_the_order(tmp_path: Path) -> None:
    corr = _corr("temporal_ordered", "[r_login, r_read]", "null")
    engine = _engine(tmp_path, corr)
    assert _fired(engine, [_ev("read", 0), _ev("login", 1)]) == []
    assert _fired(engine, [_ev("read", 2)]) == [0]


def test_aliases_group_different_fields_together(tmp_path: Path) -> None:
    corr = """
title: aliased
id: 99999999-9999-4999-8999-999999999999
correlation:
    type: temporal
    rules: [r_login, r_read]
    aliases:
        who:
            r_login: user
            r_read: reader
    group-by: [who]
    timespan: 10m
"""
    engine = _engine(tmp_path, corr)
    events = [_ev("login", 0, user="x"), _ev("read", 1, user="y", reader="x")]
    assert _fired(engine, events) == [1]


def test_chained_correlations_and_generate(tmp_path: Path) -> None:
    inner = _corr("event_count", "[r_fail]", "{gte: 3}").replace(
        "id: 99999999-9999-4999-8999-999999999999",
        "name: many_fails\nid: 88888888-8888-4888-8888-888888888888",
    )
    outer = _corr("temporal_ordered", "[many_fails, r_login]", "null")
    engine = _engine(tmp_path, inner + "\n---\n" + outer)
    events = [_ev("fail", m) for m in (0, 1, 2)] + [_ev("login", 3)]
    out = [(i, d.rule_id) for i, e in enumerate(events) for d in engine.process(e, i)]
    # generate: false (default) silences the inner rules; the chain fires on the login.
    assert out == [(3, "99999999-9999-4999-8999-999999999999")]


def test_generate_true_keeps_base_rule_matches(tmp_path: Path) -> None:
    corr = _corr("event_count", "[r_fail]", "{gte: 9}", extra="    generate: true")
    corr = corr.replace(
        "    condition: {gte: 9}\n\n    generate: true",
        "    condition: {gte: 9}\n    generate: true",
    )
    engine = _engine(tmp_path, corr)
    assert [d.rule_title for d in engine.process(_ev("fail", 0))] == ["base fail"]


def test_out_of_order_events_inside_the_window_count(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _corr("event_count", "[r_fail]", "{gte: 3}"))
    events = [_ev("fail", 5), _ev("fail", 9), _ev("fail", 1)]
    assert _fired(engine, events) == [2]
    assert engine.correlation_stats()["99999999-9999-4999-8999-999999999999"]["late"] == 0


def test_late_events_are_counted_not_used(tmp_path: Path) -> None:
    engine = _engine(tmp_path, _corr("event_count", "[r_fail]", "{gte: 2}"))
    assert _fired(engine, [_ev("fail", 30), _ev("fail", 1)]) == []
    assert engine.correlation_stats()["99999999-9999-4999-8999-999999999999"]["late"] == 1


def test_state_is_bounded_in_groups_and_entries(tmp_path: Path) -> None:
    engine = _engine(
        tmp_path, _corr("event_count", "[r_fail]", "{gte: 1000}"), max_groups=5, max_entries=10
    )
    for n in range(50):
        engine.process(_ev("fail", n / 100, user=f"user{n % 20}"))
    for n in range(50):
        engine.process(_ev("fail", 1 + n / 100, user="one"))
    stats = engine.correlation_stats()["99999999-9999-4999-8999-999999999999"]
    assert stats["groups"] <= 5
    assert stats["evicted_groups"] > 0
    assert stats["overflow"] == 40


def test_events_without_time_use_the_engine_clock(tmp_path: Path) -> None:
    from rempart.detection.engine import fixed_clock

    engine = _engine(tmp_path, _corr("event_count", "[r_fail]", "{gte: 2}"), clock=fixed_clock(T0))
    events = [{"action": "fail", "user": "u"}, {"action": "fail", "user": "u"}]
    assert _fired(engine, events) == [1]
    assert engine.untimed == 2


def test_temporal_with_an_extended_condition(tmp_path: Path) -> None:
    corr = """
title: extended
id: 99999999-9999-4999-8999-999999999999
correlation:
    type: temporal
    group-by: [user]
    timespan: 10m
    condition: r_login and (r_read or r_pay) and not r_fail
"""
    engine = _engine(tmp_path, corr)
    assert _fired(engine, [_ev("login", 0), _ev("pay", 1)]) == [1]
    engine = _engine(tmp_path, corr)
    assert _fired(engine, [_ev("fail", 0), _ev("login", 1), _ev("read", 2)]) == []


@pytest.mark.parametrize(
    ("kind", "rules", "condition"),
    [
        ("value_count", "[r_fail]", "{gte: 1000, field: host}"),
        ("value_sum", "[r_fail]", "{gte: 100000, field: n}"),
        ("temporal", "[r_fail, r_read, r_pay]", "{gte: 3}"),
        ("event_count", "[r_fail]", "{gte: 1000}"),
    ],
)
def test_at_the_entries_bound_the_window_aggregates_stay_those_of_the_entries_kept(
    tmp_path: Path, kind: str, rules: str, condition: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(tmp_path, _corr(kind, rules, condition, "1h"), max_entries=7)
    events = [
        _ev(
            "fail" if n % 5 else "read", n / 10 + (1.5 if n % 13 == 0 else 0), host=f"h{n % 9}", n=n
        )
        for n in range(120)
    ]
    fired = _fired(engine, events)
    state = engine.correlations[0]
    assert state.stats.overflow > 0
    for group in state.groups.values():
        assert len(group.entries) <= 7
        kept = (dict(group.counts), dict(group.positions), group.total, group.start)
        group.rebuild(state.corr.timespan)  # recomputed from the entries kept
        assert kept == (group.counts, group.positions, group.total, group.start)
    # The same decisions as recomputing the window after each drop (the former way).
    from rempart.detection.correlation import _Group

    def recompute(group: _Group, excess: int, span: float) -> None:
        del group.entries[:excess], group.times[:excess]
        group.rebuild(span)

    monkeypatch.setattr(_Group, "drop_oldest", recompute)
    again = _engine(tmp_path, _corr(kind, rules, condition, "1h"), max_entries=7)
    assert _fired(again, events) == fired
    assert again.correlation_stats() == engine.correlation_stats()


@pytest.mark.parametrize(
    ("kind", "rules", "condition"),
    [
        ("event_count", "[r_fail]", "{gte: 4}"),
        ("value_count", "[r_fail]", "{gte: 3, field: host}"),
        ("temporal", "[r_fail, r_read, r_login]", "null"),
    ],
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_out_of_order_matches_slide_to_the_same_decisions(
    tmp_path: Path, kind: str, rules: str, condition: str, seed: int
) -> None:
    """An out-of-order match is decided by sliding running aggregates over the windows
    that hold it; the decisions equal those of evaluating each window from its entries."""
    import random

    rng = random.Random(seed)
    actions = ("fail", "fail", "read", "login")
    events = []
    for n in range(400):
        minutes = n * 0.5 + rng.uniform(-9.0, 0.0)  # shuffled inside the 10 m window
        user = f"u{rng.randrange(3)}"
        events.append(_ev(rng.choice(actions), minutes, user=user, host=f"h{rng.randrange(5)}"))
    engine = _engine(tmp_path, _corr(kind, rules, condition))
    slid = _fired(engine, events)
    reference = _engine(tmp_path, _corr(kind, rules, condition))
    assert reference.correlations[0]._slides
    reference.correlations[0]._slides = False  # each window from its entries
    assert _fired(reference, events) == slid
    assert reference.correlation_stats() == engine.correlation_stats()
    assert slid  # the streams do fire, inside and outside the out-of-order path
    assert engine.correlation_stats()["99999999-9999-4999-8999-999999999999"]["late"] < 400
