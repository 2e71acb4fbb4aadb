"""The shortcuts taken for speed answer exactly what the plain tests would."""

from __future__ import annotations

from typing import Any

import pytest

from rempart.detection import matchers
from rempart.detection.event import EventView, build_trie, trigrams
from tests.detection.helpers import compile_detection, matches


def test_a_keyword_is_found_inside_one_value_not_across_two() -> None:
    rule = compile_detection({"keywords": ["ab"], "condition": "keywords"})
    assert "all_fold_joined" in rule.source
    assert matches(rule, {"x": "cAB", "y": 1})
    assert not matches(rule, {"x": "a", "y": "b"})
    assert not matches(rule, {"x": "a", "y": {"z": "b"}})


def test_keywords_fold_case_over_the_joined_text() -> None:
    rule = compile_detection({"keywords": ["straße"], "condition": "keywords"})
    assert matches(rule, {"x": "STRASSE"})
    assert not matches(rule, {"x": "STRAS", "y": "SE"})


def test_joined_text_equals_folding_each_value() -> None:
    ev = EventView({"a": "ΣΑΣ İ", "b": ["K", 3, True], "c": {"d": "ß"}})
    assert ev.all_fold_joined().split("\x00") == list(ev.all_fold())


@pytest.mark.parametrize(
    ("values", "expected"),
    [(("plain ascii",), False), (("x 🐯 y",), True), (("é",), False), ((), False)],
)
def test_non_ascii_needles_skip_ascii_values_only(values: tuple[str, ...], expected: bool) -> None:
    chars = frozenset({"🐯", "🦁"})
    assert matchers.chars_nonascii(values, chars) is expected
    assert matchers.chars_any(values, chars) is expected
    needles = ("🐯 y", "🦁🏼")
    assert matchers.contains_nonascii(values, needles) is expected
    assert matchers.contains_any(values, needles) is expected


def test_emoji_rules_use_the_non_ascii_helpers_and_still_match() -> None:
    det: dict[str, Any] = {
        "sel": {"CommandLine|contains": ["🐯", "🤷🏼"]},
        "condition": "sel",
    }
    rule = compile_detection(det)
    assert "chars_nonascii" in rule.source
    assert "contains_nonascii" in rule.source
    assert matches(rule, {"CommandLine": "run 🤷🏼 now"})
    assert matches(rule, {"CommandLine": "🐯"})
    assert not matches(rule, {"CommandLine": "run now"})
    assert not matches(rule, {"CommandLine": "🤷 alone"})


def test_many_needles_sharing_a_prefix_are_keyed_apart() -> None:
    needles = tuple(f"imphash={i:032x}" for i in range(40))
    table = matchers.gram_table(needles)
    assert len(table) > 1
    assert sorted(n for ns in table.values() for n in ns) == sorted(needles)
    value = f"sha1=00,imphash={7:032x},md5=11"
    grams = trigrams(value)
    assert matchers.contains_grams((value,), grams, table)
    other = f"imphash={99:032x}"
    assert not matchers.contains_grams((other,), trigrams(other), table)


@pytest.mark.parametrize(
    ("pattern", "ignore_case", "required"),
    [
        (r"\w+`(?:\w+|-|.)`[\w+|\s]", False, "`"),
        (r"ipconfig\s+/all", False, "ipconfig"),
        (r"ipconfig\s+/all", True, "/"),  # letters may come in another case
        (r"(?i)ipconfig", False, None),  # inline flag: no letter is required as written
        (r"a|b", False, None),
        (r"ab?c", False, "a"),
        (r"\\[a-z]{1,3}\.dll", False, ".dll"),
    ],
)
def test_regex_required_text(pattern: str, ignore_case: bool, required: str | None) -> None:
    assert matchers.regex_required(pattern, ignore_case) == required


@pytest.mark.parametrize(
    ("pattern", "flags", "value", "expected"),
    [
        (r"ipconfig\s+/all", 0, "IPCONFIG /all", False),
        (r"ipconfig\s+/all", 2, "IPCONFIG /ALL", True),  # regex.IGNORECASE
        (r"(?i)ipconfig", 0, "IPCONFIG", True),
        (r"\w+`\w+", 0, "a`b", True),
        (r"\w+`\w+", 0, "ab", False),
    ],
)
def test_the_required_text_never_changes_a_search(
    pattern: str, flags: int, value: str, expected: bool
) -> None:
    import regex

    bounded = matchers.BoundedRegex(pattern, flags)
    assert bounded.search(value) is expected
    assert (regex.search(pattern, value, flags) is not None) is expected


