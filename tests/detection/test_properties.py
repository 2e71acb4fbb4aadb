"""Property tests: compiled predicates agree with the reference interpreter.

Rules are a deterministic sample of SigmaHQ plus the modifier vectors; events are drawn
from each rule's own fields and literals (re-cased, wrapped in other text, combined,
swapped for numbers, nulls and lists), so that matches and near misses both occur.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigma.rule import SigmaRule

from rempart.detection.compiler import CompiledRule, compile_rule
from rempart.detection.errors import RuleError
from rempart.detection.event import EventView
from rempart.detection.ir import walk_tests
from rempart.detection.loader import discover, read_rule_file, sigma_rules
from tests.detection.helpers import SIGMA_RULE_DIRS, load_vectors, sigma_rule
from tests.detection.reference import reference_match

Pair = tuple[SigmaRule, CompiledRule]


def _sample_sigmahq(step: int = 20) -> Iterator[Pair]:
    if not SIGMA_RULE_DIRS[0].is_dir():
        return
    for path in discover(SIGMA_RULE_DIRS)[::step]:
        for rule, _, error in sigma_rules(read_rule_file(Path(path))):
            if error is None and isinstance(rule, SigmaRule):
                try:
                    yield rule, compile_rule(rule)
                except RuleError:
                    continue


def _vector_rules() -> Iterator[Pair]:
    for case in load_vectors("modifiers.yml"):
        rule = sigma_rule(case["detection"], case.get("placeholders"))
        yield rule, compile_rule(rule)


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    return list(_vector_rules()) + list(_sample_sigmahq())


def _literals(compiled: CompiledRule) -> list[str]:
    out: list[str] = []
    for t in walk_tests(compiled.tree):
        if t.kind in ("eq", "prefix", "suffix", "contains"):
            out.extend(t.arg)
        elif t.kind == "seq":
            for head, mids, tail in t.arg:
                out.extend([head, *mids, tail])
        elif t.kind in ("cmp", "timepart"):
            out.append(str(t.arg[-1]))
    return [s for s in out if s] or ["x"]


def _recase(draw: st.DrawFn, s: str) -> str:
    mode = draw(st.sampled_from(["same", "upper", "lower", "title", "swap"]))
    return {
        "same": s,
        "upper": s.upper(),
        "lower": s.lower(),
        "title": s.title(),
        "swap": s.swapcase(),
    }[mode]


@st.composite
def _value(draw: st.DrawFn, literals: list[str]) -> Any:
    kind = draw(st.integers(0, 9))
    lit = _recase(draw, draw(st.sampled_from(literals)))
    noise = draw(st.text(alphabet="ab \\/-.:0", max_size=4))
    if kind <= 2:
        return lit
    if kind == 3:
        return noise + lit + draw(st.text(alphabet="xy\\.", max_size=3))
    if kind == 4:
        return lit + _recase(draw, draw(st.sampled_from(literals)))
    if kind == 5:
        return lit[: max(0, len(lit) - 1)]
    if kind == 6:
        return draw(st.integers(-5, 5000))
    if kind == 7:
        return None
    if kind == 8:
        return [lit, noise]
    return noise


@st.composite
def _case(draw: st.DrawFn, pairs: list[Pair]) -> tuple[Pair, dict[str, Any]]:
    pair = draw(st.sampled_from(pairs))
    compiled = pair[1]
    fields = [*sorted(compiled.fields), "message"]
    literals = _literals(compiled)
    chosen = draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields)))
    event = {f: draw(_value(literals)) for f in chosen}
    return pair, event


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_predicates_agree_with_the_reference(
    data: st.DataObject, pairs: list[Pair]
) -> None:
    (rule, compiled), event = data.draw(_case(pairs))
    expected = reference_match(rule, event)
    assert compiled.predicate(EventView(event)) == expected, (compiled.source, event)


def test_the_sample_covers_many_rules(pairs: list[Pair]) -> None:
    assert len(pairs) > 50
