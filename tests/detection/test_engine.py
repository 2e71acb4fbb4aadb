"""The engine on bad and hostile input: precise errors, nothing else lost."""

from __future__ import annotations

from typing import Any

import pytest

from rempart.detection import DetectionEngine, EventError, EventView, RuleSet
from rempart.detection.compiler import compile_rule
from rempart.detection.event import MAX_DEPTH, MAX_VALUES
from rempart.detection.matchers import BoundedRegex
from rempart.detection.pipelines import GENERIC
from rempart.errors import RempartError
from tests.detection.helpers import sigma_rule


def _engine(*detections: dict[str, Any], timing: bool = False) -> DetectionEngine:
    rules = []
    for n, det in enumerate(detections):
        rule = sigma_rule(det)
        compiled = compile_rule(rule)
        compiled.id = f"rule-{n}"
        rules.append(compiled)
    return DetectionEngine(RuleSet(GENERIC, rules=rules), timing=timing)


def test_events_that_are_not_objects_are_refused_clearly() -> None:
    engine = _engine({"sel": {"A": 1}, "condition": "sel"})
    for bad in ([1, 2], "text", 42, None):
        with pytest.raises(EventError, match="JSON object"):
            engine.match(bad)  # type: ignore[arg-type]


def test_deeply_nested_events_are_an_error_where_they_must_be_read() -> None:
    engine = _engine(
        {"sel": {"A": 1}, "condition": "sel"},
        {"keywords": ["needle"], "condition": "keywords"},
    )
    event: dict[str, Any] = {"A": 1}
    node = event
    for _ in range(MAX_DEPTH + 10):
        node["n"] = {}
        node = node["n"]
    # Reading field A is fine; the keyword search must walk everything and refuses.
    assert [r.id for r in engine.match(event, event_index=3)] == ["rule-0"]
    assert engine.errors[1] == 1
    assert "nested deeper" in engine.problems[-1].message
    assert engine.match({"A": 1, "x": "needle"})  # the engine goes on


def test_enormous_events_are_bounded() -> None:
    view = EventView({"a": list(range(MAX_VALUES + 1)), "b": 1})
    assert view.text("b") == ("1",)  # what is read directly stays cheap
    with pytest.raises(EventError, match="more than"):
        view.all_text()


def test_catastrophic_regex_is_bounded_and_reported() -> None:
    engine = _engine(
        {"sel": {"A|re": "^(a|aa)+$"}, "condition": "sel"},
        {"sel": {"A|contains": "aaa"}, "condition": "sel"},
    )
    for rule in engine.rules:
        for test in [rule.tree]:
            if hasattr(test, "arg") and isinstance(test.arg, BoundedRegex):
                test.arg.timeout = 0.01
    hostile = {"A": "a" * 40 + "!"}
    matched = engine.match(hostile, event_index=7)
    assert [r.id for r in matched] == ["rule-1"]  # the other rule still ran
    assert engine.errors[0] == 1
    problem = engine.problems[-1]
    assert problem.event_index == 7
    assert problem.rule_id == "rule-0"
    assert "exceeded" in problem.message


def test_regex_timeout_is_a_rempart_error() -> None:
    rx = BoundedRegex("^(a|aa)+$", timeout=0.01)
    with pytest.raises(RempartError, match="exceeded"):
        rx.search("a" * 40 + "!")


def test_counters_and_timing() -> None:
    engine = _engine(
        {"sel": {"A": "x"}, "condition": "sel"},
        {"sel": {"B": "y"}, "condition": "sel"},
        timing=True,
    )
    engine.match({"A": "x"})
    engine.match({"A": "z"})
    engine.match({"B": "y"})
    stats = {s.rule_id: s for s in engine.stats()}
    assert (stats["rule-0"].evaluations, stats["rule-0"].matches) == (1, 1)
    assert (stats["rule-1"].evaluations, stats["rule-1"].matches) == (1, 1)
    assert stats["rule-0"].seconds > 0
    assert engine.events == 3


def test_rules_without_an_indexable_test_run_on_every_event() -> None:
    engine = _engine({"sel": {"A|re": "x+"}, "condition": "sel"})
    assert engine.index.always == (0,)
    assert engine.match({"A": "xx"})
    assert not engine.match({"B": "xx"})


def test_a_field_lookup_does_not_confuse_dotted_and_nested_keys() -> None:
    view = EventView({"a.b": 1, "a": {"b": 2, "c": None}})
    assert sorted(view.text("a.b")) == ["1", "2"]
    assert not view.present("a.c")
    assert view.present("a")


def test_timestamp_cache_tells_booleans_from_numbers() -> None:
    from rempart.detection.matchers import parse_time_cached

    assert parse_time_cached(True) is None
    assert parse_time_cached(1) is not None
    assert parse_time_cached(1.0) is not None


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"ipconfig\s+/all", "ipconfig"),
        (r"a|bcd", None),
        (r"abcd?e", "abc"),
        (r"\\perfc\.dat", "\\perfc.dat"),
        (r"foo(bar)?baz", "foo"),
        (r"x\x41yz", None),
        (r"[abc]DEFG", "defg"),
    ],
)
def test_regex_literals_used_for_indexing_are_mandatory(pattern: str, literal: str | None) -> None:
    from rempart.detection.index import regex_literal

    assert regex_literal(pattern) == literal


def test_regex_rules_are_indexed_by_their_literal() -> None:
    engine = _engine({"sel": {"A|re": r"ipconfig\s+/all"}, "condition": "sel"})
    assert engine.index.always == ()
    assert engine.match({"A": "IPCONFIG /all"}) == []  # case-sensitive regex
    assert engine.match({"A": "ipconfig  /all"})


def test_process_answers_the_same_timed_or_not() -> None:
    """``process`` runs the matching loop itself unless timing; both give the same
    detections, counters and correlation state (the pack over a synthetic stream)."""
    from rempart.detection import contact_center_rules, get_pipeline, load_rules
    from tests.detection.helpers import audit_stream

    pack = load_rules([contact_center_rules()], get_pipeline("rempart"))
    runs = []
    for timing in (False, True):
        engine = DetectionEngine(pack, timing=timing)
        out = [
            (i, d.rule_id, d.correlation and (d.correlation.group, d.correlation.count))
            for i, e in enumerate(audit_stream(3000))
            for d in engine.process(e, i)
        ]
        counters = [(s.evaluations, s.matches, s.errors) for s in engine.stats()]
        runs.append((out, counters, engine.correlation_stats(), engine.events))
    assert runs[0] == runs[1]
    assert any(d[2] for d in runs[0][0])  # correlations fire in that stream


def test_a_rule_failing_in_process_is_counted_and_the_others_still_match() -> None:
    engine = _engine(
        {"sel": {"A|re": "^(a|aa)+$"}, "condition": "sel"},
        {"sel": {"A|contains": "aaa"}, "condition": "sel"},
    )
    for rule in engine.rules:
        if isinstance(rule.tree.arg, BoundedRegex):  # type: ignore[union-attr]
            rule.tree.arg.timeout = 0.01  # type: ignore[union-attr]
    detections = engine.process({"A": "a" * 40 + "!"}, 4)
    assert [d.rule_id for d in detections] == ["rule-1"]
    assert (engine.errors, engine.matches) == ([1, 0], [0, 1])
    assert engine.problems[-1].event_index == 4
