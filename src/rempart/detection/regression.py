"""Run a SigmaHQ-style ``regression_data`` folder: each rule must match its own events.

Each case folder holds an ``info.yml`` naming the rule (``rule_metadata[].id``) and the
tests (``regression_tests_info``: type, path, match_count), plus the events: ``.json``
(EVTX rendered as JSON, run with the Windows pipeline) or ``.raw`` (log lines, one event
per line, run without a pipeline). Rules are looked up by id in the ``rules*`` folders
next to the regression folder unless others are given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from rempart.detection.engine import DetectionEngine
from rempart.detection.errors import DetectionError
from rempart.detection.jsonstream import iter_json
from rempart.detection.pipelines import GENERIC, WINDOWS, Pipeline
from rempart.detection.ruleset import RuleSet, load_rules


@dataclass(frozen=True)
class RegressionTest:
    kind: str  # "evtx" (JSON events) or "raw" (lines)
    path: Path
    match_count: int | None


@dataclass(frozen=True)
class RegressionCase:
    folder: Path
    rule_id: str
    title: str
    tests: tuple[RegressionTest, ...]


@dataclass(frozen=True)
class RegressionResult:
    case: RegressionCase
    ok: bool
    matched: int
    expected: int | None
    reason: str = ""
    note: str = ""


def _tests_for(folder: Path, info: dict[str, object]) -> tuple[RegressionTest, ...]:
    tests: list[RegressionTest] = []
    listed = info.get("regression_tests_info")
    if isinstance(listed, list):
        for t in listed:
            if not isinstance(t, dict):
                continue
            kind = str(t.get("type", "evtx"))
            name = Path(str(t.get("path", ""))).name
            stem = Path(name).stem
            ext = ".json" if kind == "evtx" else ".raw"
            path = folder / f"{stem}{ext}"
            count = t.get("match_count")
            tests.append(RegressionTest(kind, path, int(count) if isinstance(count, int) else None))
    if not tests:  # no listed test: the event files in the folder
        tests += [RegressionTest("evtx", p, None) for p in sorted(folder.glob("*.json"))]
        tests += [RegressionTest("raw", p, None) for p in sorted(folder.glob("*.raw"))]
    return tuple(tests)


def discover_cases(directory: Path) -> list[RegressionCase]:
    cases: list[RegressionCase] = []
    for info_path in sorted(directory.rglob("info.yml")):
        info = yaml.safe_load(info_path.read_text(encoding="utf-8")) or {}
        for meta in info.get("rule_metadata") or []:
            cases.append(
                RegressionCase(
                    info_path.parent,
                    str(meta.get("id")),
                    str(meta.get("title", "")),
                    _tests_for(info_path.parent, info),
                )
            )
    return cases


def default_rule_paths(directory: Path) -> list[Path]:
    """The ``rules*`` folders beside the regression folder (SigmaHQ's layout)."""
    return sorted(p for p in directory.resolve().parent.glob("rules*") if p.is_dir())


def _events(test: RegressionTest) -> list[object]:
    if test.kind == "raw":
        lines = test.path.read_text(encoding="utf-8").splitlines()
        return [{"message": line} for line in lines if line.strip()]
    with test.path.open(encoding="utf-8") as fh:
        return [item.value for item in iter_json(fh) if item.error is None]


def run_regression(
    directory: Path,
    rule_paths: Sequence[Path] | None = None,
    *,
    rulesets: Mapping[str, RuleSet] | None = None,
) -> list[RegressionResult]:
    """Every case's result. A case passes when its rule matches its events. SigmaHQ's
    ``match_count`` is not a count of matching events (a file of three events that
    all satisfy the rule says 1), so a different count is a note, not a failure.

    ``rulesets`` (by pipeline name: "windows", "none") reuses rule sets already loaded.
    """
    cases = discover_cases(directory)
    paths = list(rule_paths) if rule_paths else default_rule_paths(directory)
    wanted = {c.rule_id for c in cases}
    engines: dict[str, DetectionEngine] = {}

    def engine(pipeline: Pipeline) -> DetectionEngine:
        if pipeline.name not in engines:
            loaded = (rulesets or {}).get(pipeline.name)
            if loaded is None:
                loaded = load_rules(paths, pipeline, only_ids=wanted)
            engines[pipeline.name] = DetectionEngine(loaded)
        return engines[pipeline.name]

    results: list[RegressionResult] = []
    for case in cases:
        results.append(_run_case(case, engine))
    return results


def _run_case(case: RegressionCase, get: Callable[[Pipeline], DetectionEngine]) -> RegressionResult:
    if not case.tests:
        return RegressionResult(case, False, 0, None, "no test events")
    matched_total = 0
    notes: list[str] = []
    expected_total: int | None = 0
    for test in case.tests:
        eng = get(WINDOWS if test.kind == "evtx" else GENERIC)
        rule = next((r for r in eng.rules if r.id == case.rule_id), None)
        if rule is None:
            why = _why_missing(eng, case.rule_id)
            return RegressionResult(case, False, 0, test.match_count, why)
        try:
            events = _events(test)
        except (OSError, UnicodeDecodeError) as exc:
            return RegressionResult(case, False, 0, test.match_count, f"{test.path}: {exc}")
        matched = 0
        for event in events:
            try:
                if isinstance(event, dict) and rule in eng.match(event):
                    matched += 1
            except DetectionError as exc:
                return RegressionResult(case, False, matched, test.match_count, str(exc))
        matched_total += matched
        if test.match_count is None or expected_total is None:
            expected_total = None
        else:
            expected_total += test.match_count
        if matched == 0:
            return RegressionResult(
                case,
                False,
                0,
                test.match_count,
                f"{test.path.name}: none of {len(events)} events matched",
            )
        if test.match_count is not None and matched != test.match_count:
            notes.append(
                f"{test.path.name}: {matched} of {len(events)} events matched, "
                f"match_count says {test.match_count}"
            )
    return RegressionResult(case, True, matched_total, expected_total, note="; ".join(notes))


def _why_missing(eng: DetectionEngine, rule_id: str) -> str:
    for err in eng.ruleset.failed:
        if err.rule_id == rule_id:
            return f"rule failed to load: {err}"
    for skipped in eng.ruleset.skipped:
        if skipped.id == rule_id:
            return f"rule skipped: {skipped.reason}"
    return "rule not found in the rule folders"


def failures(results: Iterable[RegressionResult]) -> list[RegressionResult]:
    return [r for r in results if not r.ok]


__all__ = [
    "RegressionCase",
    "RegressionResult",
    "RegressionTest",
    "default_rule_paths",
    "discover_cases",
    "failures",
    "run_regression",
]