@pytest.mark.parametrize(
    "event",
    [
        {"Event": {"System": {"EventID": 1}, "EventData": {"Image": "C:\\x.exe", "N": None}}},
        {"Event": {"EventData": {"Image": ["a", "b"], "Obj": {"k": 1}}}},
        {"Event.EventData.Image": "dotted", "Event": {"EventData": {"Image": "plain"}}},
        {"Event": [{"EventData": {"Image": "in a list"}}]},
        {"Event": {"UserData": {"X": {"Image": "fallback"}}}},
    ],
)
def test_indexed_fields_found_by_the_key_walk_are_those_the_flat_event_has(
    event: dict[str, Any],
) -> None:
    fields = ["Event.System.EventID", "Event.EventData.Image", "Event.EventData.Obj", "Other"]
    trie = build_trie(fields)
    fallbacks = {"Event.EventData.": ("Event.UserData.*.",)}
    walked = EventView(event, fallbacks)
    present = walked.present_fields(trie)
    flat = EventView(event, fallbacks)
    expected = {f for f in fields if flat.paths.get(f)}  # flattened, fallbacks applied
    if present is None:  # the walk declined: dotted keys, lists of objects, fallbacks
        assert any("." in k for k in event) or "UserData" in str(event) or "[{" in str(event)
    else:
        assert {f for f in present if walked.fold(f)} == expected
    for f in fields:  # values resolved on the way are the ones asked field by field
        assert walked.fold(f) == flat.fold(f)
        assert walked.present(f) == flat.present(f)


def test_an_or_of_one_time_part_reads_the_time_once_and_answers_the_same() -> None:
    rule = compile_detection(
        {"early": {"t|hour|lt": 7}, "late": {"t|hour|gte": 20}, "condition": "early or late"}
    )
    assert "parts_in" in rule.source
    assert matches(rule, {"t": "2026-03-02T05:59:00Z"})
    assert matches(rule, {"t": "2026-03-02T20:00:00+00:00"})
    assert not matches(rule, {"t": "2026-03-02T21:30:00+02:00"})  # 19:30 UTC
    is_noon = {"t": "2026-03-02T12:00:00Z"}
    assert not matches(rule, is_noon)
    assert not matches(rule, {"t": "not a time"})
    assert not matches(rule, {})
    mixed = compile_detection(
        {"a": {"t|hour|lt": 7}, "b": {"t|minute|gte": 30}, "condition": "a or b"}
    )
    assert "parts_in" not in mixed.source  # two parts: not merged
    assert matches(mixed, {"t": "2026-03-02T12:45:00Z"})
    assert not matches(mixed, is_noon)


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-02T10:00:00Z",
        "2026-03-02T10:00:00+02:00",
        "2026-03-02T10:00:00",  # naive: UTC
        " 2026-03-02T10:00:00.5-05:30 ",
        "yesterday",
        1772445600,
        1772445600123,
        True,
        ["2026-03-02T10:00:00Z", "x"],
        None,
        1772445600.25,
        -1,
        10**20,  # beyond datetime's range: not a time
        float("nan"),
        float("inf"),
    ],
)
def test_timestamps_read_directly_are_those_the_general_parser_gives(value: Any) -> None:
    ev = EventView({"t": value})
    want = tuple(matchers.parse_utc(v) for v in EventView({"t": value}).scalars("t"))
    assert ev.moments("t") == want
    assert all(m is None or m.utcoffset() is not None for m in ev.moments("t"))
    # nested (read by the field's getter), and each asked twice (the second from the cache)
    nested = EventView({"a": {"t": value}, "t": value})
    for name in ("a.t", "t", "a.t", "t"):
        assert nested.moments(name) == want


_READ_FIELDS = ("action", "actor.user.uid", "resource.id", "details.text")


@pytest.mark.parametrize(
    "event",
    [
        {"action": "Customer.Read", "actor": {"user": {"uid": "Agent-1"}}, "resource": {"id": "c"}},
        {"action": None, "actor": {"user": {"uid": None}}},
        {"action": "x", "actor": "bob", "resource": 3},
        {"action": "x", "actor": {"user": 7}, "details": {"text": "STRASSE"}},
        {"action": 4688},
        {"action": True},
        {"action": ["a", "b"]},
        {"action": {"nested": "x"}},
        {"actor": [{"user": {"uid": "a"}}]},
        {"actor": {"user": {"uid": ["a", "b"]}}},
        {"actor.user.uid": "dotted", "action": "x"},
        {"actor": {"user.uid": "dotted"}},
        {"actor.user": {"uid": "dotted"}},
        {"resource.id": "r", "resource": {"id": "s"}},
        {},
    ],
)
def test_the_one_call_reader_answers_what_the_view_answers(event: dict[str, Any]) -> None:
    from rempart.detection.event import string_reader

    read = string_reader(_READ_FIELDS)(event)
    view = EventView(event)
    if read is None:  # the reader declines: a number, a list, an object or a dotted key
        declines = [f for f in _READ_FIELDS if view.text(f) and type(view.scalars(f)[0]) is not str]
        odd = any("." in k for k in event) or any(
            "." in k for v in event.values() if isinstance(v, dict) for k in v
        )
        assert declines or odd or any(isinstance(v, list | dict) for v in event.values())
        return
    for name, value in zip(_READ_FIELDS, read, strict=True):
        assert view.text(name) == (() if value is None else (value,))
        assert view.fold(name) == (() if value is None else (value.casefold(),))


