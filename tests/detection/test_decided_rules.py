"""Rules decided by the remembered combination of values (``action`` and ``outcome`` for
the contact-center pack) are judged once per combination, and the engine answers
exactly what it answers when it runs every candidate on every event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rempart.detection import DetectionEngine, contact_center_rules, get_pipeline, ir, load_rules
from rempart.detection.engine import decided_by
from rempart.detection.ir import And, Const, Not, Or
from rempart.detection.synthetic import Traffic, audit_entries

FIELDS = frozenset({"api.operation", "status"})


def _engine(memo: int = 4096, *, timing: bool = False) -> DetectionEngine:
    pack = load_rules([contact_center_rules()], get_pipeline("rempart"))
    return DetectionEngine(pack, candidate_memo=memo, timing=timing)


def _stream() -> list[dict[str, Any]]:
    """A night shift (reads outside working hours, changes outside the window), a day
    shift, and entries the one-call reader declines or reads oddly."""
    night = audit_entries(2500, Traffic(seed=3, start=datetime(2026, 3, 2, 5, 0, tzinfo=UTC)))
    day = audit_entries(2500, Traffic(seed=4))
    odd: list[dict[str, Any]] = [
        {"api": {"operation": "interaction.read"}, "status": None, "time": 1772420400000},
        {"api": {"operation": "interaction.read"}, "time": 1772420400000},
        {"api": {"operation": 7}, "status": "Success"},
        {"api.operation": "auth.login", "status": "Failure"},
        {"api": [{"operation": "auth.login"}], "status": "FAILURE"},
        {"api": {"operation": "AUTH.LOGIN"}, "status": "failure"},
        {"api": {"operation": "privacy.export"}, "status": "Success", "time": "not a time"},
        {},
    ]
    return [*night, *odd, *day, *odd]


def _run(engine: DetectionEngine, events: list[dict[str, Any]]) -> list[Any]:
    out = []
    for i, event in enumerate(events):
        out.append([(d.rule_id, d.correlation is not None) for d in engine.process(event, i)])
    return out


@pytest.mark.parametrize("reference", ["memo off", "timed"])
def test_decided_rules_answer_what_running_every_candidate_answers(reference: str) -> None:
    events = _stream()
    deciding = _engine()
    assert any(deciding._decided)
    assert not all(deciding._decided)
    other = _engine(0) if reference == "memo off" else _engine(timing=True)
    assert _run(deciding, events) == _run(other, events)
    assert deciding.matches == other.matches
    assert deciding.evaluations == other.evaluations
    assert deciding.errors == other.errors
    assert deciding.correlation_stats() == other.correlation_stats()
    fired = {r.id for r, n in zip(deciding.rules, deciding.matches, strict=True) if n}
    assert len(fired) >= 8  # the stream exercises the pack, night rules included


def test_a_decided_rule_runs_once_per_combination() -> None:
    engine = _engine()
    calls = [0] * len(engine.rules)

    def counted(i: int, predicate: Any) -> Any:
        def run(ev: Any) -> bool:
            calls[i] += 1
            return bool(predicate(ev))

        return run

    engine._predicates = [counted(i, p) for i, p in enumerate(engine._predicates)]
    events = audit_entries(3000, Traffic(seed=5))
    for i, event in enumerate(events):
        engine.process(event, i)
    combinations = len(engine.index._whole)
    for i, rule in enumerate(engine.rules):
        if engine._decided[i]:
            assert calls[i] <= combinations, rule.title
        else:
            assert calls[i] == engine.evaluations[i], rule.title
    read = next(i for i, r in enumerate(engine.rules) if r.title == "Customer Interaction Read")
    assert engine._decided[read]
    assert engine.matches[read] > 1000
    assert calls[read] <= 2


def test_which_trees_are_decided_by_the_combined_fields() -> None:
    eq = ir.Test("eq", "api.operation", frozenset({"x"}))
    status = ir.Test("eq", "status", frozenset({"success"}))
    assert decided_by(And((eq, status)), FIELDS)
    assert decided_by(Or((eq, Not(status), Const(True))), FIELDS)
    assert decided_by(ir.Test("prefix", "api.operation", ("access.",)), FIELDS)
    assert decided_by(ir.Test("exists", "status", True), FIELDS)
    assert not decided_by(And((eq, ir.Test("eq", "actor.user.uid", frozenset({"u"})))), FIELDS)
    assert not decided_by(And((eq, ir.Test("timepart", "time", ("hour", "lt", 7)))), FIELDS)
    assert not decided_by(ir.Test("re", "status", None), FIELDS)  # a regex has a time budget
    assert not decided_by(ir.Test("contains", None, ("x",)), FIELDS)  # a keyword: any field
    assert not decided_by(ir.Test("fieldref", "status", ("api.operation", "eq")), FIELDS)
    assert not decided_by(ir.Test("cmp", "status", ("lt", 2)), FIELDS)
    assert not decided_by(eq, frozenset())
