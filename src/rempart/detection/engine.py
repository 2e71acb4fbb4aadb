"""The detection engine: run a loaded rule set over events, one at a time.

For each event: the candidate index picks the rules that can match (log-source
conditions added by the pipeline are indexed like any field test, so a
``process_creation`` rule is never tried on a registry event), each candidate's
compiled predicate runs, and matches feed the correlation rules. Per-rule counters
(evaluations, matches, errors and, when ``timing`` is on, nanoseconds) are kept.
A rule that fails on one event (a regular expression over its time budget) counts
an error and is reported; the other rules and events go on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rempart.detection.compiler import CompiledRule
from rempart.detection.correlation import (
    MAX_ENTRIES,
    MAX_GROUPS,
    CompiledCorrelation,
    CorrelationAlert,
    CorrelationState,
)
from rempart.detection.errors import DetectionError, EventError
from rempart.detection.event import EventView
from rempart.detection.index import MEMO_SIZE, CandidateIndex
from rempart.detection.ir import And, Const, Node, Not, Or, Test
from rempart.detection.observers import Observer, compile_observer
from rempart.detection.ruleset import RuleSet
from rempart.types import Clock, utc_now

MAX_PROBLEMS_KEPT = 1000
EVALUATION_TUPLES_KEPT = 4096  # distinct candidate tuples counted before spreading


@dataclass(frozen=True)
class Detection:
    """A rule or a correlation that matched."""

    rule_id: str
    rule_title: str
    level: str | None
    correlation: CorrelationAlert | None = None

    def as_dict(self, event_index: int | None = None) -> dict[str, Any]:
        """The one-line JSON form other tools read: rule_id, rule_title, event."""
        return {"rule_id": self.rule_id, "rule_title": self.rule_title, "event": event_index}


@dataclass(frozen=True)
class RuleStats:
    rule_id: str
    title: str
    evaluations: int
    matches: int
    errors: int
    seconds: float


@dataclass(frozen=True)
class Problem:
    """Something that went wrong on one event, kept so that nothing fails silently."""

    event_index: int | None
    rule_id: str | None
    message: str


class DetectionEngine:
    """Evaluates a rule set over events; not thread-safe (one engine per worker)."""

    def __init__(
        self,
        ruleset: RuleSet,
        *,
        timing: bool = False,
        clock: Clock = utc_now,
        max_groups: int = MAX_GROUPS,
        max_entries: int = MAX_ENTRIES,
        candidate_memo: int = MEMO_SIZE,
    ) -> None:
        self.ruleset = ruleset
        self.rules: list[CompiledRule] = list(ruleset.rules)
        # candidate_memo: distinct values per indexed field whose candidates are
        # remembered (0: recompute for every event); never changes what matches.
        self.index = CandidateIndex([r.tree for r in self.rules], memo_size=candidate_memo)
        self.timing = timing
        self.clock = clock
        n = len(self.rules)
        self._predicates = [r.predicate for r in self.rules]
        self._evaluations = [0] * n
        # Evaluations are counted per candidate tuple (one dictionary update per event,
        # not one per rule tried) and spread over the rules when read.
        self._evaluated: dict[tuple[int, ...], int] = {}
        self.matches = [0] * n
        self.errors = [0] * n
        self.nanoseconds = [0] * n
        self.events = 0
        self.untimed = 0
        self.problems: deque[Problem] = deque(maxlen=MAX_PROBLEMS_KEPT)
        self.problem_count = 0
        self.correlations = [
            CorrelationState(c, max_groups=max_groups, max_entries=max_entries)
            for c in ruleset.correlations
        ]
        # rule key -> correlations that reference it, and their observers of it (one
        # generated function per correlation and key where the kind allows)
        self._watchers: dict[str, list[CorrelationState]] = {}
        self._observers: dict[str, tuple[Observer, ...]] = {}
        for state in self.correlations:
            for key in dict.fromkeys(state.corr.rule_keys):
                self._watchers.setdefault(key, []).append(state)
                self._observers[key] = (
                    *self._observers.get(key, ()),
                    compile_observer(state, key),
                )
        self._silent = self._silenced_keys(ruleset.correlations)
        self._ts_fields = ruleset.pipeline.timestamp_fields
        self._ts_first = self._ts_fields[0] if self._ts_fields else None
        self._fallbacks = dict(ruleset.pipeline.fallbacks) or None
        # Per rule position: the detection it emits (immutable, so made once; None when
        # silenced) and the observers of the correlations it feeds (None when none).
        self._emits: list[Detection | None] = [
            None if r.id in self._silent else Detection(r.id, r.title, r.level) for r in self.rules
        ]
        self._feeds: list[tuple[Observer, ...] | None] = [
            self._observers.get(r.id) for r in self.rules
        ]
        # Per rule position: whether its verdict is a function of the values of the
        # fields the index remembers in combination (``action`` and ``outcome`` for
        # the contact-center pack), so that it is found once per combination.
        combined = self.index.combined_fields
        self._decided = [bool(combined) and decided_by(r.tree, combined) for r in self.rules]

    @property
    def evaluations(self) -> list[int]:
        """Per rule position: how many events it was tried on."""
        self._count_evaluations()
        return self._evaluations

    def _count_evaluations(self) -> None:
        evaluations = self._evaluations
        for candidates, events in self._evaluated.items():
            for i in candidates:
                evaluations[i] += events
        self._evaluated.clear()

    @staticmethod
    def _silenced_keys(correlations: Iterable[CompiledCorrelation]) -> frozenset[str]:
        """Rules referenced only by correlations with ``generate: false`` stay silent."""
        referenced: dict[str, bool] = {}
        for c in correlations:
            for key in c.rule_keys:
                referenced[key] = referenced.get(key, False) or c.generate
        return frozenset(k for k, generate in referenced.items() if not generate)

    def view(self, event: Mapping[str, Any]) -> EventView:
        """The event as the rules see it, with the pipeline's field fallbacks."""
        return EventView(event, self._fallbacks)

    def _problem(self, event_index: int | None, rule_id: str | None, message: str) -> None:
        self.problem_count += 1
        self.problems.append(Problem(event_index, rule_id, message))

    def match(
        self, event: Mapping[str, Any] | EventView, event_index: int | None = None
    ) -> list[CompiledRule]:
        """The rules whose detection matches ``event`` (correlations aside)."""
        ev = event if isinstance(event, EventView) else EventView(event, self._fallbacks)
        rules = self.rules
        return [rules[i] for i in self._matching(ev, event_index)]

    def _candidates(
        self, ev: EventView, event_index: int | None
    ) -> list[Any] | tuple[tuple[int, ...], None, None]:
        """``index.lookup``: the rules ``ev`` can match first (a tuple), with the event
        and candidate counts, then the entry of the event's combination of values."""
        self.events += 1
        try:
            entry = self.index.lookup(ev)
        except EventError as exc:
            self._problem(event_index, None, str(exc))
            raise
        candidates = entry[0]
        if type(candidates) is not tuple:
            candidates = tuple(candidates)
            return_entry: list[Any] | tuple[tuple[int, ...], None, None] = (candidates, None, None)
        else:
            return_entry = entry  # type: ignore[assignment]
        evaluated = self._evaluated
        evaluated[candidates] = evaluated.get(candidates, 0) + 1
        if len(evaluated) > EVALUATION_TUPLES_KEPT:
            self._count_evaluations()
        return return_entry

    def _plan(
        self, candidates: tuple[int, ...], ev: EventView
    ) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
        """For one combination of the index's values: the candidates whose predicate must
        run on each event, and those that match whatever the rest of the event (None
        when none). The others never match with these values and are not run."""
        decided, predicates = self._decided, self._predicates
        run: list[int] = []
        sure: list[int] = []
        for i in candidates:
            if not decided[i]:
                run.append(i)
                continue
            try:
                if predicates[i](ev):
                    sure.append(i)
            except DetectionError:  # not expected of those tests; the loop reports it
                run.append(i)
        return tuple(run), (tuple(sure) or None)

    def _matching(self, ev: EventView, event_index: int | None) -> list[int]:
        """Positions of the rules matching ``ev``, counters updated."""
        candidates: tuple[int, ...] = self._candidates(ev, event_index)[0]
        if self.timing:
            return self._timed(ev, event_index, candidates)
        predicates = self._predicates
        out: list[int] = []
        for i in candidates:
            try:
                if predicates[i](ev):
                    out.append(i)
            except DetectionError as exc:  # regex timeout, nesting too deep in one field
                self._failed(i, event_index, exc)
        if out:
            matches = self.matches
            for i in out:
                matches[i] += 1
        return out

    def _timed(
        self, ev: EventView, event_index: int | None, candidates: tuple[int, ...]
    ) -> list[int]:
        """``_matching``'s loop with each predicate timed (``timing=True``)."""
        predicates, nanoseconds, matches = self._predicates, self.nanoseconds, self.matches
        out: list[int] = []
        for i in candidates:
            t0 = time.perf_counter_ns()
            try:
                ok = predicates[i](ev)
            except DetectionError as exc:  # not timed, as before
                self._failed(i, event_index, exc)
                continue
            nanoseconds[i] += time.perf_counter_ns() - t0
            if ok:
                matches[i] += 1
                out.append(i)
        return out

    def _failed(self, i: int, event_index: int | None, exc: DetectionError) -> None:
        self.errors[i] += 1
        self._problem(event_index, self.rules[i].id, str(exc))

    def event_time(self, ev: EventView) -> float:
        for fld in self._ts_fields:
            seconds = ev.timestamp(fld)  # parsed once, shared with the rules reading it
            if seconds is not None:
                return seconds
        self.untimed += 1
        return self.clock().timestamp()

    def process(
        self, event: Mapping[str, Any] | EventView, event_index: int | None = None
    ) -> list[Detection]:
        """Rule matches and correlation alerts for one event, as the output should show."""
        if type(event) is dict:  # the common case first
            ev = EventView(event, self._fallbacks)
        else:
            ev = event if isinstance(event, EventView) else EventView(event, self._fallbacks)
        out: list[Detection] = []
        feeding: list[tuple[Observer, ...]] | None = None
        emits, feeds = self._emits, self._feeds
        matched: Sequence[int] = ()
        if self.timing:
            matched = self._matching(ev, event_index)
        else:
            # ``_matching``'s untimed loop written out (no call, no list when nothing
            # matches): the hot path of a live stream.
            entry = self._candidates(ev, event_index)
            candidates: tuple[int, ...] = entry[0]
            sure: tuple[int, ...] | None = None
            if entry[1] is not None:  # a remembered combination (its folded values)
                plan = entry[2]
                if plan is None:  # made once per combination
                    plan = entry[2] = self._plan(candidates, ev)  # type: ignore[index]
                candidates, sure = plan
            predicates = self._predicates
            found: list[int] | None = None
            for i in candidates:
                try:
                    if not predicates[i](ev):
                        continue
                except DetectionError as exc:  # regex timeout, nesting too deep in one field
                    self._failed(i, event_index, exc)
                    continue
                if found is None:
                    found = [i]
                else:
                    found.append(i)
            if sure is not None:  # matched by their values alone
                found = list(sure) if found is None else sorted([*found, *sure])
            if found is not None:  # counted once every candidate is tried, as before
                matches = self.matches
                for i in found:
                    matches[i] += 1
                matched = found
        for i in matched:  # in candidate order, timed or not
            detection = emits[i]
            if detection is not None:
                out.append(detection)
            observers = feeds[i]
            if observers is not None:
                if feeding is None:
                    feeding = []
                feeding.append(observers)
        if feeding is None:
            return out
        # The first timestamp field asked directly (the common case); else the general
        # reading, which also counts an event without a time.
        first = self._ts_first
        when = ev.timestamp(first) if first is not None else None
        if when is None:
            when = self.event_time(ev)
        # The matched rules' correlations in order, then those fed by correlations that
        # fired (chaining), in the order they fired.
        queue: list[str] | None = None
        for observers in feeding:
            for observe in observers:
                alert = observe(ev, when)
                if alert is not None:
                    queue = self._alerted(alert, out, queue)
        pos = 0
        while queue is not None and pos < len(queue):
            for observe in self._observers[queue[pos]]:
                alert = observe(ev, when)
                if alert is not None:
                    queue = self._alerted(alert, out, queue)
            pos += 1
        return out

    def _alerted(
        self, alert: CorrelationAlert, out: list[Detection], queue: list[str] | None
    ) -> list[str] | None:
        """Emit a correlation alert (unless silenced); queue its id when it feeds others."""
        corr = alert.correlation
        if corr.id not in self._silent:
            out.append(Detection(corr.id, corr.title, corr.level, alert))
        if corr.id in self._observers:
            if queue is None:
                queue = []
            queue.append(corr.id)
        return queue

    def stats(self) -> list[RuleStats]:
        evaluations = self.evaluations
        return [
            RuleStats(
                r.id,
                r.title,
                evaluations[i],
                self.matches[i],
                self.errors[i],
                self.nanoseconds[i] / 1e9,
            )
            for i, r in enumerate(self.rules)
        ]

    def correlation_stats(self) -> dict[str, dict[str, int]]:
        return {
            s.corr.id: {
                "fired": s.stats.fired,
                "late": s.stats.late,
                "overflow": s.stats.overflow,
                "evicted_groups": s.stats.evicted_groups,
                "groups": len(s.groups),
            }
            for s in self.correlations
        }


DECIDED_KINDS: frozenset[str] = frozenset(
    {"eq", "prefix", "suffix", "contains", "any", "null", "exists"}
)
"""Tests that are plain functions of one field's text (no regular expression and its
time budget, no other field, no time): their verdict follows from the field's value."""


def decided_by(node: Node, fields: frozenset[str]) -> bool:
    """Whether every test of ``node`` is a :data:`DECIDED_KINDS` test of one of
    ``fields``, so that its verdict follows from those fields' values alone."""
    if isinstance(node, Test):
        return node.kind in DECIDED_KINDS and node.field is not None and node.field in fields
    if isinstance(node, And | Or):
        return all(decided_by(item, fields) for item in node.items)
    if isinstance(node, Not):
        return decided_by(node.item, fields)
    return isinstance(node, Const)


def fixed_clock(moment: datetime | None = None) -> Callable[[], datetime]:
    """A clock that always answers ``moment`` (tests, replays)."""
    value = moment or datetime(1970, 1, 1, tzinfo=UTC)
    return lambda: value


__all__ = ["Detection", "DetectionEngine", "Problem", "RuleStats", "fixed_clock"]
