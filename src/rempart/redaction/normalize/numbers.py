"""Numbers spoken in words ("zéro six douze", "double six", "nineteen eighty-five").

:func:`number_view` rewrites every run of number words into digits with
``text2num``, keeps everything else as it is, and returns a
:class:`~rempart.redaction.normalize.view.TextView` so that recognizers working
on digits can map what they find back to the words that were said.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Final

from text_to_num import find_numbers

from rempart.redaction.normalize.view import TextView

_FR_UNITS: Final = (
    "zéro zero un une deux trois quatre cinq six sept huit neuf dix onze douze treize "
    "quatorze quinze seize vingt vingts trente quarante cinquante soixante cent cents mille"
)
_EN_UNITS: Final = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty "
    "sixty seventy eighty ninety hundred thousand"
)
_EN_ORDINALS: Final = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth "
    "twentieth thirtieth"
)
_FR_ORDINALS: Final = "premier première"

NUMBER_WORDS: Final[dict[str, frozenset[str]]] = {
    "fr": frozenset(_FR_UNITS.split()) | frozenset(_FR_ORDINALS.split()),
    "en": frozenset(_EN_UNITS.split()) | frozenset(_EN_ORDINALS.split()),
}
_CONNECTORS: Final[dict[str, frozenset[str]]] = {"fr": frozenset({"et"}), "en": frozenset({"and"})}
_REPEATERS: Final = {"double": 2, "triple": 3}
_ZERO_ALIASES: Final = frozenset({"oh", "o"})  # "four oh seven" (English only)

_WORD = re.compile(r"[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*")
_BREAK = re.compile(r"[.;:!?\n]")
_ALNUM = re.compile(r"[^\W_]")  # what str.isalnum() accepts


def _gate(lang: str) -> re.Pattern[str]:
    words = sorted(NUMBER_WORDS[lang], key=len, reverse=True)
    return re.compile(
        r"(?<![^\W\d_])(?:" + "|".join(map(re.escape, words)) + r")(?![^\W\d_])", re.IGNORECASE
    )


_GATES: Final[dict[str, re.Pattern[str]]] = {lang: _gate(lang) for lang in NUMBER_WORDS}


def _is_number_word(word: str, lang: str) -> bool:
    words = NUMBER_WORDS[lang]
    if word in words:
        return True
    if "-" in word:
        parts = word.split("-")
        conn = _CONNECTORS[lang]
        return all(p in words or p in conn for p in parts) and parts[0] in words
    return False


class _Tok:
    """A word as text2num's ``find_numbers`` wants it."""

    __slots__ = ("end", "norm", "sep_before", "start")

    def __init__(self, start: int, end: int, norm: str, sep_before: bool) -> None:
        self.start = start
        self.end = end
        self.norm = norm
        self.sep_before = sep_before

    def text(self) -> str:
        return self.norm

    def nt_separated(self, previous: _Tok) -> bool:
        return self.sep_before

    def not_a_number_part(self) -> bool:
        return False


def _fold(word: str) -> str:
    if word.isascii():
        return word.lower()  # what casefold and NFC give for ASCII, cheaper
    return unicodedata.normalize("NFC", word.casefold()).replace("\u2019", "'")


def _member_rx(lang: str) -> re.Pattern[str]:
    atoms = sorted(NUMBER_WORDS[lang] | _CONNECTORS[lang], key=len, reverse=True)
    atom = "(?:" + "|".join(map(re.escape, atoms)) + ")"
    extra = ["double", "triple"] + (sorted(_ZERO_ALIASES) if lang == "en" else [])
    return re.compile(
        rf"(?<![\w'\u2019\-])(?:{atom}(?:-{atom})*|" + "|".join(extra) + r")(?![\w'\u2019\-])",
        re.IGNORECASE,
    )


_MEMBERS: Final[dict[str, re.Pattern[str]]] = {lang: _member_rx(lang) for lang in NUMBER_WORDS}
# The same patterns without IGNORECASE, for the lower-cased text: ``re`` then
# skips an alternative as soon as its first letter differs, instead of trying
# each case-insensitively (several times faster on the same text).
_MEMBERS_LOWER: Final[dict[str, re.Pattern[str]]] = {
    lang: re.compile(rx.pattern) for lang, rx in _MEMBERS.items()
}
# Characters that IGNORECASE matches to a letter of a number word although their
# ``lower()`` is not that letter ("İ" also changes the length when lower-cased).
_CASE_ODD: Final = frozenset("\u0130\u0131\u017f")


def _member_matches(text: str, lang: str, lower: str | None) -> Iterator[re.Match[str]]:
    """``_MEMBERS[lang].finditer(text)``; faster on ``lower`` (``text.lower()``) when
    lower-casing kept every offset and no odd case-folding character is present."""
    if (
        lower is not None
        and len(lower) == len(text)
        and (text.isascii() or _CASE_ODD.isdisjoint(text))
    ):
        return _MEMBERS_LOWER[lang].finditer(lower)
    return _MEMBERS[lang].finditer(text)


def _is_member(word: str, lang: str) -> bool:
    """Whether a folded word found by the member scan belongs to a run."""
    return (
        _is_number_word(word, lang)
        or word in _CONNECTORS[lang]
        or word in _REPEATERS
        or (lang == "en" and word in _ZERO_ALIASES)
    )


# ``_is_member`` per language, kept as words are seen: the member scan only finds
# number words, connectors and repeaters joined by hyphens (a small vocabulary).
_MEMBER_MEMO: Final[dict[str, dict[str, bool]]] = {lang: {} for lang in NUMBER_WORDS}
_MEMBER_MEMO_MAX: Final = 4096


