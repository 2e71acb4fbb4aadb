"""Tenant-defined entities: a regular expression, optional context words and a checksum.

A tenant's pattern comes from configuration, not from code we reviewed, so it is
bounded twice: at load, a pattern with nested unbounded repetition (``(a+)+``,
``(\\d*-?)*``, the classic catastrophic-backtracking shapes) is refused; at run
time, the pattern runs under the ``regex`` package's ``timeout`` (``timeout_ms``
per text, default 50 ms), and a text that exceeds it raises
:class:`CustomPatternTimeout` (the engine then blocks the message when the
policy fails closed) instead of hanging the engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Literal

import regex

from rempart.errors import ConfigurationError, RempartError
from rempart.redaction.recognizers.base import Document, Recognizer
from rempart.redaction.recognizers.cards import luhn_ok
from rempart.redaction.spans import Span

# The standard library's pattern parser (``sre_parse`` before 3.11), to inspect a
# tenant pattern's structure; private but stable, and typed loosely here.
_sre_parse: Any = import_module("re._parser")

Checksum = Literal["none", "luhn", "mod97"]
_MAX_PATTERN = 512
DEFAULT_TIMEOUT_MS = 50
MAX_TIMEOUT_MS = 1000
_REPEATS = {_sre_parse.MAX_REPEAT, _sre_parse.MIN_REPEAT, _sre_parse.POSSESSIVE_REPEAT}


class CustomPatternTimeout(RempartError):
    """A tenant's pattern ran past its time budget on one text."""

    title = "Custom pattern too slow"
    slug = "custom-pattern-timeout"


def _unbounded(max_count: int) -> bool:
    return bool(max_count == _sre_parse.MAXREPEAT or max_count > 64)


def _walk(items: Any, inside_unbounded: bool) -> str | None:
    """The first nested unbounded repetition in a parsed pattern, described."""
    for op, av in items:
        children: list[Any] = []
        nested = inside_unbounded
        if op in _REPEATS:
            low, high, sub = av
            if _unbounded(high) and low != high:
                if inside_unbounded:
                    return "a repetition inside a repetition"
                nested = True
            children = [sub]
        elif op is _sre_parse.SUBPATTERN:
            children = [av[3]]
        elif op is _sre_parse.BRANCH:
            children = list(av[1])
        elif op in (_sre_parse.ASSERT, _sre_parse.ASSERT_NOT):
            children = [av[1]]
        elif op is _sre_parse.ATOMIC_GROUP:
            children = [av]
        elif op is _sre_parse.GROUPREF_EXISTS:
            children = [c for c in av[1:] if c is not None]
        for child in children:
            found = _walk(child, nested)
            if found:
                return found
    return None


def check_pattern(label: str, pattern: str) -> None:
    """Refuse what no tenant pattern may be: invalid, too long, or with nested
    unbounded repetition (catastrophic backtracking)."""
    if not pattern or len(pattern) > _MAX_PATTERN:
        raise ConfigurationError(f"custom pattern for {label} is empty or too long")
    try:
        parsed = _sre_parse.parse(pattern)
        regex.compile(pattern, regex.VERSION0)
    except (re.error, regex.error) as exc:
        raise ConfigurationError(f"invalid custom pattern for {label}: {exc}") from exc
    problem = _walk(parsed, False)
    if problem:
        raise ConfigurationError(
            f"custom pattern for {label} has {problem} (nested quantifiers can take "
            "exponential time); write it without the outer or the inner repetition"
        )


@dataclass(frozen=True, slots=True)
class CustomPattern:
    """One tenant entity, e.g. ``CUSTOMER_ACCOUNT`` = ``CL-\\d{8}`` near "numéro client"."""

    label: str
    pattern: str
    context: tuple[str, ...] = ()
    context_required: bool = False
    checksum: Checksum = "none"
    ignore_case: bool = True
    spoken: bool = True  # also match on the text with spoken numbers as digits
    score: float = 0.8
    window: int = field(default=60)
    timeout_ms: int = DEFAULT_TIMEOUT_MS  # time budget of the pattern per text

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,40}", self.label):
            raise ConfigurationError(f"invalid custom entity label {self.label!r}")
        check_pattern(self.label, self.pattern)
        if not 1 <= self.timeout_ms <= MAX_TIMEOUT_MS:
            raise ConfigurationError(
                f"timeout_ms of {self.label} must lie between 1 and {MAX_TIMEOUT_MS}"
            )
        if self.context_required and not self.context:
            raise ConfigurationError(f"custom entity {self.label} requires context words")


def _mod97_ok(value: str) -> bool:
    digits = "".join(str(int(c, 36)) for c in value if c.isalnum())
    return bool(digits) and int(digits) % 97 == 1


class PatternRecognizer(Recognizer):
    """A recognizer built from configuration rather than code."""

    def __init__(self, spec: CustomPattern) -> None:
        self.spec = spec
        self.rec_id = f"custom.{spec.label.lower()}"
        flags = regex.VERSION0 | (regex.IGNORECASE if spec.ignore_case else 0)
        self._rx = regex.compile(spec.pattern, flags)
        self._timeout = spec.timeout_ms / 1000
        self._ctx = (
            re.compile(
                r"\b(?:" + "|".join(re.escape(c) for c in spec.context) + r")\b", re.IGNORECASE
            )
            if spec.context
            else None
        )

    @property
    def id(self) -> str:  # type: ignore[override]
        return self.rec_id

    @property
    def entities(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({self.spec.label})

    def find(self, doc: Document) -> Iterable[Span]:
        spec = self.spec
        text = doc.view.text if spec.spoken else doc.text
        # The budget covers the whole scan of this text (regex's finditer timeout).
        matches = self._rx.finditer(text, timeout=self._timeout)
        while True:
            try:
                m = next(matches, None)
            except TimeoutError:
                raise CustomPatternTimeout(
                    f"custom pattern for {spec.label} ran past its {spec.timeout_ms} ms budget "
                    f"on a text of {len(text)} characters"
                ) from None
            if m is None:
                return
            if m.end() == m.start():
                continue
            value = m.group()
            if spec.checksum == "luhn":
                digits = "".join(c for c in value if c.isdigit())
                if not digits or not luhn_ok(digits):
                    continue
            elif spec.checksum == "mod97" and not _mod97_ok(value):
                continue
            score = spec.score
            if self._ctx is not None:
                near = self._ctx.search(text, max(0, m.start() - spec.window), m.start())
                if near is None and spec.context_required:
                    continue
                if near is not None:
                    score = min(1.0, score + 0.15)
            span = (
                doc.span_from_view(m.start(), m.end(), spec.label, score, self.id)
                if spec.spoken
                else doc.span(m.start(), m.end(), spec.label, score, self.id)
            )
            if span:
                yield span


__all__ = [
    "DEFAULT_TIMEOUT_MS",
    "Checksum",
    "CustomPattern",
    "CustomPatternTimeout",
    "PatternRecognizer",
    "check_pattern",
]
