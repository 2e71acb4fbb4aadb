"""Street addresses: number, street type and name, then postcode and city when present.

French order ("12 bis rue des Lilas, 75011 Paris") and English order
("221B Baker Street, London NW1 6XE"; "42 Oak Avenue, Springfield, IL 62704"),
typed or spoken ("douze rue des lilas soixante-quinze zéro onze paris").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final

from rempart.redaction.entities import Entity
from rempart.redaction.lexicon import stopwords, street_types
from rempart.redaction.recognizers.base import Document, Recognizer, register
from rempart.redaction.recognizers.person import cased
from rempart.redaction.spans import Span

_WORD: Final = re.compile(r"[^\W\d_][\w'\u2019\-]*\.?")
_GAP: Final = re.compile(r"[ \t]*,?[ \t]*")
# The look-behind follows the first digit (checking the character before it) so
# that the scan jumps from digit to digit.
_NUMBER: Final = re.compile(
    r"(\d(?<![\w/.,:]\d)\d{0,3})(?:\s?(?:bis|ter|quater|[a-hA-H])\b)?,?\s+", re.IGNORECASE
)
_FR_POSTCODE: Final = re.compile(r",?\s*((?:\d\s?){4}\d)(?!\d)")
_UK_POSTCODE: Final = re.compile(r",?\s*([A-Za-z]{1,2}\d[A-Za-z\d]?\s?\d[A-Za-z]{2})\b")
_US_STATE_ZIP: Final = re.compile(r",?\s*[A-Z]{2}\s+(\d{5}(?:-\d{4})?)\b")
_STOP_EXTRA: Final = frozenset(
    [
        "et",
        "and",
        "je",
        "i",
        "mon",
        "my",
        "ma",
        "votre",
        "your",
        "merci",
        "thanks",
        "téléphone",
        "phone",
        "numéro",
        "number",
        "email",
        "mail",
        "c'est",
        "is",
        "était",
        "was",
        "code",
        "postal",
        "postcode",
        "zip",
        "à",
        "in",
        "at",
        "on",
        "sur",
    ]
)
_PARTICLES: Final = frozenset(
    [
        "de",
        "du",
        "des",
        "la",
        "le",
        "l'",
        "d'",
        "les",
        "of",
        "the",
        "aux",
        "au",
        "st",
        "saint",
        "sainte",
    ]
)


def _stop(word: str) -> bool:
    w = word.casefold().rstrip(".")
    if w in _PARTICLES:
        return False
    return w in _STOP_EXTRA or w in stopwords()


@register
class AddressRecognizer(Recognizer):
    id = "address"
    entities = frozenset({Entity.ADDRESS})

    def find(self, doc: Document) -> Iterable[Span]:
        if not doc.has_digits:
            return
        text = doc.view.text
        types = street_types()
        if types["fr"].isdisjoint(doc.words) and types["en"].isdisjoint(doc.words):
            return
        n = len(text)
        for m in _NUMBER.finditer(text):
            after = m.end()
            # A number followed by a digit (spoken digits, "4 97 20") or by nothing
            # has no word after it (``_WORD`` opens with a letter): nothing to read.
            if after < n and not text[after].isdecimal():
                yield from self._from_number(doc, text, m, types)

    def _words(self, text: str, pos: int, limit: int) -> list[re.Match[str]]:
        out: list[re.Match[str]] = []
        while len(out) < limit:
            gap = _GAP.match(text, pos, pos + 8)
            p = gap.end() if gap else pos
            m = _WORD.match(text, p)
            if m is None:
                break
            out.append(m)
            pos = m.end()
        return out

    def _from_number(
        self, doc: Document, text: str, num: re.Match[str], types: dict[str, frozenset[str]]
    ) -> Iterator[Span]:
        words = self._words(text, num.end(), 7)
        if not words:
            return
        end: int | None = None
        first = words[0].group().casefold().rstrip(".")
        if first in types["fr"]:
            # "rue des Lilas ..." : name words until a stop word, a digit or the end.
            end = words[0].end()
            for w in words[1:6]:
                if _stop(w.group()):
                    break
                end = w.end()
            if end == words[0].end() and len(words) == 1:
                return
        else:
            # English: up to four name words, then the street type.
            for k, w in enumerate(words[:5]):
                low = w.group().casefold().rstrip(".")
                if k > 0 and low in types["en"]:
                    end = w.end()
                    break
                if _stop(w.group()) and low not in _PARTICLES:
                    return
            if end is None:
                return
        end = self._tail(text, end)
        if text[end - 1 : end] == ".":
            last = re.search(r"[^\W\d_]+\.$", text[max(0, end - 8) : end])
            if last is None or len(last.group()) > 4:
                end -= 1  # a full stop, not an abbreviation like "St."
        span = doc.span_from_view(num.start(), end, Entity.ADDRESS, 0.85, self.id)
        if span:
            yield span

    def _tail(self, text: str, end: int) -> int:
        """Extend over ", City POSTCODE", ", 75011 Paris", ", Springfield, IL 62704"."""
        for rx in (_FR_POSTCODE, _UK_POSTCODE):
            m = rx.match(text, end)
            if m:
                return self._city(text, m.end(), after_postcode=True)
        # City first, then an optional postcode / state + ZIP.
        words = self._words(text, end, 3)
        pos = end
        for w in words:
            if _stop(w.group()) or (w.group()[:1].islower() and cased(text)):
                break
            pos = w.end()
            for rx in (_UK_POSTCODE, _US_STATE_ZIP, _FR_POSTCODE):
                m = rx.match(text, pos)
                if m:
                    return m.end()
        if pos > end and (pos >= len(text) or text[pos] in ",.\n;!?"):
            return pos
        if not cased(text):
            # Speech-to-text: no capitals, no commas; the next words are the city.
            for w in words[:2]:
                if _stop(w.group()) or any(c.isdigit() for c in w.group()):
                    break
                end = w.end()
        return end

    def _city(self, text: str, pos: int, after_postcode: bool) -> int:
        end = pos
        for w in self._words(text, pos, 3):
            word = w.group()
            if _stop(word) or any(c.isdigit() for c in word):
                break
            if cased(text) and word[:1].islower() and word.casefold() not in _PARTICLES:
                break
            end = w.end()
            if text[end : end + 1] in (",", ".", "\n", "?", "!", ";"):
                break
        return end


__all__ = ["AddressRecognizer"]
