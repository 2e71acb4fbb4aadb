"""Sigma filters (``filter:`` documents): applied to the rules they name, nothing else."""

from __future__ import annotations

from rempart.detection import DetectionEngine, load_rules

RULE = """title: Whoami
id: 5a5a5a5a-0000-4000-8000-000000000001
name: whoami_run
logsource:
    product: test
detection:
    sel:
        Image|endswith: '\\\\whoami.exe'
    condition: sel
"""
OTHER = """title: Net
id: 5a5a5a5a-0000-4000-8000-000000000002
logsource:
    product: test
detection:
    sel:
        Image|endswith: '\\\\net.exe'
    condition: sel
"""
FILTER = """title: Admin workstations are expected to run whoami
id: 5a5a5a5a-0000-4000-8000-0000000000f1
logsource:
    product: test
filter:
    rules:
        - {ref}
    selection:
        Computer|startswith: 'ADM-'
    condition: not selection
"""


def _ids(engine: DetectionEngine, event: dict[str, str]) -> set[str]:
    return {r.title for r in engine.match(event)}


def _engine(ref: str) -> DetectionEngine:
    texts = {"rule.yml": RULE, "other.yml": OTHER, "filter.yml": FILTER.format(ref=ref)}
    ruleset = load_rules([], texts=texts)
    assert ruleset.failed == []
    assert ruleset.filters == ["5a5a5a5a-0000-4000-8000-0000000000f1"]
    assert "1 filters" in ruleset.summary()
    return DetectionEngine(ruleset)


def test_a_filter_removes_the_matches_it_excludes_from_the_rule_it_names() -> None:
    for ref in ("5a5a5a5a-0000-4000-8000-000000000001", "whoami_run"):  # id or name
        engine = _engine(ref)
        whoami = {"Image": "C:\\Windows\\System32\\whoami.exe"}
        assert _ids(engine, {**whoami, "Computer": "WS-17"}) == {"Whoami"}
        assert _ids(engine, {**whoami, "Computer": "ADM-01"}) == set()  # filtered out
        assert _ids(engine, whoami) == {"Whoami"}  # no Computer: the filter does not hold


def test_a_filter_leaves_the_rules_it_does_not_name_alone() -> None:
    engine = _engine("5a5a5a5a-0000-4000-8000-000000000001")
    net = {"Image": "C:\\Windows\\System32\\net.exe", "Computer": "ADM-01"}
    assert _ids(engine, net) == {"Net"}


def test_without_the_filter_the_rule_matches_everywhere() -> None:
    engine = DetectionEngine(load_rules([], texts={"rule.yml": RULE}))
    event = {"Image": "C:\\Windows\\System32\\whoami.exe", "Computer": "ADM-01"}
    assert _ids(engine, event) == {"Whoami"}
