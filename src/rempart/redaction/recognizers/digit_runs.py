"""Runs of digits, typed or spoken, validated as card, phone or SSN numbers.

One scanner reads every run of digit groups ("4972 0123 4567 8901",
"06 12 34 56 78" rewritten from "zéro six douze..."), tries the sub-runs that
fall on group boundaries, longest first, against the validators, and keeps
what validates. Numbers announced as something else ("commande", "montant",
followed by "€") are left alone; a run that validates as nothing is still
taken when the previous turn asked for a card, an IBAN or a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator
from typing import Final

from rempart.redaction.context import (
    CUES,
    CUES_LOWER,
    CURRENCY_AFTER,
    CURRENCY_BEFORE,
    nearest_cue_distance,
    negative_before,
)
from rempart.redaction.entities import Entity
from rempart.redaction.recognizers.base import Document, Recognizer, register
from rempart.redaction.recognizers.cards import card_issuer, luhn_ok
from rempart.redaction.recognizers.national_id import is_ssn
from rempart.redaction.recognizers.phone import is_phone
from rempart.redaction.spans import Span

_SEP: Final = r"(?:[ \t\u00a0.\-]{1,3}|[ \t]*\r?\n[ \t]*|\)[ \t]?|[ \t]?\(0\)[ \t]?|,[ \t])"
# ``(?<![\w.,/:+\-])(?:\+[ ]?|\(?)\d(?:{_SEP}?\d)*(?![\w/:])``, written to open with
# a character class so that ``re`` jumps to the next "+", "(" or digit instead of
# trying every position: the look-behind moves after that first character (it
# checks the one before it) and the rest depends on which character it was.
RUN: Final = re.compile(
    rf"[+(\d](?<![\w.,/:+\-].)(?:(?<=\+)[ ]?\d|(?<=\()\d|(?<=\d))(?:{_SEP}?\d)*(?![\w/:])"
)
_GROUP: Final = re.compile(r"\d+")
_TRUNK: Final = re.compile(r"\(0\)")
MAX_DIGITS: Final = 19
_PARTIAL_LABELS: Final = (Entity.CARD_NUMBER, Entity.IBAN, Entity.NATIONAL_ID, Entity.PHONE)


def _any_of(patterns: list[re.Pattern[str]]) -> re.Pattern[str]:
    r"""One pattern that finds a match where any of the cue patterns finds one.

    Every cue pattern is ``(?=\w)\b(?:...)\b`` with the same flags, so the union of
    their alternatives under one prefix matches at a position iff one of them does.
    """
    prefix, suffix = "(?=\\w)\\b(?:", ")\\b"
    bodies = []
    for rx in patterns:
        if not (rx.pattern.startswith(prefix) and rx.pattern.endswith(suffix)):
            raise ValueError("cue patterns are (?=\\w)\\b(?:...)\\b")
        if rx.flags != patterns[0].flags:
            raise ValueError("cue patterns share their flags")
        bodies.append(rx.pattern[len(prefix) : -len(suffix)])
    return re.compile(prefix + "|".join(bodies) + suffix, patterns[0].flags)


# Whether any cue of the partial labels is near, in one search (then which one).
_PARTIAL_CUES: Final = _any_of([CUES[label] for label in _PARTIAL_LABELS])
_PARTIAL_CUES_LOWER: Final = _any_of([CUES_LOWER[label] for label in _PARTIAL_LABELS])


class _Cues:
    """Card and ID cues before one run, looked up only when a candidate needs them."""

    __slots__ = ("_card", "_id", "base", "cues", "doc", "text")

    def __init__(
        self, doc: Document, text: str, base: int, cues: dict[str, re.Pattern[str]]
    ) -> None:
        self.doc = doc
        self.text = text  # the view, or the view lower-cased with ``cues`` = CUES_LOWER
        self.base = base
        self.cues = cues
        self._card: bool | None = None
        self._id: bool | None = None

    @property
    def card(self) -> bool:
        if self._card is None:
            self._card = self.doc.expects(Entity.CARD_NUMBER) or (
                self.cues[Entity.CARD_NUMBER].search(self.text, max(0, self.base - 60), self.base)
                is not None
            )
        return self._card

    @property
    def id(self) -> bool:
        if self._id is None:
            self._id = self.doc.expects(Entity.NATIONAL_ID) or (
                self.cues[Entity.NATIONAL_ID].search(self.text, max(0, self.base - 60), self.base)
                is not None
            )
        return self._id


def _validate(
    digits: str, plus: bool, text: str, seps_start: int, seps_end: int, lang: str, cues: _Cues
) -> tuple[str, float] | None:
    """What ``digits`` validates as. Cues are looked up lazily, once per run; the
    separators (``text[seps_start:seps_end]``) are read only for nine digits."""
    n = len(digits)
    if plus or digits.startswith("00"):
        body = digits if plus else digits[2:]
        return (Entity.PHONE, 0.9) if is_phone(body, True, lang) else None
    if 12 <= n <= 19 and card_issuer(digits):
        if luhn_ok(digits):
            return Entity.CARD_NUMBER, 0.95
        if cues.card:
            return Entity.CARD_NUMBER, 0.6  # mistyped, but announced as a card
    if 9 <= n <= 11 and is_phone(digits, False, lang):
        return Entity.PHONE, 0.85
    if n == 9:
        seps = text[seps_start:seps_end]
        dashed = seps.count("-") == 2 or seps.count(" ") == 2
        if (dashed or cues.id) and is_ssn(digits):
            return Entity.NATIONAL_ID, 0.8
    return None


def _excluded(
    text: str, start: int, end: int, label: str, doc: Document, scan: str | None = None
) -> bool:
    """Amounts, order numbers and the like, unless a closer cue says otherwise.

    ``scan``: the view lower-cased (``doc.view_lower``), where cues are looked for
    with the lower-case patterns; None: the view itself.
    """
    if CURRENCY_AFTER.match(text, end) or CURRENCY_BEFORE.search(text, max(0, start - 5), start):
        return True
    lowered = scan is not None
    where = scan if scan is not None else text
    neg = negative_before(where, start, 30, lowered=lowered)
    if neg is None:
        return False
    rx = (CUES_LOWER if lowered else CUES).get(label)
    pos = nearest_cue_distance(where, start, rx, 30) if rx is not None else None
    return pos is None or pos > neg


def iter_runs(text: str) -> Iterator[re.Match[str]]:
    return RUN.finditer(text)


@register
class DigitRunRecognizer(Recognizer):
    """Card numbers, phone numbers and SSNs in runs of digits."""

    id = "digit_runs"
    entities = frozenset({Entity.CARD_NUMBER, Entity.PHONE, Entity.NATIONAL_ID})

    def find(self, doc: Document) -> Iterable[Span]:
        if not doc.has_digits:
            return
        text = doc.view.text
        whole: str | None = None  # the text stripped, computed once if a short run needs it
        for run in RUN.finditer(text):
            raw = run.group()
            if len(raw) < 4:
                continue  # fewer than four digits: nothing to validate, nothing partial
            if len(raw) < 6:
                # Fewer than six digits: only a run that is the whole text answers.
                if whole is None:
                    whole = text.strip()
                if raw != whole:
                    continue
            yield from self._scan_run(doc, text, run)

    def _scan_run(self, doc: Document, text: str, run: re.Match[str]) -> Iterator[Span]:
        raw = run.group()
        base = run.start()
        plus = raw.startswith("+")
        cleaned = _TRUNK.sub("   ", raw) if "(0)" in raw else raw
        total = len("".join(_GROUP.findall(cleaned)))  # digits in the run
        if total < 4:
            return
        found_any = False
        if total >= 9:
            groups = [
                (base + g.start(), base + g.end(), g.group()) for g in _GROUP.finditer(cleaned)
            ]
            found_any = yield from self._candidates(doc, text, run, groups, plus)
        if not found_any and (total >= 6 or raw == text.strip()):
            yield from self._partial(doc, text, run.start(), run.end(), total)

    def _candidates(
        self,
        doc: Document,
        text: str,
        run: re.Match[str],
        groups: list[tuple[int, int, str]],
        plus: bool,
    ) -> Generator[Span, None, bool]:
        """Validated sub-runs on group boundaries; returns whether any was yielded."""
        i = 0
        found_any = False
        n = len(groups)
        lang = doc.lang
        low = doc.view_lower
        cues = (
            _Cues(doc, text, run.start(), CUES)
            if low is None
            else _Cues(doc, low, run.start(), CUES_LOWER)
        )
        while i < n:
            # Candidate ends for a start at group i, longest first: the first
            # that validates is the longest.
            ends: list[tuple[int, str]] = []
            digits = ""
            for j in range(i, n):
                digits += groups[j][2]
                if len(digits) > MAX_DIGITS:
                    break
                if len(digits) >= 9:
                    ends.append((j, digits))
            best: tuple[int, str, float] | None = None
            for j, cand in reversed(ends):
                res = _validate(cand, plus and i == 0, text, groups[i][1], groups[j][0], lang, cues)
                if res is not None:
                    best = (j, res[0], res[1])
                    break
            if best is None:
                i += 1
                continue
            j, label, score = best
            # A leading "+" or "(" belongs to the number.
            start = run.start() if i == 0 else groups[i][0]
            end = groups[j][1]
            if not _excluded(text, start, end, label, doc, low):
                span = doc.span_from_view(start, end, label, score, self.id)
                if span:
                    found_any = True
                    yield span
            i = j + 1
        return found_any

    def _partial(
        self, doc: Document, text: str, start: int, end: int, total: int
    ) -> Iterator[Span]:
        """A run that validates as nothing, answering a question about a number."""
        low = doc.view_lower
        where, table = (text, CUES) if low is None else (low, CUES_LOWER)
        if (
            not doc.context.expected
            and (_PARTIAL_CUES if low is None else _PARTIAL_CUES_LOWER).search(
                where, max(0, start - 40), start
            )
            is None
        ):
            return  # no label expected and no cue of any: none of the searches below finds one
        for label in _PARTIAL_LABELS:
            # Whether there is a cue at all (not how near): one search, not every match.
            if doc.expects(label) or table[label].search(where, max(0, start - 40), start):
                if _excluded(text, start, end, label, doc, low):
                    return
                span = doc.span_from_view(start, end, label, 0.5, self.id)
                if span:
                    yield span
                return


__all__ = ["RUN", "DigitRunRecognizer", "iter_runs"]
