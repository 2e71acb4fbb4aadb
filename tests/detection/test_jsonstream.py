"""Reading JSON values one after another."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from rempart.detection.jsonstream import iter_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.lists(json_values, max_size=8), st.booleans(), st.sampled_from([3, 64, 1 << 20]))
def test_any_sequence_of_values_round_trips(values: list[object], pretty: bool, chunk: int) -> None:
    import json

    text = "\n".join(json.dumps(v, indent=2 if pretty else None) for v in values)
    items = list(iter_json(io.StringIO(text), chunk=chunk))
    assert [i.value for i in items] == values
    assert [i.index for i in items] == list(range(len(values)))
    assert all(i.error is None for i in items)


def test_a_broken_record_is_reported_and_the_next_ones_are_kept() -> None:
    text = '{"a": 1}\n{"b": \n{"c": 3}\n'
    items = list(iter_json(io.StringIO(text)))
    assert items[0].value == {"a": 1}
    assert items[1].error is not None
    assert "line 2" in items[1].error
    assert items[2].value == {"c": 3}
    assert items[2].line == 3


def test_too_deep_json_is_an_error_not_a_crash() -> None:
    text = "[" * 100_000 + "]" * 100_000 + '\n{"ok": true}'
    items = list(iter_json(io.StringIO(text)))
    assert items[0].error is not None
    assert items[-1].value == {"ok": True}


def test_values_over_the_size_limit_are_reported() -> None:
    text = '{"a": "' + "x" * 5000 + '"}\n{"b": 1}'
    items = list(iter_json(io.StringIO(text), max_bytes=1000, chunk=100))
    assert items[0].error is not None
    assert items[-1].value == {"b": 1}
