"""IBANs: mod-97 and per-country length through python-stdnum, typed or spoken."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any, Final

from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

from rempart.redaction.entities import Entity
from rempart.redaction.recognizers.base import Document, Recognizer, register
from rempart.redaction.spans import Span

# Country code (letters possibly spelled apart: "f r 76"), check digits, then
# 10-30 alphanumerics with any spacing. Validation trims to the right length.
# (The look-behind follows the first letter, so that the scan skips non-letters.)
_IBAN: Final = re.compile(
    r"([A-Za-z])(?<![\w][A-Za-z])[ ]?([A-Za-z])[ \-]?(\d)[ \-]?(\d)"
    r"((?:[ \-.]{0,2}[0-9A-Za-z]){10,34})",
)


_COUNTRIES: Final = frozenset(
    [
        "AD",
        "AE",
        "AL",
        "AT",
        "AZ",
        "BA",
        "BE",
        "BG",
        "BH",
        "BI",
        "BR",
        "BY",
        "CH",
        "CR",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DO",
        "EE",
        "EG",
        "ES",
        "FI",
        "FK",
        "FO",
        "FR",
        "GB",
        "GE",
        "GI",
        "GL",
        "GR",
        "GT",
        "HN",
        "HR",
        "HU",
        "IE",
        "IL",
        "IQ",
        "IS",
        "IT",
        "JO",
        "KW",
        "KZ",
        "LB",
        "LC",
        "LI",
        "LT",
        "LU",
        "LV",
        "LY",
        "MC",
        "MD",
        "ME",
        "MK",
        "MN",
        "MR",
        "MT",
        "MU",
        "NI",
        "NL",
        "NO",
        "OM",
        "PK",
        "PL",
        "PS",
        "PT",
        "QA",
        "RO",
        "RS",
        "RU",
        "SA",
        "SC",
        "SD",
        "SE",
        "SI",
        "SK",
        "SM",
        "SO",
        "ST",
        "SV",
        "TL",
        "TN",
        "TR",
        "UA",
        "VA",
        "VG",
        "XK",
    ]
)


# The body up to its n-th alphanumeric (the body is alphanumerics and " -." only).
_NTH_ALNUM: Final = [re.compile(rf"(?:[ \-.]*[0-9A-Za-z]){{{n}}}") for n in range(35)]
_DROP_SEPARATORS: Final = {ord(" "): None, ord("-"): None, ord("."): None}

# Lengths of the commonest countries' IBANs; others are checked at every length.
_LENGTHS: Final = {
    "FR": 27,
    "MC": 27,
    "GB": 22,
    "DE": 22,
    "BE": 16,
    "ES": 24,
    "IT": 27,
    "NL": 18,
    "CH": 21,
    "LU": 20,
    "PT": 25,
    "IE": 22,
    "AT": 20,
    "DK": 18,
    "FI": 18,
    "SE": 24,
    "NO": 15,
    "PL": 28,
    "IS": 26,
    "GR": 27,
    "CZ": 24,
    "RO": 24,
    "HU": 28,
    "LI": 21,
}


# Letters as their two-digit values (A or a = 10 ... Z = 35), as mod-97 reads them.
_LETTER_VALUES: Final = {
    **{ord(c): str(i + 10) for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")},
    **{ord(c): str(i + 10) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")},
}


def _mod97(compact: str) -> bool:
    """ISO 7064 mod 97-10 on an ASCII alphanumeric IBAN: the letters written as two
    digits, the whole read as one number (the same as the digit-by-digit remainder)."""
    rearranged = compact[4:] + compact[:4]
    return int(rearranged.translate(_LETTER_VALUES)) % 97 == 1


@cache
def _country_rule(country: str) -> tuple[re.Pattern[str], Any] | None:
    """The country's BBAN structure and stdnum's national module, looked up once.

    What ``stdnum.iban.validate`` looks up on every call (its registry is keyed by
    the two-letter country code alone), so the check below gives its verdict.
    """
    info = stdnum_iban._ibandb.info(country)
    if not info or not info[0][1]:
        return None
    return stdnum_iban._struct_to_re(info[0][1].get("bban", "")), stdnum_iban._get_cc_module(
        country
    )


def _stdnum_valid(compact: str) -> bool:
    """``stdnum.iban.is_valid`` for an upper-case ASCII alphanumeric value whose
    mod-97 checksum already passed."""
    rule = _country_rule(compact[:2])
    if rule is None or not rule[0].match(compact[4:]):
        return False
    module = rule[1]
    if module is None:
        return True
    try:
        module.validate(compact)
    except ValidationError:
        return False
    return True


def is_iban(compact: str) -> bool:
    """Mod-97 first (cheap), then the country's length and format (python-stdnum)."""
    return (
        compact[:2] in _COUNTRIES
        and compact.isalnum()
        and compact.isascii()
        and _mod97(compact)
        and _stdnum_valid(compact)
    )


