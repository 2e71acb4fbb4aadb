"""Epoch-millisecond times (OCSF ``time``) read by arithmetic answer what the datetime
path answers: the time parts the rules test and the correlation clock."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.detection import matchers
from rempart.detection.event import EPOCH_MS_HIGH, EPOCH_MS_LOW, EventView
from tests.detection.helpers import compile_detection, matches

PARTS = ("hour", "minute", "day", "week", "month", "year")

EDGES: list[Any] = [
    EPOCH_MS_LOW - 1,  # 1e11: read as seconds by the general path
    EPOCH_MS_LOW,
    EPOCH_MS_HIGH - 1,  # 9999-12-31T23:59:59.999Z
    EPOCH_MS_HIGH,  # beyond datetime's range: not a time
    EPOCH_MS_HIGH + 1,
    1772445600000,  # 2026-03-02T10:00:00Z
    1772445599999,  # one millisecond before the hour
    1772445600001,
    1772495999999,  # 23:59:59.999
    2**53 + 1,
    -1772445600000,
    1772445600,  # seconds
    True,
    1772445600000.0,  # a float: the general path
    "1772445600000",
    None,
]


def _general(value: Any, part: str) -> tuple[int | None, ...]:
    """The part of each value by the datetime path (a mapping that is not a dict is
    always resolved the general way)."""
    moments = EventView(MappingProxyType({"t": value})).moments("t")
    return tuple(
        None if m is None else (m.isocalendar().week if part == "week" else getattr(m, part))
        for m in moments
    )


def _general_seconds(value: Any) -> float | None:
    moments = EventView(MappingProxyType({"t": value})).moments("t")
    return moments[0].timestamp() if moments and moments[0] is not None else None


def _check(value: Any) -> None:
    for part in PARTS:
        assert EventView({"t": value}).timeparts("t", part) == _general(value, part), part
        # nested: the general reading, whatever the value
        nested = EventView({"a": {"t": value}}).timeparts("a.t", part)
        assert nested == _general(value, part), part
    assert EventView({"t": value}).timestamp("t") == _general_seconds(value)
    moment = matchers.parse_utc(value)
    if moment is not None:
        assert EventView({"t": value}).timestamp("t") == moment.timestamp()


@pytest.mark.parametrize("value", EDGES)
def test_edge_times_read_by_arithmetic_are_those_of_the_datetime(value: Any) -> None:
    _check(value)


def test_any_epoch_millisecond_gives_the_datetime_parts_and_seconds() -> None:
    @settings(max_examples=2000, deadline=None)
    @given(
        st.integers(EPOCH_MS_LOW - 10, EPOCH_MS_HIGH + 10)
        | st.integers(1_700_000_000_000, 1_900_000_000_000)  # this century, densely
        | st.integers(-(2**60), 2**60)
    )
    def law(value: int) -> None:
        _check(value)

    law()


def test_the_fast_path_is_taken_for_epoch_milliseconds() -> None:
    ev = EventView({"time": 1772445600000})
    assert ev.timeparts("time", "hour") == (10,)
    assert ev.timestamp("time") == 1772445600.0
    assert ev._moments is None  # no datetime was made


def test_a_field_already_resolved_is_read_from_what_was_resolved() -> None:
    ev = EventView({"time": 1772445600000})
    assert ev.scalars("time") == (1772445600000,)  # now in the resolved values
    assert ev.timeparts("time", "hour") == (10,)
    assert ev.timestamp("time") == 1772445600.0


def test_hour_rules_on_epoch_milliseconds_match_as_on_iso_text() -> None:
    rule = compile_detection(
        {"early": {"t|hour|lt": 7}, "late": {"t|hour|gte": 20}, "condition": "early or late"}
    )
    assert "parts_in(ev.timeparts(" in rule.source
    single = compile_detection({"sel": {"t|minute|gte": 30}, "condition": "sel"})
    assert "parts_any(ev.timeparts(" in single.source
    base = 1772409600000  # 2026-03-02T00:00:00Z
    for minutes in range(0, 24 * 60, 7):
        ms = base + minutes * 60_000 + 59_999
        iso = matchers.parse_utc(ms)
        assert iso is not None
        text = iso.isoformat()
        assert (
            matches(rule, {"t": ms})
            == matches(rule, {"t": text})
            == (iso.hour < 7 or iso.hour >= 20)
        )
        assert matches(single, {"t": ms}) == matches(single, {"t": text}) == (iso.minute >= 30)