def test_plain_audit_events_are_read_in_one_call() -> None:
    from rempart.detection.event import string_reader

    event = {"action": "a", "actor": {"user": {"uid": "u"}}, "details": {"text": "t"}}
    assert string_reader(_READ_FIELDS)(event) == ("a", "u", None, "t")


def _pack_engine(memo: int) -> Any:
    from rempart.detection import DetectionEngine, contact_center_rules, get_pipeline, load_rules

    return DetectionEngine(
        load_rules([contact_center_rules()], get_pipeline("rempart")), candidate_memo=memo
    )


def test_candidates_remembered_per_combination_of_values_are_those_computed() -> None:
    from tests.detection.helpers import audit_stream

    fresh, remembering = _pack_engine(0), _pack_engine(4096)
    assert remembering.index._reader is not None
    assert fresh.index._reader is None
    events = [*audit_stream(3000), {"action": 1}, {"action": "x.export", "outcome": None}]
    for _ in range(2):  # the second pass answers from the memo
        for event in events:
            want = fresh.index.candidates(fresh.view(event))
            ev = remembering.view(event)
            assert tuple(remembering.index.candidates(ev)) == tuple(want)
            for name in remembering.index.fields:  # the folded values it fills are right
                assert ev.fold(name) == fresh.view(event).fold(name)
    assert 0 < remembering.index.memo_entries() <= 4096


@pytest.mark.parametrize("memo", [0, 4096])
def test_evaluations_count_each_rule_tried_on_each_event(memo: int) -> None:
    from tests.detection.helpers import audit_stream

    engine, reference = _pack_engine(memo), _pack_engine(0)
    tried = [0] * len(engine.rules)
    for i, event in enumerate(audit_stream(2_000)):
        engine.process(event, i)
        for position in reference.index.candidates(reference.view(event)):
            tried[position] += 1
    assert engine.evaluations == tried
    assert [s.evaluations for s in engine.stats()] == tried
    assert sum(engine.matches) > 0


@pytest.mark.parametrize(
    ("needle", "key"),
    [
        ("imphash=f26d0b110873a1c7d8c4f08fbeab89c5", "f26d0b11"),
        ("sha256=abc", None),  # the word after the separator is too short
        ("abcdefghijkl", None),  # no separator before it: it may start inside a word
        ("x-abcdefgh", "abcdefgh"),
        (" -encodedcommand ", "encodedc"),
    ],
)
def test_a_substring_is_keyed_on_the_start_of_a_word_it_holds(needle: str, key: str | None) -> None:
    from rempart.detection.index import word_key

    assert word_key(needle) == key


def test_a_value_holding_a_keyed_substring_has_a_word_starting_with_its_key() -> None:
    import random

    from rempart.detection.index import WORD, WORD_KEY, word_key

    rnd = random.Random(5)
    alphabet = "ab09=,-_ .\\é"
    for _ in range(3_000):
        needle = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 24)))
        key = word_key(needle)
        if key is None:
            continue
        value = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6)))
        value += needle + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6)))
        assert key in {w[:WORD_KEY] for w in WORD.findall(value)}


def test_hash_lists_are_indexed_by_words_and_find_their_rules() -> None:
    from rempart.detection.index import CandidateIndex
    from rempart.detection.ir import Test

    needles = tuple(f"imphash={i:032x}" for i in range(10))
    tree = Test("contains", "Hashes", needles)
    index = CandidateIndex([tree], memo_size=0)
    assert index.fields["Hashes"].words
    assert not index.fields["Hashes"].needles
    hit = EventView({"Hashes": f"SHA1=FF,IMPHASH={7:032X},MD5=00"})
    near = EventView({"Hashes": f"SHA1=FF,IMPHASH=1{7:031X},MD5=00"})
    assert tuple(index.candidates(hit)) == (0,)
    assert tuple(index.candidates(near)) == ()


