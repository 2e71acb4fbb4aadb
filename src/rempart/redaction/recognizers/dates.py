"""Dates of birth: a date, typed or spoken, announced as a birth date.

A date without such a cue (an appointment, an invoice date) is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from rempart.redaction.context import CUES, CUES_LOWER
from rempart.redaction.entities import Entity
from rempart.redaction.recognizers.base import Document, Recognizer, register
from rempart.redaction.spans import Span

_MONTH: Final = (
    r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|"
    r"d[ée]cembre|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|janv?|f[ée]vr?|feb|avr|apr|jui?l|jul|aug|sept?|oct|nov|d[ée]c)\.?"
)
_DAY: Final = r"(?:[0-3]?\d|1er)(?:st|nd|rd|th|er|e)?"
_YEAR: Final = r"(?:1[89]\d{2}|20\d{2}|1[89]\s\d{2}|20\s\d{2}|\d{2})"
_DATE: Final = re.compile(
    rf"(?<![\d/.\-])(?:"
    rf"[0-3]?\d\s?[/.\-]\s?[01]?\d\s?[/.\-]\s?{_YEAR}"  # 12/03/1985
    rf"|(?:1[89]|20)\d{{2}}-[01]\d-[0-3]\d"  # 1985-03-12
    rf"|{_DAY}\s+(?:of\s+|de\s+)?{_MONTH}\s*,?\s+{_YEAR}"  # 12 mars 1985
    rf"|{_MONTH}\s+(?:the\s+)?{_DAY},?\s+{_YEAR}"  # March 12, 1985
    rf"|[0-3]?\d\s[01]?\d\s(?:1[89]|20)\s?\d{{2}}"  # spoken 12 03 1985
    rf")(?![\d])",
    re.IGNORECASE,
)


_NEEDLES: Final = (
    "n\u00e9 ",
    "n\u00e9e ",
    "naissance",
    "birth",
    "born",
    "dob",
    "d.o.b",
    "anniversaire",
    "ne le ",
    "nee le ",
)


@register
class DateOfBirthRecognizer(Recognizer):
    id = "date_of_birth"
    entities = frozenset({Entity.DATE_OF_BIRTH})

    def find(self, doc: Document) -> Iterable[Span]:
        expects = doc.expects(Entity.DATE_OF_BIRTH)
        if not (expects or doc.mentions(*_NEEDLES)) or not doc.has_digits:
            return
        text = doc.view.text
        low = doc.view_lower
        if expects:
            windows = [(0, len(text))]
        else:
            # Only the text just after a birth cue can hold the birth date (cues
            # found on the lower-cased view when that is exact: same offsets).
            cue_rx = (CUES if low is None else CUES_LOWER)[Entity.DATE_OF_BIRTH]
            windows = [
                (c.end(), min(len(text), c.end() + 80))
                for c in cue_rx.finditer(text if low is None else low)
            ]
        seen: set[int] = set()
        for lo, hi in windows:
            m = _DATE.search(text, lo, hi)
            if m is None or m.start() in seen or m.start() - lo > 60:
                continue
            seen.add(m.start())
            span = doc.span_from_view(m.start(), m.end(), Entity.DATE_OF_BIRTH, 0.85, self.id)
            if span:
                yield span


__all__ = ["DateOfBirthRecognizer"]
