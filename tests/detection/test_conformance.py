"""Conformance on the public SigmaHQ rule set (../shared/data/sigma, skipped if absent)."""

from __future__ import annotations

from collections import Counter

import pytest

from rempart.detection import DetectionEngine, RuleSet, run_regression
from rempart.detection.jsonstream import iter_json
from rempart.detection.pipelines.windows import CATEGORIES
from rempart.detection.regression import discover_cases
from tests.detection.helpers import SIGMA_DATA, SIGMA_RULE_DIRS, require_sigma_data


def _rule_files() -> int:
    return sum(1 for d in SIGMA_RULE_DIRS for _ in d.rglob("*.yml"))


def test_every_sigmahq_rule_parses(sigmahq_generic: RuleSet) -> None:
    parse_failures = [e for e in sigmahq_generic.failed if e.phase == "parse"]
    assert parse_failures == []
    assert sigmahq_generic.total == _rule_files()


def test_at_least_99_percent_compile_and_each_failure_says_where_and_why(
    sigmahq_generic: RuleSet,
) -> None:
    total = sigmahq_generic.total
    assert sigmahq_generic.loaded / total >= 0.99, sigmahq_generic.summary()
    for err in sigmahq_generic.failed:
        assert err.location.path is not None
        assert err.location.line is not None
        assert err.reason
        print(f"not compiled: {err}")  # the list the issue asks for, shown with -s/-rA
    assert sigmahq_generic.skipped == []  # no pipeline: every log source is accepted


def test_windows_pipeline_compiles_the_windows_rules(sigmahq_windows: RuleSet) -> None:
    served = sigmahq_windows.loaded + len(sigmahq_windows.failed)
    assert sigmahq_windows.loaded / served >= 0.99, sigmahq_windows.summary()
    reasons = Counter(s.reason.split(" ")[0] for s in sigmahq_windows.skipped)
    assert set(reasons) <= {"log", "Windows"}, reasons  # product not Windows, or unmapped


def test_every_rule_with_regression_data_matches_its_own_events(
    sigmahq_windows: RuleSet, sigmahq_generic: RuleSet
) -> None:
    require_sigma_data()
    results = run_regression(
        SIGMA_DATA / "regression_data",
        rulesets={"windows": sigmahq_windows, "none": sigmahq_generic},
    )
    assert len(results) == len(discover_cases(SIGMA_DATA / "regression_data")) == 153
    failures = [f"{r.case.rule_id} {r.case.title}: {r.reason}" for r in results if not r.ok]
    assert failures == []


@pytest.fixture(scope="module")
def windows_engine(sigmahq_windows: RuleSet) -> DetectionEngine:
    return DetectionEngine(sigmahq_windows)


def _regression_events() -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    for path in sorted((SIGMA_DATA / "regression_data").rglob("*.json")):
        with path.open(encoding="utf-8") as fh:
            events += [i.value for i in iter_json(fh) if isinstance(i.value, dict)]
    return events


def test_index_never_changes_what_matches(windows_engine: DetectionEngine) -> None:
    """The candidate index only skips rules that cannot match: compare with trying all."""
    events = _regression_events()
    assert len(events) > 150
    for _ in range(2):  # the second pass answers candidates from the per-value memo
        for event in events:
            ev = windows_engine.view(event)
            indexed = {r.id for r in windows_engine.match(ev)}
            brute = {r.id for r in windows_engine.rules if r.predicate(ev)}
            assert indexed == brute


def test_candidate_memo_never_changes_the_candidates(sigmahq_windows: RuleSet) -> None:
    """Remembered candidates per field value are the ones computed afresh."""
    fresh = DetectionEngine(sigmahq_windows, candidate_memo=0)
    remembering = DetectionEngine(sigmahq_windows, candidate_memo=64)
    events = _regression_events()
    for event in events + events:  # small memo: it fills, starts over, and is hit
        want = fresh.index.candidates(fresh.view(event))
        got = remembering.index.candidates(remembering.view(event))
        assert list(got) == list(want)
    assert fresh.index.memo_entries() == 0
    assert 0 < remembering.index.memo_entries() <= 64 * len(remembering.index.fields)


def test_sysmon_rules_only_match_events_of_their_category(
    windows_engine: DetectionEngine,
) -> None:
    """Log-source prefiltering: a process_creation rule never fires on a registry event."""
    matched_any = 0
    for event in _regression_events():
        system = event["Event"]["System"]  # type: ignore[index]
        if system["Channel"] != "Microsoft-Windows-Sysmon/Operational":
            continue
        for rule in windows_engine.match(event):
            category = rule.logsource[1]
            if category in CATEGORIES:
                assert system["EventID"] in CATEGORIES[category][1], (rule.title, category)
                matched_any += 1
    assert matched_any > 150


def test_engine_counts_evaluations_and_matches(windows_engine: DetectionEngine) -> None:
    before = sum(windows_engine.evaluations)
    events = _regression_events()[:20]
    for event in events:
        windows_engine.match(event)
    evaluated = sum(windows_engine.evaluations) - before
    # Far fewer evaluations than rules x events: the index did its work.
    assert 0 < evaluated < len(events) * len(windows_engine.rules) / 10
    stats = {s.rule_id: s for s in windows_engine.stats()}
    assert sum(s.matches for s in stats.values()) == sum(windows_engine.matches)
