"""Sigma correlation rules over the stream of rule matches, with true sliding windows.

A correlation rule watches the matches of the rules it references, grouped by its
``group-by`` fields (``aliases`` give a field a different name per referenced rule).
Each group keeps the timestamps (and values) of its recent matches, sorted; a window
is ``(t - timespan, t]`` for any match time ``t``, so windows slide with every event,
they are not fixed buckets.

Policy for time, documented in ``docs/detection.md``:

- an event's time is read from the pipeline's timestamp field; an event without one
  takes the engine clock (processing time) and is counted as ``untimed``;
- out-of-order events are accepted while they are no older than ``timespan`` before
  the newest time the group has seen: they are inserted in order and every window
  that contains them is evaluated again;
- older events are *late*: they are not added, and are counted as ``late``;
- a group keeps at most ``max_entries`` matches (the oldest go first, counted as
  ``overflow``) and a rule at most ``max_groups`` groups (the least recently updated
  go first, counted as ``evicted_groups``): memory stays bounded whatever the input;
- when a correlation fires for a group, that group starts over, so one burst gives
  one alert, not one per later event.

Chaining: a correlation may reference another correlation; the inner one firing
counts as a match of it, at the time of the event that made it fire.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sigma.correlations import (
    CorrelationConditionAND,
    CorrelationConditionNOT,
    CorrelationConditionOR,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaCorrelationType,
    SigmaExtendedCorrelationCondition,
    SigmaRuleReference,
)

from rempart.detection.errors import Location, RuleError
from rempart.detection.event import EventView, string_reader
from rempart.detection.matchers import to_number

MAX_GROUPS = 10_000
MAX_ENTRIES = 10_000

_OPS: dict[SigmaCorrelationConditionOperator, Callable[[Any, Any], bool]] = {
    SigmaCorrelationConditionOperator.LT: operator.lt,
    SigmaCorrelationConditionOperator.LTE: operator.le,
    SigmaCorrelationConditionOperator.GT: operator.gt,
    SigmaCorrelationConditionOperator.GTE: operator.ge,
    SigmaCorrelationConditionOperator.EQ: operator.eq,
    SigmaCorrelationConditionOperator.NEQ: operator.ne,
}

Cond = Any  # an extended condition tree: str (rule key) | ("and"|"or", [..]) | ("not", x)


@dataclass(eq=False)
class CompiledCorrelation:
    """A correlation rule ready to run."""

    id: str
    title: str
    name: str | None
    level: str | None
    type: str
    location: Location
    rule_keys: tuple[str, ...]  # ids of the referenced rules or correlations, in order
    group_by: tuple[str, ...]
    aliases: dict[str, dict[str, str]]  # alias -> {rule key -> field}
    timespan: float
    op: Callable[[Any, Any], bool] | None
    threshold: float | None
    value_field: str | None
    percentile: float | None
    generate: bool
    extended: Cond = None

    def group_fields(self, rule_key: str) -> tuple[str, ...]:
        return tuple(
            self.aliases[g].get(rule_key, g) if g in self.aliases else g for g in self.group_by
        )


@dataclass
class CorrelationAlert:
    """A correlation that fired: for which group, on which event, how many matches."""

    correlation: CompiledCorrelation
    group: tuple[str | None, ...]
    time: float
    count: int


@dataclass
class CorrelationStats:
    fired: int = 0
    late: int = 0
    overflow: int = 0
    evicted_groups: int = 0


Entry = tuple[float, int, int, Any]  # (time, arrival sequence, rule position, value)


def _percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    data = sorted(values)
    if not data:
        return math.nan
    k = (len(data) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


COUNTS, POSITIONS, TOTAL = 1, 2, 4
"""Running aggregates a group may keep: distinct values, rules seen, sum of values."""


def _tracking(corr: CompiledCorrelation) -> int:
    """The aggregates a correlation decides on (the others are not kept)."""
    if corr.type == "value_count":
        return COUNTS
    if corr.type in ("value_sum", "value_avg"):
        return TOTAL
    if corr.type == "temporal" and corr.extended is None:
        return POSITIONS
    return 0  # event_count: the window's size; the others: the window's entries


class _Group:
    """Matches of one group, sorted by time, with running aggregates of the newest window
    (only those its correlation decides on, ``track``)."""

    __slots__ = ("counts", "entries", "newest", "positions", "start", "times", "total", "track")

    def __init__(self, track: int = COUNTS | POSITIONS | TOTAL) -> None:
        self.entries: list[Entry] = []
        self.times: list[float] = []
        self.newest = -math.inf
        self.start = 0  # first entry of the window ending at ``newest``
        self.track = track
        self.counts: dict[Any, int] = {}  # value -> occurrences in that window
        self.positions: dict[int, int] = {}  # rule position -> occurrences in that window
        self.total = 0.0

    def _add(self, e: Entry) -> None:
        track = self.track
        if track & COUNTS:
            counts = self.counts
            counts[e[3]] = counts.get(e[3], 0) + 1
        if track & POSITIONS:
            positions = self.positions
            positions[e[2]] = positions.get(e[2], 0) + 1
        if track & TOTAL:
            t = type(e[3])
            if t is int or t is float:
                self.total += e[3]

    def _remove(self, e: Entry) -> None:
        track = self.track
        if track & COUNTS:
            n = self.counts[e[3]] - 1
            if n:
                self.counts[e[3]] = n
            else:
                del self.counts[e[3]]
        if track & POSITIONS:
            n = self.positions[e[2]] - 1
            if n:
                self.positions[e[2]] = n
            else:
                del self.positions[e[2]]
        if track & TOTAL and isinstance(e[3], int | float):
            self.total -= e[3]

    def rebuild(self, span: float) -> None:
        """Recompute the newest window's aggregates from scratch (after a late insert)."""
        self.start = bisect.bisect_right(self.times, self.newest - span)
        self.counts, self.positions, self.total = {}, {}, 0.0
        if self.track:
            for e in self.entries[self.start :]:
                self._add(e)

    def append(self, e: Entry, span: float) -> None:
        """Add an entry at or after ``newest`` and slide the window (amortised O(1))."""
        t = e[0]
        times, entries = self.times, self.entries
        entries.append(e)
        times.append(t)
        self.newest = t
        limit = t - span
        track = self.track
        start = self.start
        if times[start] <= limit:
            if track == COUNTS:  # distinct values (value_count), written out
                counts = self.counts
                while times[start] <= limit:
                    old = entries[start][3]
                    n = counts[old] - 1
                    if n:
                        counts[old] = n
                    else:
                        del counts[old]
                    start += 1
            elif track:
                while times[start] <= limit:
                    self._remove(entries[start])
                    start += 1
            else:
                start = bisect.bisect_right(times, limit, start)
            self.start = start
        if track == COUNTS:  # _add, written out (once per match)
            counts = self.counts
            counts[e[3]] = counts.get(e[3], 0) + 1
        elif track:
            self._add(e)
        # Keep one more timespan of history for late events, drop the rest in batches:
        # more than 256 entries older than that, and more than half of them (the first
        # test says whether the search would find enough; no search otherwise).
        if start > 256 and times[max(256, len(times) // 2)] <= t - 2 * span:
            horizon = bisect.bisect_right(times, t - 2 * span, 0, start)
            del times[:horizon], entries[:horizon]
            self.start -= horizon

    def drop_oldest(self, excess: int, span: float) -> None:
        """Forget the ``excess`` oldest entries (the bound on entries per group); only
        those inside the newest window change its aggregates (amortised O(1), where
        recomputing the window cost O(window) per match at the bound)."""
        start = self.start
        if excess > start and self.track & TOTAL:
            # a float sum is recomputed, not decremented, as it always was here
            del self.entries[:excess], self.times[:excess]
            self.rebuild(span)
            return
        for e in self.entries[start:excess]:  # empty unless the window loses entries
            self._remove(e)
        del self.entries[:excess], self.times[:excess]
        self.start = max(start - excess, 0)


class CorrelationState:
    """Sliding-window state of one correlation rule, bounded per group and in groups."""

    def __init__(
        self,
        corr: CompiledCorrelation,
        *,
        max_groups: int = MAX_GROUPS,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.corr = corr
        self.max_groups = max_groups
        self.max_entries = max_entries
        self.groups: OrderedDict[tuple[str | None, ...], _Group] = OrderedDict()
        self.stats = CorrelationStats()
        self._seq = 0
        self._positions = {k: i for i, k in reversed(list(enumerate(corr.rule_keys)))}
        self._group_fields = {k: corr.group_fields(k) for k in corr.rule_keys}
        vf = corr.value_field
        self._value_fields = {
            k: (corr.aliases[vf].get(k, vf) if vf in corr.aliases else vf) if vf else None
            for k in corr.rule_keys
        }
        self._distinct = corr.type == "value_count"
        # Per rule key, everything observe needs: one dictionary read per match. The
        # reader takes the group-by fields (then, counting distinct values, the value
        # field) from a plain event in one call.
        self._plans = {
            k: (
                self._group_fields[k],
                self._value_fields[k],
                self._positions[k],
                string_reader(
                    self._group_fields[k]
                    + ((vf,) if self._distinct and (vf := self._value_fields[k]) else ())
                ),
            )
            for k in corr.rule_keys
        }
        self._track = _tracking(corr)
        # Counting correlations decide on a number kept up to date: 1 the window's size,
        # 2 its distinct values; 0 the general evaluation.
        counting = corr.op is not None and corr.threshold is not None
        self._metric = {"event_count": 1, "value_count": 2}.get(corr.type, 0) if counting else 0
        # Out-of-order matches are decided by sliding running aggregates across the
        # windows that hold them when the decision is a count (exact), else window by
        # window from the entries.
        self._slides = self._metric != 0 or (corr.type == "temporal" and corr.extended is None)
        self._span = corr.timespan
        self._op: Callable[[Any, Any], bool] = corr.op or operator.eq  # used when counting
        self._threshold = corr.threshold

    def observe(self, rule_key: str, event: EventView, t: float) -> CorrelationAlert | None:
        """Add one match of ``rule_key`` at time ``t``; an alert when the rule fires."""
        corr = self.corr
        fields, fld, position, reader = self._plans[rule_key]
        value: Any = None
        # A plain event (the view of this package: its own attributes) is read in one
        # call; the others field by field, through the view.
        read = None if event._slow or event._fallbacks is not None else reader(event.data)  # type: ignore[arg-type]
        if read is not None:
            if fld is not None and self._distinct:
                key: tuple[str | None, ...] = read[:-1]
                value = read[-1]
                if value is None:
                    return None  # nothing to count for this group
            else:
                key = read
        else:
            text = event.text
            key = tuple([v[0] if (v := text(f)) else None for f in fields])
            if fld is not None and self._distinct:
                vals = text(fld)
                value = vals[0] if vals else None
                if value is None:
                    return None
        if fld is not None and not self._distinct:
            raw = event.scalars(fld)
            value = to_number(raw[0]) if raw else None
            if value is None:
                return None  # nothing to add for this group
        groups = self.groups
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(self._track)
            if len(groups) > self.max_groups:
                groups.popitem(last=False)
                self.stats.evicted_groups += 1
        else:
            groups.move_to_end(key)
        span = self._span
        newest = group.newest
        self._seq = seq = self._seq + 1
        if t >= newest:  # in order: the common case
            group.append((t, seq, position, value), span)
            window_size = len(group.times) - group.start
            metric = self._metric
            if metric == 1:
                fired = self._op(window_size, self._threshold)
            elif metric == 2:
                fired = self._op(len(group.counts), self._threshold)
            else:
                fired = self._fires_incremental(group, window_size)
            end = t
        elif t < newest - span:
            self._seq -= 1  # a late match takes no place
            self.stats.late += 1
            return None
        else:
            entry: Entry = (t, seq, position, value)
            fired, end, window_size = self._insert_late(group, entry, span)
        if len(group.entries) > self.max_entries:
            excess = len(group.entries) - self.max_entries
            self.stats.overflow += excess
            group.drop_oldest(excess, span)
        if fired:
            self.stats.fired += 1
            del groups[key]
            return CorrelationAlert(corr, key, end, window_size)
        return None

    def _insert_late(self, group: _Group, entry: Entry, span: float) -> tuple[bool, float, int]:
        """Insert an out-of-order entry; evaluate every window (e - span, e] holding it."""
        i = bisect.bisect_right(group.entries, entry)
        group.entries.insert(i, entry)
        group.times.insert(i, entry[0])
        group.rebuild(span)
        times, t = group.times, entry[0]
        ends = sorted({times[j] for j in range(i, bisect.bisect_right(times, t + span))})
        if self._slides:
            return self._slide(group, ends, span, t)
        for end in ends:
            lo = bisect.bisect_right(times, end - span)
            hi = bisect.bisect_right(times, end)
            window = group.entries[lo:hi]
            if self._fires(window):
                return True, end, len(window)
        return False, t, 0

    def _slide(
        self, group: _Group, ends: list[float], span: float, t: float
    ) -> tuple[bool, float, int]:
        """The windows ending at ``ends`` (ascending) decided by sliding one set of running
        aggregates across them: O(matches in the range) for an out-of-order match, where
        evaluating each window from its entries cost O(window) per window, O(window^2)
        for the match. The same windows, in the same order, with the same decisions."""
        times, entries = group.times, group.entries
        agg = _Group(self._track)
        lo = hi = bisect.bisect_right(times, ends[0] - span)
        metric, op, threshold = self._metric, self._op, self._threshold
        needed = len(set(self.corr.rule_keys))
        for end in ends:
            new_lo = bisect.bisect_right(times, end - span, lo)
            new_hi = bisect.bisect_right(times, end, hi)
            for e in entries[hi:new_hi]:  # added first: every entry removed was added
                agg._add(e)
            for e in entries[lo:new_lo]:
                agg._remove(e)
            lo, hi = new_lo, new_hi
            size = hi - lo
            if metric == 1:
                fired = op(size, threshold)
            elif metric == 2:
                fired = op(len(agg.counts), threshold)
            else:  # temporal without an extended condition
                fired = len(agg.positions) == needed
            if fired:
                return True, end, size
        return False, t, 0

    def _fires_incremental(self, group: _Group, size: int) -> bool:
        corr = self.corr
        kind = corr.type
        if kind == "event_count":
            metric: float = size
        elif kind == "value_count":
            metric = len(group.counts)
        elif kind == "value_sum":
            metric = group.total
        elif kind == "value_avg":
            metric = group.total / size
        elif kind in ("temporal", "temporal_extended") and corr.extended is None:
            return len(group.positions) == len(corr.rule_keys)
        else:
            return self._fires(group.entries[group.start :])
        op, threshold = corr.op, corr.threshold
        return op is not None and threshold is not None and op(metric, threshold)

    def _fires(self, window: list[Entry]) -> bool:
        corr = self.corr
        kind = corr.type
        if kind in ("temporal", "temporal_extended"):
            seen = {corr.rule_keys[e[2]] for e in window}
            if corr.extended is not None:
                return _eval_extended(corr.extended, seen)
            return len(seen) == len(set(corr.rule_keys))
        if kind == "temporal_ordered":
            return _ordered(window, len(corr.rule_keys))
        op, threshold = corr.op, corr.threshold
        if op is None or threshold is None or not window:
            return False
        if kind == "event_count":
            metric: float = len(window)
        elif kind == "value_count":
            metric = len({e[3] for e in window})
        else:
            values = [float(e[3]) for e in window]
            if kind == "value_sum":
                metric = sum(values)
            elif kind == "value_avg":
                metric = sum(values) / len(values)
            elif kind == "value_median":
                metric = _percentile(values, 50)
            else:
                metric = _percentile(values, corr.percentile or 50)
        return op(metric, threshold)


def _ordered(window: list[tuple[float, int, int, Any]], n: int) -> bool:
    """Matches of rule 0, then rule 1, ... rule n-1, in time order, inside the window."""
    want = 0
    for e in window:  # sorted by time, then arrival
        if e[2] == want:
            want += 1
            if want == n:
                return True
    return False


def _eval_extended(cond: Cond, seen: set[str]) -> bool:
    if isinstance(cond, str):
        return cond in seen
    op, args = cond
    if op == "not":
        return not _eval_extended(args, seen)
    results = (_eval_extended(a, seen) for a in args)
    return all(results) if op == "and" else any(results)


def _extended_tree(item: Any, keys: dict[str, str]) -> Cond:
    if isinstance(item, SigmaRuleReference):
        return keys[item.reference]
    if isinstance(item, CorrelationConditionNOT):
        return ("not", _extended_tree(item.args[0], keys))
    if isinstance(item, CorrelationConditionAND | CorrelationConditionOR):
        op = "and" if isinstance(item, CorrelationConditionAND) else "or"
        return (op, [_extended_tree(a, keys) for a in item.args])
    raise ValueError(f"unsupported correlation condition element {type(item).__name__}")


SUPPORTED_TYPES = {
    SigmaCorrelationType.EVENT_COUNT: "event_count",
    SigmaCorrelationType.VALUE_COUNT: "value_count",
    SigmaCorrelationType.TEMPORAL: "temporal",
    SigmaCorrelationType.TEMPORAL_ORDERED: "temporal_ordered",
    SigmaCorrelationType.VALUE_SUM: "value_sum",
    SigmaCorrelationType.VALUE_AVG: "value_avg",
    SigmaCorrelationType.VALUE_PERCENTILE: "value_percentile",
    SigmaCorrelationType.VALUE_MEDIAN: "value_median",
}


def compile_correlation(
    rule: SigmaCorrelationRule, location: Location, key_of: Callable[[Any], str]
) -> CompiledCorrelation:
    """Compile a (pipeline-processed, references resolved) correlation rule.

    ``key_of`` maps a referenced pySigma rule object to the key it is known by.
    """
    rule_id = str(rule.id) if rule.id is not None else None
    kind = SUPPORTED_TYPES.get(rule.type)
    extended: Cond = None
    if isinstance(rule.condition, SigmaExtendedCorrelationCondition):
        if rule.type is not SigmaCorrelationType.TEMPORAL:
            raise RuleError(
                f"extended conditions are supported for temporal correlations, not {rule.type}",
                location,
                rule_id,
            )
        kind = "temporal_extended"
    if kind is None:
        raise RuleError(f"correlation type {rule.type} is not supported", location, rule_id)
    refs = rule.referenced_rules or []
    try:
        keys = tuple(key_of(ref.rule) for ref in refs)
    except (AttributeError, KeyError) as exc:
        raise RuleError(f"unresolved rule reference: {exc}", location, rule_id) from exc
    if not keys:
        raise RuleError("correlation references no rule", location, rule_id)
    by_reference = {ref.reference: k for ref, k in zip(refs, keys, strict=True)}
    aliases: dict[str, dict[str, str]] = {}
    for alias in rule.aliases:
        aliases[alias.alias] = {key_of(ref.rule): fld for ref, fld in alias.mapping.items()}
    op = threshold = value_field = percentile = None
    cond = rule.condition
    if isinstance(cond, SigmaExtendedCorrelationCondition):
        try:
            extended = _extended_tree(cond.parsed, by_reference)
        except (KeyError, ValueError) as exc:
            raise RuleError(f"extended condition: {exc}", location, rule_id) from exc
    elif cond is not None:
        op = _OPS[cond.op]
        threshold = float(cond.count)
        if isinstance(cond.fieldref, list):
            if len(cond.fieldref) != 1:
                raise RuleError("condition names several fields", location, rule_id)
            value_field = cond.fieldref[0]
        else:
            value_field = cond.fieldref
        percentile = float(cond.percentile) if cond.percentile is not None else None
    if kind.startswith("value_") and value_field is None:
        raise RuleError(f"{kind} needs a condition field", location, rule_id)
    # Sigma allows a count on temporal rules: how many referenced rules must match.
    # Only "all of them" (the default) is implemented; anything else is refused.
    temporal = kind in ("temporal", "temporal_ordered")
    if temporal and op is not None and threshold is not None and not op(len(keys), threshold):
        raise RuleError(
            "temporal condition other than 'all rules' is not supported", location, rule_id
        )
    return CompiledCorrelation(
        id=rule_id or str(location),
        title=rule.title,
        name=rule.name,
        level=str(rule.level) if rule.level is not None else None,
        type=kind,
        location=location,
        rule_keys=keys,
        group_by=tuple(rule.group_by or ()),
        aliases=aliases,
        timespan=float(rule.timespan.seconds),
        op=op,
        threshold=threshold,
        value_field=value_field,
        percentile=percentile,
        generate=bool(rule.generate),
        extended=extended,
    )


__all__ = [
    "MAX_ENTRIES",
    "MAX_GROUPS",
    "CompiledCorrelation",
    "CorrelationAlert",
    "CorrelationState",
    "CorrelationStats",
    "compile_correlation",
]
