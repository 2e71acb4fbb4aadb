"""The candidate index's automata (substrings, prefixes, suffixes) find exactly the rules
that trying each indexed key on its own finds."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.detection import RuleSet
from rempart.detection.event import EventView
from rempart.detection.index import AFFIX, CandidateIndex, _FieldIndex
from tests.detection.helpers import compile_detection
from tests.detection.test_conformance import _regression_events

FIELD = "Image"

# Affixes shorter and longer than AFFIX, sharing starts and ends, one a part of another,
# non-ASCII and case-folding to more characters (ß -> ss).
PREFIXES = ["c:\\", "c:\\windows\\", "c:\\windows\\system32\\cmd", "\\\\", "é", "ßtraße\\x"]
SUFFIXES = [
    "\\cmd.exe",
    ".exe",
    "md.exe",
    "\\powershell_ise.exe",
    "\\windows\\system32\\rundll32.exe",
    "İ.dll",
    "ß",
]
NEEDLES = ["cmd", " -enc ", "system32\\", "powershell", "ßtra", "\\temp\\", "exe", "xe "]


def _rules() -> list[Any]:
    rules = []
    for i, p in enumerate(PREFIXES):
        rules.append({f"s{i}": {f"{FIELD}|startswith": p}, "condition": f"s{i}"})
    for i, s in enumerate(SUFFIXES):
        rules.append({f"e{i}": {f"{FIELD}|endswith": [s, s + "x"]}, "condition": f"e{i}"})
    for i, n in enumerate(NEEDLES):
        rules.append({f"c{i}": {f"{FIELD}|contains": n}, "condition": f"c{i}"})
    rules.append({"q": {FIELD: "c:\\windows\\system32\\cmd.exe"}, "condition": "q"})
    return [compile_detection(r).tree for r in rules]


def _reference(fi: _FieldIndex, vals: tuple[str, ...]) -> tuple[int, ...]:
    """The rules one field's values make candidates, each key tried on its own (the
    per-length tables and direct substring search the automata replace)."""
    out: set[int] = set()
    for v in vals:
        for text, rules in fi.needles.items():
            if text in v:
                out.update(rules)
        out.update(fi.eq.get(v, ()))
        for n, table in fi.prefix.items():
            out.update(table.get(v[:n], ()))
        for n, table in fi.suffix.items():
            out.update(table.get(v[-n:], ()))
        for pairs in fi.words.values():
            out.update(i for i, text in pairs if text in v)
    return tuple(sorted(out))


def _both(index: CandidateIndex, name: str, value: str) -> tuple[Any, Any]:
    """(the index's answer, the reference answer) for one value of field ``name``."""
    vals = EventView(_nested(name, value)).fold(name)
    fi = index.fields[name]
    return index._field_hits(fi, vals), _reference(fi, vals)


def _nested(name: str, value: str) -> dict[str, Any]:
    event: dict[str, Any] = {}
    node = event
    *heads, last = name.split(".")
    for part in heads:
        node = node.setdefault(part, {})
    node[last] = value
    return event


_PIECES = st.sampled_from(PREFIXES + SUFFIXES + NEEDLES + ["a", "\\", " ", "SS", "I"])


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(_PIECES | st.text(max_size=4), max_size=6))
def test_the_automata_find_the_rules_the_tables_find(parts: list[str]) -> None:
    index = CandidateIndex(_rules(), memo_size=0)
    fi = index.fields[FIELD]
    assert fi.automaton is not None
    assert fi.prefix_automaton is not None
    assert fi.suffix_automaton is not None
    found, reference = _both(index, FIELD, "".join(parts))
    assert found == reference


@pytest.mark.parametrize(
    ("value", "rules"),
    [
        ("C:\\Windows\\System32\\CMD.EXE", {"prefix c:\\", "suffix \\cmd.exe", "eq"}),
        ("x" * 40 + "\\Windows\\System32\\rundll32.exe", {"long suffix"}),
        ("\\\\server\\share", {"prefix \\\\"}),
    ],
)
def test_affixes_longer_than_the_key_and_at_both_ends(value: str, rules: set[str]) -> None:
    index = CandidateIndex(_rules(), memo_size=0)
    found, reference = _both(index, FIELD, value)
    hits = set(found)
    names = {
        "prefix c:\\": PREFIXES.index("c:\\"),
        "prefix \\\\": PREFIXES.index("\\\\"),
        "suffix \\cmd.exe": len(PREFIXES) + SUFFIXES.index("\\cmd.exe"),
        "long suffix": len(PREFIXES) + SUFFIXES.index("\\windows\\system32\\rundll32.exe"),
        "eq": len(PREFIXES) + len(SUFFIXES) + len(NEEDLES),
    }
    for name in rules:
        assert names[name] in hits
    assert len("\\windows\\system32\\rundll32.exe") > AFFIX  # keyed on its last AFFIX chars
    assert found == reference


def test_sigmahq_fields_answer_the_same_with_and_without_automata(
    sigmahq_windows: RuleSet,
) -> None:
    ruleset = sigmahq_windows
    index = CandidateIndex([r.tree for r in ruleset.rules], memo_size=0)
    rng = random.Random(5)
    values: dict[str, list[str]] = {}
    for event in _regression_events():
        ev = EventView(event, dict(ruleset.pipeline.fallbacks) or None)
        for name in index.fields:
            values.setdefault(name, []).extend(ev.fold(name))
    checked = 0
    for name, fi in index.fields.items():
        keys = [*fi.needles, *(k for t in fi.prefix.values() for k in t)]
        keys += [k for t in fi.suffix.values() for k in t]
        samples = values.get(name, [])[:200]
        for _ in range(50):  # values built from the field's own keys
            samples.append("".join(rng.choice(keys) if keys else "x" for _ in range(3)))
        for value in samples:
            found, reference = _both(index, name, value)
            assert found == reference
            checked += 1
    assert checked > 1000