def _collect_text_reference(obj: Any, out: list[str], depth: int) -> None:
    """The keyword walk as it was (each value told apart by ``isinstance``)."""
    from collections.abc import Mapping

    from rempart.detection.errors import EventError
    from rempart.detection.event import MAX_DEPTH, MAX_VALUES, to_text

    if depth > MAX_DEPTH:
        raise EventError(f"event nested deeper than {MAX_DEPTH} levels")
    items = obj.values() if type(obj) is dict or isinstance(obj, Mapping) else obj
    for value in items:
        t = type(value)
        if t is str:
            out.append(value)
        elif t is dict or t is list or t is tuple:
            _collect_text_reference(value, out, depth + 1)
        elif value is None:
            continue
        elif t is not list and isinstance(value, Mapping):
            _collect_text_reference(value, out, depth + 1)
        else:
            out.append(to_text(value))
        if len(out) > MAX_VALUES:
            raise EventError(f"event holds more than {MAX_VALUES} values")


def _json_like() -> Any:
    from collections import OrderedDict
    from enum import IntEnum
    from types import MappingProxyType

    from hypothesis import strategies as st

    class Level(IntEnum):
        LOW = 1

    scalars = (
        st.text(max_size=5)
        | st.integers()
        | st.floats(allow_nan=True)
        | st.booleans()
        | st.none()
        | st.just(Level.LOW)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.lists(inner, max_size=3).map(tuple)
            | st.dictionaries(st.text(max_size=3), inner, max_size=4)
            | st.dictionaries(st.text(max_size=3), inner, max_size=3).map(OrderedDict)
            | st.dictionaries(st.text(max_size=3), inner, max_size=2).map(MappingProxyType)
        ),
        max_leaves=20,
    )


def test_the_keyword_walk_reads_every_value_as_before() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rempart.detection.event import _collect_text

    @settings(max_examples=400, deadline=None)
    @given(st.dictionaries(st.text(max_size=3), _json_like(), max_size=5))
    def check(event: dict[str, Any]) -> None:
        got: list[str] = []
        want: list[str] = []
        _collect_text(event, got, 0)
        _collect_text_reference(event, want, 0)
        assert got == want
        assert EventView(event).all_fold() == tuple(w.casefold() for w in want)

    check()


_PATH_KEYS = ("a", "b", "a.b", "uid")
_PATHS = ("a", "b", "a.b", "a.uid", "a.b.uid", "b.a.uid", "a.a.b", "uid")


def _nested_with_lists() -> Any:
    """Events built from a few keys (some dotted) so that paths through lists of
    objects, lists of lists, nulls and odd types meet the fields asked."""
    from types import MappingProxyType

    from hypothesis import strategies as st

    scalars = st.text(max_size=2) | st.integers(-3, 3) | st.booleans() | st.none()
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.lists(inner, max_size=2).map(tuple)
            | st.dictionaries(st.sampled_from(_PATH_KEYS), inner, max_size=3)
            | st.dictionaries(st.sampled_from(_PATH_KEYS), inner, max_size=2).map(MappingProxyType)
        ),
        max_leaves=14,
    ).filter(lambda v: type(v) is dict)


def test_reading_through_lists_gives_what_flattening_gives() -> None:
    """The walk through lists of objects (OCSF ``resources[]``) and the one-call reader
    built on it answer what the flattened event answers, for any event: values,
    presence, text, and the reader's one string or its refusal."""
    from types import MappingProxyType

    from hypothesis import given, settings

    from rempart.detection.event import string_reader

    @settings(max_examples=600, deadline=None)
    @given(_nested_with_lists())
    def law(event: dict[str, Any]) -> None:
        walked = EventView(event)
        flat = EventView(MappingProxyType(event))  # not a dict: the general resolution only
        for name in _PATHS:
            assert walked.scalars(name) == flat.scalars(name), name
            assert walked.present(name) == flat.present(name), name
            assert walked.text(name) == flat.text(name), name
        read = string_reader(_PATHS)(event)
        if read is not None:
            for name, value in zip(_PATHS, read, strict=True):
                assert flat.text(name) == (() if value is None else (value,)), name

    law()


def test_a_list_of_one_resource_is_read_in_one_call() -> None:
    from rempart.detection.event import string_reader

    entry = {"resources": [{"type": "interaction", "uid": "i-1"}], "api": {"operation": "x"}}
    read = string_reader(("resources.uid", "api.operation", "resources.type"))
    assert read(entry) == ("i-1", "x", "interaction")
    two = {"resources": [{"uid": "i-1"}, {"uid": "i-2"}]}
    assert read(two) is None  # two values: the view answers
    assert EventView(two).text("resources.uid") == ("i-1", "i-2")
    assert read({"resources": [{"type": "t"}, {"uid": "i-3"}]}) == ("i-3", None, "t")
    assert read({"resources": []}) == (None, None, None)
