"""Load a rule set: read files, parse with pySigma, apply a pipeline, compile.

Every rule ends up in exactly one list: ``rules`` (compiled), ``correlations``,
``failed`` (with file:line and the reason) or ``skipped`` (its log source is not one the
pipeline can serve, e.g. a Linux rule under the Windows pipeline). A broken rule never
stops the others from loading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule, SigmaExtendedCorrelationCondition
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from rempart.detection.compiler import CompiledRule, compile_rule
from rempart.detection.correlation import CompiledCorrelation, compile_correlation
from rempart.detection.errors import Location, RuleError
from rempart.detection.loader import (
    AnyRule,
    RuleFile,
    discover,
    error_needles,
    parse_rule_text,
    read_rule_file,
    sigma_rules,
)
from rempart.detection.pipelines import GENERIC, Pipeline


@dataclass(frozen=True)
class SkippedRule:
    id: str
    title: str
    location: Location
    reason: str


@dataclass
class RuleSet:
    """The outcome of loading: what runs, what failed and why, what does not apply."""

    pipeline: Pipeline
    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    failed: list[RuleError] = field(default_factory=list)
    skipped: list[SkippedRule] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)  # ids of the Sigma filters applied

    @property
    def total(self) -> int:
        return len(self.rules) + len(self.correlations) + len(self.failed) + len(self.skipped)

    @property
    def loaded(self) -> int:
        return len(self.rules) + len(self.correlations)

    def summary(self) -> str:
        text = (
            f"loaded {self.loaded} of {self.total} rules with pipeline {self.pipeline.name!r} "
            f"({len(self.correlations)} correlations, {len(self.failed)} failed"
        )
        if self.filters:
            text += f", {len(self.filters)} filters"
        if self.skipped:
            text += f", {len(self.skipped)} skipped: log source not served by the pipeline"
        return text + ")"


def _locate(rule_file: RuleFile | None, loc: Location, message: str) -> Location:
    """Refine a rule's location to the line an error message points at."""
    if rule_file is None or loc.line is None:
        return loc
    try:
        index = max(i for i, line in enumerate(rule_file.lines) if line <= loc.line)
    except ValueError:
        return loc
    found = rule_file.locate(index, *error_needles(message))
    return found if found.line != rule_file.lines[index] else loc


def _key(rule: AnyRule, loc: Location) -> str:
    return str(rule.id) if rule.id is not None else (rule.name or str(loc))


def load_rules(
    paths: Iterable[Path | str],
    pipeline: Pipeline = GENERIC,
    *,
    texts: Mapping[str, str] | None = None,
    only_ids: set[str] | None = None,
) -> RuleSet:
    """Load every rule under ``paths`` (files or directories) with ``pipeline``.

    ``texts`` adds rules given as YAML text, keyed by a display name. ``only_ids``
    compiles only these rule ids and the rules their correlations need.
    """
    result = RuleSet(pipeline)
    files: list[RuleFile] = []
    for path in discover(paths):
        try:
            files.append(read_rule_file(path))
        except RuleError as exc:
            result.failed.append(exc)
    for name, text in (texts or {}).items():
        try:
            files.append(parse_rule_text(text, Path(name)))
        except RuleError as exc:
            result.failed.append(exc)

    parsed: list[tuple[AnyRule, Location, RuleFile]] = []
    filters: list[SigmaFilter] = []
    seen: dict[str, Location] = {}
    for rule_file in files:
        for rule, loc, error in sigma_rules(rule_file):
            if error is not None:
                result.failed.append(error)
                continue
            if rule is None:
                continue
            if isinstance(rule, SigmaFilter):
                # Applied below to the rules it names (and whose log source it covers).
                filters.append(rule)
                result.filters.append(str(rule.id) if rule.id is not None else str(loc))
                continue
            key = _key(rule, loc)
            if key in seen:
                result.failed.append(
                    RuleError(
                        f"duplicate rule id {key} (first at {seen[key]})", loc, key, phase="parse"
                    )
                )
                continue
            seen[key] = loc
            parsed.append((rule, loc, rule_file))

    if only_ids is not None:
        parsed = _with_dependencies(parsed, only_ids)

    collection = SigmaCollection([r for r, _, _ in parsed], resolve_references=False)
    locations = {id(r): (loc, f) for r, loc, f in parsed}
    unresolved: dict[int, str] = {}
    for rule, _, _ in parsed:
        if isinstance(rule, SigmaCorrelationRule):
            try:
                rule.resolve_rule_references(collection)
                rule.aliases.resolve_rule_references(collection)
            except SigmaError as exc:
                unresolved[id(rule)] = str(exc.args[0]) if exc.args else repr(exc)

    processing = pipeline.processing()
    compiled: dict[int, str] = {}  # id(pySigma rule) -> key
    for rule, loc, rule_file in parsed:
        if not isinstance(rule, SigmaRule):
            continue
        reason = pipeline.unsupported(rule.logsource)
        if reason is not None:
            result.skipped.append(SkippedRule(_key(rule, loc), rule.title, loc, reason))
            continue
        try:
            for sigma_filter in filters:  # ``(condition) and (filter condition)``
                sigma_filter.apply_on_rule(rule)
            processing.apply(rule)
            result.rules.append(compile_rule(rule, loc))
            compiled[id(rule)] = _key(rule, loc)
        except RuleError as exc:
            exc_loc = _locate(rule_file, loc, exc.reason)
            result.failed.append(RuleError(exc.reason, exc_loc, exc.rule_id))
        except (SigmaError, ValueError, TypeError, KeyError, AttributeError) as exc:
            text = str(exc.args[0]) if exc.args else type(exc).__name__
            result.failed.append(
                RuleError(
                    f"pipeline {pipeline.name}: {text}",
                    _locate(rule_file, loc, text),
                    _key(rule, loc),
                )
            )

    correlations: list[tuple[SigmaCorrelationRule, Location]] = []
    for rule, loc, _ in parsed:
        if not isinstance(rule, SigmaCorrelationRule):
            continue
        if id(rule) in unresolved:
            result.failed.append(RuleError(unresolved[id(rule)], loc, _key(rule, loc)))
        else:
            correlations.append((rule, loc))
    _compile_correlations(correlations, processing, compiled, result, locations)
    return result


