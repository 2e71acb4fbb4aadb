"""Payment cards: number (Luhn + issuer ranges), expiry date and security code (CVV)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from rempart.redaction.context import CUES, CUES_LOWER, cue_before
from rempart.redaction.entities import Entity
from rempart.redaction.recognizers.base import Document, Recognizer, register
from rempart.redaction.spans import Span


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_issuer(digits: str) -> str | None:
    """The card scheme whose issuer range and length fit ``digits``, if any."""
    n = len(digits)
    if n < 12 or n > 19 or digits[0] not in "23456" or not digits.isdigit():
        return None
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925) and 16 <= n <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p4 == 3095 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if 2200 <= p4 <= 2204 and 16 <= n <= 19:
        return "mir"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if (p2 in (50, 56, 57, 58) or 60 <= p2 <= 69) and 12 <= n <= 19:
        return "maestro"
    return None


def is_card_number(digits: str) -> bool:
    return card_issuer(digits) is not None and luhn_ok(digits)


_MONTHS: Final = (
    r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|"
    r"d[ée]cembre|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|jan|feb|apr|jun|jul|aug|sept?|oct|nov|dec"
)
_EXPIRY: Final = re.compile(
    r"(?<![\d/.])(0?[1-9]|1[0-2])\s?(/|-|\s|\.)\s?(20\d{2}|\d{2})(?![\d/])"
    rf"|\b(?:{_MONTHS})\s+(20\d{{2}}|20\s\d{{2}}|\d{{2}})(?![\w])",
    re.IGNORECASE,
)
# The same matches as ``_EXPIRY``, scanned faster. Numeric form: the pattern opens
# with a digit class so that ``re`` jumps from digit to digit instead of trying
# every position; the look-behind moves after that first digit (it checks the
# character before it), and the month alternatives follow from the first digit
# ("0" then 1-9; "1" then 0-2 or nothing; 2-9 alone). Month-name form: scanned
# only when the text has a month word.
_EXPIRY_NUMERIC: Final = re.compile(
    r"\d(?<![\d/.]\d)(?:(?<=0)[1-9]|(?<=1)[0-2]?|(?<=[2-9]))"
    r"\s?(/|-|\s|\.)\s?(?:20\d{2}|\d{2})(?![\d/])"
)
_EXPIRY_MONTH: Final = re.compile(
    rf"\b(?:{_MONTHS})\s+(?:20\d{{2}}|20\s\d{{2}}|\d{{2}})(?![\w])", re.IGNORECASE
)
# The same for the lower-cased text when lower-casing is exact (``Document.view_lower``):
# case-sensitive (every letter of it is lower case), so ``re`` drops a month as soon
# as its first letter differs; every month opens with a word character, so a
# leading ``(?=\w)`` changes no match and skips the positions that cannot start one.
_EXPIRY_MONTH_LOWER: Final = re.compile(r"(?=\w)" + _EXPIRY_MONTH.pattern)
_MONTH_WORDS: Final = frozenset(
    [
        "janvier",
        "février",
        "fevrier",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "aout",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
        "decembre",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)


def _expiry_matches(
    text: str, words: frozenset[str], lower: str | None = None
) -> list[tuple[int, int, bool]]:
    """``(start, end, slash)`` of each ``_EXPIRY`` match, in order (``words``: the
    text's lower-case words; ``lower``: the text lower-cased when that is exact,
    where the month form is looked for)."""
    if _MONTH_WORDS.isdisjoint(words):
        return [(m.start(), m.end(), m.group(1) == "/") for m in _EXPIRY_NUMERIC.finditer(text)]
    months, month_text = (_EXPIRY_MONTH, text) if lower is None else (_EXPIRY_MONTH_LOWER, lower)
    # Both forms: the leftmost next match of either, then on from its end, as the
    # single alternation does.
    found: list[tuple[int, int, bool]] = []
    pos = 0
    num = _EXPIRY_NUMERIC.search(text, pos)
    month = months.search(month_text, pos)
    while True:
        if num is not None and (month is None or num.start() < month.start()):
            found.append((num.start(), num.end(), num.group(1) == "/"))
        elif month is not None:
            found.append((month.start(), month.end(), False))
        else:
            break
        pos = found[-1][1]
        if num is not None and num.start() < pos:
            num = _EXPIRY_NUMERIC.search(text, pos)
        if month is not None and month.start() < pos:
            month = months.search(month_text, pos)
    return found


@register
class CardExpiryRecognizer(Recognizer):
    """MM/YY, MM/YYYY, "03 27" or "mars 2027" announced as an expiry date."""

    id = "card_expiry"
    entities = frozenset({Entity.CARD_EXPIRY})

    def find(self, doc: Document) -> Iterable[Span]:
        expects = doc.expects(Entity.CARD_EXPIRY)
        if not doc.has_digits or not (
            expects
            or doc.mentions(
                "exp", "valid", "valable", "carte", "card", "visa", "master", "amex", "cb"
            )
        ):
            return
        text = doc.view.text
        low = doc.view_lower  # cues on the lower-cased view when exact (same offsets)
        scan = text if low is None else low
        card_rx = (CUES if low is None else CUES_LOWER)[Entity.CARD_NUMBER]
        for start, end, slash in _expiry_matches(text, doc.words, low):
            cue = cue_before(scan, start, Entity.CARD_EXPIRY, 40, lowered=low is not None)
            if not (cue or expects) and not (
                slash and card_rx.search(scan, max(0, start - 80), start) is not None
            ):
                continue
            span = doc.span_from_view(start, end, Entity.CARD_EXPIRY, 0.9 if cue else 0.7, self.id)
            if span:
                yield span


_CVV: Final = re.compile(r"(?<![\d/.,])\d(?:[ \t]?\d){2,3}(?![\d/.,]\d|\d)")


@register
class CardCvvRecognizer(Recognizer):
    """Three or four digits right after a security-code cue, or answering one."""

    id = "card_cvv"
    entities = frozenset({Entity.CARD_CVV})

    def find(self, doc: Document) -> Iterable[Span]:
        expects = doc.expects(Entity.CARD_CVV)
        if not doc.has_digits or not (
            expects
            or doc.mentions("cvv", "cvc", "crypto", "curit", "digits", "chiffres", "verification")
        ):
            return
        text = doc.view.text
        low = doc.view_lower
        if low is None:
            starts: list[int] = [c.end() for c in CUES[Entity.CARD_CVV].finditer(text)]
        else:
            starts = [c.end() for c in CUES_LOWER[Entity.CARD_CVV].finditer(low)]
        if expects:
            starts.insert(0, 0)
        for pos in starts:
            # Only the first number after the cue is the code.
            m = _CVV.search(text, pos, min(len(text), pos + 50))
            if m is None:
                continue
            span = doc.span_from_view(m.start(), m.end(), Entity.CARD_CVV, 0.85, self.id)
            if span:
                yield span


__all__ = ["CardCvvRecognizer", "CardExpiryRecognizer", "card_issuer", "is_card_number", "luhn_ok"]
