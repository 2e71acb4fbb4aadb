"""One generated ``observe`` function per correlation and referenced rule.

:meth:`CorrelationState.observe` serves every kind of correlation: per match it looks up
the rule's plan, tests the kind, and slides the window through a method of the group.
For the counting correlations (``event_count``, ``value_count`` with a threshold) the
common case, an in-order match for a group that exists read from a plain event, is
written out here as one function with everything it needs bound by name: the group-by
reader, the window's span, the comparison and its threshold. Every other case (a new
group, an out-of-order or late match, an event the reader cannot answer, the other
kinds) goes to :meth:`CorrelationState.observe` unchanged, so the decisions, the state
and the counters are those of the general path (``tests/detection/test_observers.py``
replays random streams through both).
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable
from functools import partial
from typing import Any

from rempart.detection.correlation import COUNTS, CorrelationAlert, CorrelationState
from rempart.detection.event import EventView

Observer = Callable[[EventView, float], "CorrelationAlert | None"]

_SYMBOLS: dict[Callable[[Any, Any], bool], str] = {
    operator.lt: "<",
    operator.le: "<=",
    operator.gt: ">",
    operator.ge: ">=",
    operator.eq: "==",
    operator.ne: "!=",
}


def generic_observer(state: CorrelationState, key: str) -> Observer:
    """``state.observe`` for matches of ``key``: the general path."""
    return partial(state.observe, key)


def compile_observer(state: CorrelationState, key: str) -> Observer:
    """The fastest observer of matches of ``key`` that decides as the general path does."""
    corr = state.corr
    _, fld, position, reader = state._plans[key]
    metric = state._metric
    symbol = _SYMBOLS.get(state._op)
    if symbol is None or state._threshold is None:
        return generic_observer(state, key)
    if metric == 1 and fld is None and state._track == 0:
        distinct = False
    elif metric == 2 and fld is not None and state._distinct and state._track == COUNTS:
        distinct = True
    else:
        return generic_observer(state, key)
    # Source from fixed templates; every value (reader, span, threshold) is bound by name.
    lines = [
        "def observe(ev, t):",
        "    if ev._slow or ev._fallbacks is not None:",
        "        return general(KEY, ev, t)",
        "    read = reader(ev.data)",
        "    if read is None:",
        "        return general(KEY, ev, t)",
    ]
    if distinct:
        lines += [
            "    value = read[-1]",
            "    if value is None:",
            "        return None",
            "    key = read[:-1]",
        ]
    else:
        lines += ["    value = None", "    key = read"]
    lines += [
        "    group = groups.get(key)",
        "    if group is None or t < group.newest:",
        "        return general(KEY, ev, t)",
        "    move_to_end(key)",
        "    state._seq = seq = state._seq + 1",
        "    times = group.times",
        "    entries = group.entries",
        "    entries.append((t, seq, POSITION, value))",
        "    times.append(t)",
        "    group.newest = t",
        "    limit = t - SPAN",
        "    start = group.start",
    ]
    if distinct:
        lines += [
            "    counts = group.counts",
            "    while times[start] <= limit:",
            "        old = entries[start][3]",
            "        n = counts[old] - 1",
            "        if n:",
            "            counts[old] = n",
            "        else:",
            "            del counts[old]",
            "        start += 1",
            "    counts[value] = counts.get(value, 0) + 1",
        ]
    else:
        lines += [
            "    if times[start] <= limit:",
            "        start = bisect_right(times, limit, start)",
        ]
    lines += [
        "    if start > 256 and times[max(256, len(times) // 2)] <= t - SPAN2:",
        "        horizon = bisect_right(times, t - SPAN2, 0, start)",
        "        del times[:horizon], entries[:horizon]",
        "        start -= horizon",
        "    group.start = start",
        "    size = len(times) - start",
        f"    fired = {'len(counts)' if distinct else 'size'} {symbol} THRESHOLD",
        "    if len(entries) > MAX_ENTRIES:",
        "        excess = len(entries) - MAX_ENTRIES",
        "        stats.overflow += excess",
        "        group.drop_oldest(excess, SPAN)",
        "    if fired:",
        "        stats.fired += 1",
        "        del groups[key]",
        "        return Alert(CORR, key, t, size)",
        "    return None",
    ]
    namespace: dict[str, Any] = {
        "general": state.observe,
        "KEY": key,
        "reader": reader,
        "groups": state.groups,
        "move_to_end": state.groups.move_to_end,
        "state": state,
        "POSITION": position,
        "SPAN": state._span,
        "SPAN2": 2 * state._span,
        "THRESHOLD": state._threshold,
        "MAX_ENTRIES": state.max_entries,
        "stats": state.stats,
        "Alert": CorrelationAlert,
        "CORR": corr,
        "bisect_right": bisect.bisect_right,
    }
    code = compile("\n".join(lines) + "\n", f"<observe {corr.id} {key}>", "exec")
    exec(code, namespace)  # noqa: S102 - fixed templates, values bound by name
    made: Observer = namespace["observe"]
    return made


__all__ = ["Observer", "compile_observer", "generic_observer"]