# The first check digit of an IBAN, with where its country letters start: right
# after the two letters (a), after the letters spaced (b), or either with one
# separator before the digit (c, d); followed by another digit (a separator
# between allowed). The scan opens with a digit class, so ``re`` jumps from digit
# to digit; at most one layout fits a digit (the characters before it decide).
_CHECK_DIGITS: Final = re.compile(
    r"\d(?:(?<=(?P<a>[A-Za-z])[A-Za-z]\d)|(?<=(?P<b>[A-Za-z]) [A-Za-z]\d)"
    r"|(?<=(?P<c>[A-Za-z])[A-Za-z][ \-]\d)|(?<=(?P<d>[A-Za-z]) [A-Za-z][ \-]\d))(?=[ \-]?\d)"
)
_SPACED: Final = frozenset({"b", "d"})


# The country codes as they can be written: each letter in either case.
_PAIRS: Final = frozenset(
    a + b
    for code in _COUNTRIES
    for a in (code[0], code[0].lower())
    for b in (code[1], code[1].lower())
)


def _candidate_starts(text: str) -> list[int]:
    """The positions where an ``_IBAN`` match with a known country can start, sorted:
    where the country letters before a first check digit start (letter, optional
    space, letter, optional separator, then the check digits).

    A start whose two letters are not a country code is left out (a match there
    would be refused for its country), and so is a start right after a word
    character (``_IBAN``'s look-behind).
    """
    starts: set[int] = set()
    for m in _CHECK_DIGITS.finditer(text):
        layout = m.lastgroup or ""
        s = m.start(layout)
        second = text[s + 2] if layout in _SPACED else text[s + 1]
        if text[s] + second in _PAIRS and not (
            s and (text[s - 1].isalnum() or text[s - 1] == "_")  # \w before
        ):
            starts.add(s)
    return sorted(starts)


@register
class IbanRecognizer(Recognizer):
    """IBAN of any country stdnum knows; the length must be the country's."""

    id = "iban"
    entities = frozenset({Entity.IBAN})

    def find(self, doc: Document) -> Iterable[Span]:
        if not doc.has_digits:
            return
        text = doc.view.text
        starts = _candidate_starts(text)
        if not starts:
            return
        pos = 0
        k = 0
        while True:
            # _IBAN.search(text, pos): the first candidate start from pos that matches.
            m = None
            while k < len(starts):
                if starts[k] >= pos:
                    m = _IBAN.match(text, starts[k])
                    if m is not None:
                        break
                k += 1
            if m is None:
                return
            end = self._valid_end(text, m)
            if end is None:
                pos = m.start() + 1  # candidates may overlap ("is 7 4 ... IBAN is GB...")
                continue
            pos = end
            span = doc.span_from_view(m.start(), end, Entity.IBAN, 0.95, self.id)
            if span:
                yield span

    @staticmethod
    def _valid_end(text: str, m: re.Match[str]) -> int | None:
        """End of the longest valid IBAN starting at ``m``, if any."""
        country = (m.group(1) + m.group(2)).upper()
        if country not in _COUNTRIES:
            return None
        compact = country + m.group(3) + m.group(4)
        length = _LENGTHS.get(country)
        if length is not None:
            # One length to try: the body up to its (length - 4)th alphanumeric.
            need = length - len(compact)
            first = _NTH_ALNUM[need].match(m.group(5)) if 0 < need < len(_NTH_ALNUM) else None
            if first is None:
                return None
            compact += first.group().translate(_DROP_SEPARATORS).upper()
            pos = m.start(5) + first.end() - 1
            if len(compact) >= 15 and is_iban(compact) and not text[pos + 1 : pos + 2].isalnum():
                return pos + 1
            return None
        best_end: int | None = None
        for k, c in enumerate(m.group(5)):
            if not c.isalnum():
                continue
            compact += c.upper()
            if len(compact) > _LENGTHS.get(country, 34):
                break
            if country in _LENGTHS and len(compact) != _LENGTHS[country]:
                continue
            pos = m.start(5) + k
            if len(compact) >= 15 and is_iban(compact) and not text[pos + 1 : pos + 2].isalnum():
                best_end = pos + 1
        return best_end


__all__ = ["IbanRecognizer", "is_iban"]