def _with_dependencies(
    parsed: list[tuple[AnyRule, Location, RuleFile]], wanted: set[str]
) -> list[tuple[AnyRule, Location, RuleFile]]:
    by_ref: dict[str, AnyRule] = {}
    for rule, loc, _ in parsed:
        by_ref[_key(rule, loc)] = rule
        if rule.name:
            by_ref[rule.name] = rule
    keep: set[int] = set()
    todo = [by_ref[w] for w in wanted if w in by_ref]
    while todo:
        rule = todo.pop()
        if id(rule) in keep:
            continue
        keep.add(id(rule))
        if isinstance(rule, SigmaCorrelationRule):
            names = [ref.reference for ref in rule.rules or []]
            if isinstance(rule.condition, SigmaExtendedCorrelationCondition):
                names += rule.condition.get_referenced_rules()
            todo.extend(by_ref[n] for n in names if n in by_ref)

    return [p for p in parsed if id(p[0]) in keep]


def _compile_correlations(
    correlations: Sequence[tuple[SigmaCorrelationRule, Location]],
    processing: Any,
    compiled: dict[int, str],
    result: RuleSet,
    locations: Mapping[int, tuple[Location, RuleFile]],
) -> None:
    pending = list(correlations)
    # Chained correlations need the ones they reference first: repeat until no progress.
    while pending:
        progress = False
        waiting: list[tuple[SigmaCorrelationRule, Location]] = []
        for rule, loc in pending:
            refs = rule.referenced_rules or []
            if any(
                isinstance(getattr(ref, "rule", None), SigmaCorrelationRule)
                and id(ref.rule) not in compiled
                and any(ref.rule is r for r, _ in pending)
                for ref in refs
            ):
                waiting.append((rule, loc))
                continue
            progress = True

            def key_of(obj: Any) -> str:
                if id(obj) not in compiled:
                    where = locations.get(id(obj), (None,))[0]
                    raise KeyError(
                        f"referenced rule {getattr(obj, 'id', obj)} did not load"
                        + (f" ({where})" if where else "")
                    )
                return compiled[id(obj)]

            try:
                missing = [ref.reference for ref in refs if not hasattr(ref, "rule")]
                if missing:
                    raise RuleError(
                        f"unknown rule reference(s): {', '.join(missing)}",
                        loc,
                        str(rule.id) if rule.id else None,
                    )
                processing.apply(rule)
                corr = compile_correlation(rule, loc, key_of)
            except RuleError as exc:
                result.failed.append(exc)
                continue
            except (SigmaError, ValueError, TypeError, AttributeError) as exc:
                result.failed.append(RuleError(str(exc.args[0]) if exc.args else repr(exc), loc))
                continue
            result.correlations.append(corr)
            compiled[id(rule)] = corr.id
        if not progress:
            for rule, loc in waiting:
                result.failed.append(
                    RuleError(
                        "correlation rules reference each other in a cycle",
                        loc,
                        str(rule.id) if rule.id else None,
                    )
                )
            break
        pending = waiting


__all__ = ["RuleSet", "SkippedRule", "load_rules"]
