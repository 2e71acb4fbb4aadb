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
    r"\[[A-Z][A-Z0-9_]{1,40}\]|<[A-Z][A-Z0-9_]{1,40}(?:_\d{1,9}|:[0-9a-f]{4,64})?>"
    r"|\*{2,}[0-9A-Za-z]{0,4}(?![0-9A-Za-z])"
)


class Document:
    """One text being analysed, with the views recognizers share (built once, lazily)."""

    __slots__ = ("_protected", "_view", "context", "lang", "text")

    def __init__(self, text: str, lang: str, context: Context = EMPTY_CONTEXT) -> None:
        self.text = text
        self.lang = lang
        self.context = context
        self._view: TextView | None = None
        self._protected: list[tuple[int, int]] | None = None

    @property
    def view(self) -> TextView:
        """The text with spoken numbers rewritten as digits."""
        if self._view is None:
            self._view = number_view(self.text, self.lang)
        return self._view

    @property
    def protected(self) -> list[tuple[int, int]]:
        if self._protected is None:
            self._protected = [(m.start(), m.end()) for m in PROTECTED.finditer(self.text)]
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

    def span_from_view(self, vstart: int, vend: int, label: str, score: float,
                       recognizer: str) -> Span | None:
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
