"""Laws that hold for any text: no exception, offsets inside, idempotence."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rempart.redaction import detect, redact

# Text built from the engine's own vocabulary, so that the properties are
# exercised on near-misses, not only on random noise.
PIECES = st.sampled_from(
    [
        "4111",
        "1111",
        " ",
        "  ",
        "\n",
        "06",
        "12",
        "zéro",
        "six",
        "douze",
        "quatre-vingt-dix-sept",
        "double",
        "oh",
        "four",
        "one",
        "carte",
        "card",
        "@",
        "arobase",
        "point",
        "dot",
        "com",
        "at",
        "je m'appelle",
        "my name is",
        "Zorvan",
        "rue",
        "Street",
        "75011",
        "Paris",
        "né le",
        "12/03/1985",
        "FR76",
        "3000",
        "+33",
        "(0)",
        "code pin",
        "password",
        "[PERSON]",
        "<PHONE_1>",
        "****",
        "2A",
        "192.168.",
        "1.1",
        "::",
        "é",
        "\u200b",
        "\x00",
        ",",
        ".",
        "-",
        "€",
    ]
)
TEXTS = st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=40).map("".join))
LANGS = st.sampled_from(["fr", "en", None])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, LANGS)
def test_detect_never_raises_and_offsets_lie_inside(text: str, lang: str | None) -> None:
    spans = detect(text, lang)
    last = 0
    for s in spans:
        assert 0 <= s.start < s.end <= len(text)
        assert s.start >= last
        last = s.end


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, LANGS)
def test_redacting_twice_changes_nothing(text: str, lang: str | None) -> None:
    once = redact(text, lang)
    assert not once.blocked
    twice = redact(once.text, lang)
    assert twice.text == once.text


@settings(max_examples=100, deadline=None)
@given(TEXTS)
def test_replacement_offsets_point_into_the_output(text: str) -> None:
    out = redact(text, "fr")
    for r in out.replacements:
        assert out.text[r.out_start : r.out_end] == r.replacement
