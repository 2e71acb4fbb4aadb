"""National identifiers: French NIR (key checked, Corsica 2A/2B), US SSN, UK NINO."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from stdnum.fr import nir as stdnum_nir
from stdnum.us import ssn as stdnum_ssn

from rempart.redaction.context import cue_before
from rempart.redaction.entities import Entity
from rempart.redaction.recognizers.base import Document, Recognizer, register
from rempart.redaction.spans import Span


def is_nir(compact: str) -> bool:
    """A 15-character NIR whose key matches (``2A``/``2B`` count as 19/18)."""
    if len(compact) != 15 or compact[0] not in "1234578":
        return False
    month = compact[3:5]
    if not month.isdigit() or not (
        1 <= int(month) <= 12 or 20 <= int(month) <= 42 or 50 <= int(month) <= 99
    ):
        return False
    return bool(stdnum_nir.is_valid(compact))


def is_nir_without_key(compact: str) -> bool:
    if len(compact) != 13 or compact[0] not in "1234578":
        return False
    dep = compact[5:7]
    month = compact[3:5]
    return (
        compact[:5].isdigit()
        and compact[7:].isdigit()
        and (dep.isdigit() or dep in ("2A", "2B"))
        and month.isdigit()
        and 1 <= int(month) <= 12
    )


def is_ssn(digits: str) -> bool:
    return len(digits) == 9 and bool(stdnum_ssn.is_valid(digits))


_NIR_SEPARATORS: Final = re.compile(r"[ .\-]")
# ``(?<![\w])[1-478]...``: the look-behind comes after the first digit (and checks
# the character before it), so that the scan jumps between candidate digits.
_NIR: Final = re.compile(r"[1-478](?<!\w[1-478])(?:[ .\-]{0,2}[0-9AaBb]){12,14}(?![\w])")
_ASCII_DIGITS: Final = "0123456789"
_NIR_MIN_DIGITS: Final = 11  # 13 characters without the key, "2A"/"2B" the only letters


_ASCII_DIGIT_BYTES: Final = _ASCII_DIGITS.encode()


def _ascii_digit_count(text: str) -> int:
    """How many of the characters are ASCII digits (one C pass when within Latin-1)."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return sum(map(text.count, _ASCII_DIGITS))
    return len(raw) - len(raw.translate(None, _ASCII_DIGIT_BYTES))


@register
class NirRecognizer(Recognizer):
    """French social security number (NIR), typed or spoken, with or without spaces."""

    id = "fr_nir"
    entities = frozenset({Entity.NATIONAL_ID})

    def find(self, doc: Document) -> Iterable[Span]:
        if not doc.has_digits:
            return
        text = doc.view.text
        # Fewer ASCII digits than any NIR has: nothing to find (is_nir and
        # is_nir_without_key need 13 and 11).
        if _ascii_digit_count(text) < _NIR_MIN_DIGITS:
            return
        for m in _NIR.finditer(text):
            compact = _NIR_SEPARATORS.sub("", m.group()).upper()
            score = 0.0
            if is_nir(compact):
                score = 0.95
            elif is_nir_without_key(compact) and (
                doc.expects(Entity.NATIONAL_ID)
                or cue_before(text, m.start(), Entity.NATIONAL_ID, 60)
            ):
                score = 0.6
            if score:
                span = doc.span_from_view(m.start(), m.end(), Entity.NATIONAL_ID, score, self.id)
                if span:
                    yield span


_NINO_FIRST: Final = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND: Final = "ABCEGHJKLMNPRSTWXYZ"
_NINO: Final = re.compile(
    rf"(?<![\w])([{_NINO_FIRST}])[ .]?([{_NINO_SECOND}])((?:[ .\-]?\d){{6}})[ .\-]?([A-D])(?![\w])",
    re.IGNORECASE,
)
_NINO_BAD_PREFIX: Final = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


@register
class NinoRecognizer(Recognizer):
    """UK National Insurance number (two letters, six digits, A-D)."""

    id = "gb_nino"
    entities = frozenset({Entity.NATIONAL_ID})

    def find(self, doc: Document) -> Iterable[Span]:
        # Lower-case NINOs need a cue; without one, only capitals can match.
        if not doc.has_digits or (
            doc.text == doc.lower
            and not doc.expects(Entity.NATIONAL_ID)
            and not doc.mentions("insurance", "nino", "ni n")
        ):
            return
        text = doc.view.text
        for m in _NINO.finditer(text):
            prefix = (m.group(1) + m.group(2)).upper()
            if prefix in _NINO_BAD_PREFIX:
                continue
            upper = m.group().upper() == m.group()
            if not upper and not (
                doc.expects(Entity.NATIONAL_ID)
                or cue_before(text, m.start(), Entity.NATIONAL_ID, 60)
            ):
                continue
            span = doc.span_from_view(m.start(), m.end(), Entity.NATIONAL_ID, 0.85, self.id)
            if span:
                yield span


__all__ = ["NinoRecognizer", "NirRecognizer", "is_nir", "is_nir_without_key", "is_ssn"]