def _runs(text: str, lang: str, lower: str | None = None) -> list[list[tuple[int, int, str]]]:
    """Maximal runs of number words (with connectors and repeaters) as (start, end, word).

    Only the number words are visited (one regex scan), not every word of the text.
    ``lower``, the text lower-cased if the caller has it, makes that scan cheaper.
    """
    runs: list[list[tuple[int, int, str]]] = []
    current: list[tuple[int, int, str]] = []
    last_end = -1
    memo = _MEMBER_MEMO[lang]
    alnum = _ALNUM.search
    conn = _CONNECTORS[lang]
    for m in _member_matches(text, lang, lower):
        found = m.group()
        word = found.lower() if found.isascii() else _fold(found)
        member = memo.get(word)
        if member is None:
            member = _is_member(word, lang)
            if len(memo) < _MEMBER_MEMO_MAX:
                memo[word] = member
        if not member:
            continue
        start, end = m.span()
        # Contiguous: at most three characters apart, none of them alphanumeric.
        if current and (start - last_end > 3 or alnum(text, last_end, start) is not None):
            runs.append(current)
            current = []
        current.append((start, end, word))
        last_end = end
    if current:
        runs.append(current)
    out: list[list[tuple[int, int, str]]] = []
    for run in runs:
        # Trim what cannot start or end a number.
        while run and (run[0][2] in conn or (run[0][2] in _ZERO_ALIASES and len(run) == 1)):
            run = run[1:]
        while run and (run[-1][2] in conn or run[-1][2] in _REPEATERS):
            run = run[:-1]
        if any(_is_number_word(w, lang) for _, _, w in run):
            out.append(run)
    return out


@lru_cache(maxsize=4096)
def _single_word(lang: str, norm: str, sep: bool) -> tuple[tuple[int, int, str], ...]:
    """``find_numbers`` on a run of one word, as (start, end, text) by token index.

    ``find_numbers`` sees only each token's text and separation, so the answer for
    one word is a function of the word: kept (a run of one word, "un", "deux",
    is the commonest run by far; the number words are a small vocabulary).
    """
    tok = _Tok(0, len(norm), norm, sep)
    return tuple((o.start, o.end, str(o.text)) for o in find_numbers([tok], lang, 0.0))


def _convert(text: str, run: list[tuple[int, int, str]], lang: str) -> list[tuple[int, int, str]]:
    """Occurrences of numbers in one run as (orig_start, orig_end, digits)."""
    if len(run) == 1:
        # One word (the commonest run): its answer is memoised, no token is built.
        start, end, word = run[0]
        if word in _REPEATERS:
            return []
        norm = "zéro" if lang == "fr" and word == "zero" else word
        if lang == "en" and word in _ZERO_ALIASES:
            norm = "zero"
        return [(start, end, digits) for _, _, digits in _single_word(lang, norm, False)]
    toks: list[_Tok] = []
    repeat_before: dict[int, tuple[int, int]] = {}  # tok index -> (factor, orig start)
    pending: tuple[int, int] | None = None
    prev_end = -1
    for start, end, word in run:
        if word in _REPEATERS:
            pending = (_REPEATERS[word], start)
            prev_end = end
            continue
        norm = "zéro" if lang == "fr" and word == "zero" else word
        if lang == "en" and word in _ZERO_ALIASES:
            norm = "zero"
        sep = prev_end >= 0 and bool(_BREAK.search(text, prev_end, start))
        if pending is not None:
            repeat_before[len(toks)] = pending
            pending = None
            sep = True  # "double six sept" is 6 6 7, not 6 67
        toks.append(_Tok(start, end, norm, sep))
        prev_end = end
    if not toks:
        return []
    found = (
        _single_word(lang, toks[0].norm, toks[0].sep_before)
        if len(toks) == 1
        else [(occ.start, occ.end, str(occ.text)) for occ in find_numbers(toks, lang, 0.0)]
    )
    occurrences: list[tuple[int, int, str]] = []
    for occ_start, occ_end, digits in found:
        first, last = toks[occ_start], toks[occ_end - 1]
        ostart = first.start
        rep = repeat_before.get(occ_start)
        if rep is not None and digits[:1].isdigit():
            factor, ostart = rep
            digits = digits[0] * factor + digits[1:]
        occurrences.append((ostart, last.end, digits))
    return occurrences


def has_number_words(text: str, lang: str) -> bool:
    gate = _GATES.get(lang)
    return gate is not None and gate.search(text) is not None


def number_view(
    text: str, lang: str, words: frozenset[str] | None = None, lower: str | None = None
) -> TextView:
    """Rewrite number words into digits; an identity view when there are none.

    ``words``, the text's lower-case words if the caller has them, makes the
    check for number words a set intersection instead of a regex scan; ``lower``
    (``text.lower()``) makes finding them cheaper.
    """
    if lang not in NUMBER_WORDS:
        return TextView(text)
    if words is not None:
        if NUMBER_WORDS[lang].isdisjoint(words):
            return TextView(text)
    elif not has_number_words(text, lang):
        return TextView(text)
    pieces: list[tuple[int, int, str | None]] = []
    pos = 0
    for run in _runs(text, lang, lower):
        for ostart, oend, digits in _convert(text, run, lang):
            if ostart > pos:
                pieces.append((pos, ostart, None))
            pieces.append((ostart, oend, digits))
            pos = oend
    if not pieces:
        return TextView(text)
    if pos < len(text):
        pieces.append((pos, len(text), None))
    return TextView.build(text, pieces)


__all__ = ["NUMBER_WORDS", "has_number_words", "number_view"]
