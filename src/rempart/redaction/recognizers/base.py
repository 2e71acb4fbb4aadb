"""What a recognizer is, the document it reads, and the registry of recognizers by id."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import ClassVar, Final, TypeVar

from rempart.errors import ConfigurationError
from rempart.redaction.context import EMPTY_CONTEXT, Context
from rempart.redaction.normalize.numbers import number_view
from rempart.redaction.normalize.view import TextView
from rempart.redaction.spans import Span

# Text that is already a redaction: type tags, surrogates, pseudonyms, masks.
# Recognizers leave these alone so that redacting twice changes nothing.
PROTECTED: Final = re.compile(
    r"\[[A-Z][A-Z0-9_]{1,40}\]"
    r"|<[A-Z][A-Z0-9_]{1,40}(?:_\d{1,9}|:[0-9a-f]{4,64}|:(?:rtk|tok)_[a-z2-7]{8,64})?>"
    r"|\*{2,}[0-9A-Za-z]{0,4}(?![0-9A-Za-z])"
)


# Characters that IGNORECASE matches to an ASCII letter although their ``lower()``
# is not that letter (dotted and dotless I, long s); found by checking every code
# point against the letters of the patterns run on lower-cased text.
CASE_ODD: Final = frozenset("\u0130\u0131\u017f")
# Latin-1 characters that are not letters (``[^\W\d_]``) turned into spaces: for a
# text within Latin-1, splitting the translated text gives ``_PARTS.findall``.
_NOT_LETTER_LATIN1: Final = {
    i: " " for i in range(256) if not (chr(i).isalnum() and not chr(i).isdecimal())
}
# The same as byte tables for ``bytes.translate`` (one C loop, no dict look-up per
# character), and one that also keeps the hyphen and the apostrophe: its runs are
# the runs of letters, hyphens and apostrophes, which hold every ``_WORDS`` match.
_LETTERS_LATIN1: Final = bytes(32 if i in _NOT_LETTER_LATIN1 else i for i in range(256))
_LETTERS_JOINERS_LATIN1: Final = bytes(
    32 if i in _NOT_LETTER_LATIN1 and i not in (45, 39) else i for i in range(256)
)
_WORDS: Final = re.compile(r"[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*")
_PARTS: Final = re.compile(r"[^\W\d_]+")
_DIGIT: Final = re.compile(r"\d")


def _latin1_words(raw: bytes) -> frozenset[str]:
    """``Document.words`` of a lower-cased text within Latin-1, given as its bytes.

    Letter runs come from one byte translation; a run of letters, hyphens and
    apostrophes that holds a joiner is read by ``_PARTS`` and ``_WORDS`` alone
    (no ``_WORDS`` match crosses another character, and ``\u2019`` is not Latin-1).
    """
    if b"-" not in raw and b"'" not in raw:
        return frozenset(raw.translate(_LETTERS_LATIN1).decode("latin-1").split())
    found: set[str] = set()
    for run in raw.translate(_LETTERS_JOINERS_LATIN1).decode("latin-1").split():
        if "-" in run or "'" in run:
            found.update(_PARTS.findall(run))
            found.update(w for w in _WORDS.findall(run) if "-" in w or "'" in w)
        else:
            found.add(run)
    return frozenset(found)


class Document:
    """One text being analysed, with the views recognizers share (built once, lazily)."""

    __slots__ = (
        "_has_digits",
        "_lower",
        "_lower_exact",
        "_protected",
        "_view",
        "_view_lower",
        "_words",
        "context",
        "lang",
        "text",
    )

    def __init__(self, text: str, lang: str, context: Context = EMPTY_CONTEXT) -> None:
        self.text = text
        self.lang = lang
        self.context = context
        self._view: TextView | None = None
        self._protected: list[tuple[int, int]] | None = None
        self._lower: str | None = None
        self._lower_exact: bool | None = None
        self._view_lower: str | None = None
        self._words: frozenset[str] | None = None
        self._has_digits: bool | None = None

    @property
    def lower(self) -> str:
        """The text case-folded (same length for the cheap keyword checks it serves)."""
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    @property
    def lower_exact(self) -> bool:
        """Whether a case-sensitive pattern of lower-case words run on :attr:`lower`
        finds what the same pattern with IGNORECASE finds on the text, at the same
        offsets: lower-casing kept every offset and the text has none of the
        characters IGNORECASE matches to a letter whose ``lower()`` is not it."""
        if self._lower_exact is None:
            text = self.text
            self._lower_exact = len(self.lower) == len(text) and (
                text.isascii() or CASE_ODD.isdisjoint(text)
            )
        return self._lower_exact

    @property
    def view_lower(self) -> str | None:
        """The number view lower-cased, when that is exact (:attr:`lower_exact`; the
        view only replaces number words by digits, so it keeps that property);
        None otherwise. Cue patterns for lower case (``CUES_LOWER``) run on it."""
        if not self.lower_exact:
            return None
        if self._view_lower is None:
            view = self.view
            self._view_lower = self.lower if view.is_identity else view.text.lower()
        return self._view_lower

    @property
    def words(self) -> frozenset[str]:
        """Every lower-case word of the text; hyphenated and elided words also in parts."""
        if self._words is None:
            low = self.lower
            try:
                raw: bytes | None = low.encode("latin-1")
            except UnicodeEncodeError:
                raw = None
            if raw is not None:
                self._words = _latin1_words(raw)
            # Every letter run is a word or a part of one; a text without hyphens
            # or apostrophes has no other words (the simpler scan is faster).
            elif "-" in low or "'" in low or "\u2019" in low:
                found = set(_PARTS.findall(low))
                found.update(
                    w for w in _WORDS.findall(low) if "-" in w or "'" in w or "\u2019" in w
                )
                self._words = frozenset(found)
            else:
                self._words = frozenset(_PARTS.findall(low))
        return self._words

    @property
    def has_digits(self) -> bool:
        """Whether the number view has any digit (spoken numbers count)."""
        if self._has_digits is None:
            self._has_digits = _DIGIT.search(self.view.text) is not None
        return self._has_digits

    def mentions(self, *needles: str) -> bool:
        """Cheap pre-check: does the lower-cased text contain any of these substrings?"""
        low = self.lower
        for n in needles:  # noqa: SIM110 - a plain loop is cheaper than any() over a generator
            if n in low:
                return True
        return False

    @property
    def view(self) -> TextView:
        """The text with spoken numbers rewritten as digits."""
        if self._view is None:
            self._view = number_view(self.text, self.lang, self.words, self.lower)
        return self._view

    @property
    def protected(self) -> list[tuple[int, int]]:
        if self._protected is None:
            text = self.text
            self._protected = (
                [(m.start(), m.end()) for m in PROTECTED.finditer(text)]
                if "[" in text or "<" in text or "**" in text
                else []
            )
        return self._protected

    def expects(self, label: str) -> bool:
        return label in self.context.expected

    def span(self, start: int, end: int, label: str, score: float, recognizer: str) -> Span | None:
        """A span over original offsets, trimmed of surrounding spaces; None if empty."""
        text = self.text
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            return None
        return Span(start, end, label, score, recognizer)

    def span_from_view(
        self, vstart: int, vend: int, label: str, score: float, recognizer: str
    ) -> Span | None:
        start, end = self.view.to_original(vstart, vend)
        return self.span(start, end, label, score, recognizer)


class Recognizer(ABC):
    """Finds spans of one family of entities. Subclasses set ``id`` and ``entities``."""

    id: ClassVar[str] = ""
    entities: ClassVar[frozenset[str]] = frozenset()
    languages: ClassVar[frozenset[str]] = frozenset({"fr", "en"})

    @abstractmethod
    def find(self, doc: Document) -> Iterable[Span]:
        """Yield the spans found in ``doc`` (overlaps are settled by the engine)."""


class DuplicateRecognizerError(ConfigurationError):
    title = "Duplicate recognizer id"
    slug = "duplicate-recognizer"


_REGISTRY: dict[str, type[Recognizer]] = {}
R = TypeVar("R", bound=type[Recognizer])


def register(cls: R) -> R:
    """Class decorator: add a recognizer to the registry; a duplicate id is an error."""
    if not cls.id or not re.fullmatch(r"[a-z][a-z0-9_.]*", cls.id):
        raise ConfigurationError(f"invalid recognizer id {cls.id!r}")
    if cls.id in _REGISTRY:
        raise DuplicateRecognizerError(f"recognizer id {cls.id!r} is registered twice")
    _REGISTRY[cls.id] = cls
    return cls


def registered() -> dict[str, type[Recognizer]]:
    """The registered recognizer classes by id (a copy)."""
    return dict(_REGISTRY)


def check_unique(recognizers: Iterable[Recognizer]) -> list[Recognizer]:
    """The recognizers as a list, refusing two with the same id."""
    seen: set[str] = set()
    out: list[Recognizer] = []
    for rec in recognizers:
        if rec.id in seen:
            raise DuplicateRecognizerError(f"recognizer id {rec.id!r} is used twice")
        seen.add(rec.id)
        out.append(rec)
    return out


SpanFactory = Callable[[int, int, str, float, str], Span | None]

__all__ = [
    "PROTECTED",
    "Document",
    "DuplicateRecognizerError",
    "Recognizer",
    "check_unique",
    "register",
    "registered",
]
