"""Tenant-defined entities: a regular expression, optional context words and a checksum."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from rempart.errors import ConfigurationError
from rempart.redaction.recognizers.base import Document, Recognizer
from rempart.redaction.recognizers.cards import luhn_ok
from rempart.redaction.spans import Span

Checksum = Literal["none", "luhn", "mod97"]
_MAX_PATTERN = 512


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

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{1,40}", self.label):
            raise ConfigurationError(f"invalid custom entity label {self.label!r}")
        if not self.pattern or len(self.pattern) > _MAX_PATTERN:
            raise ConfigurationError(f"custom pattern for {self.label} is empty or too long")
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise ConfigurationError(f"invalid custom pattern for {self.label}: {exc}") from exc
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
        flags = re.IGNORECASE if spec.ignore_case else 0
        self._rx = re.compile(spec.pattern, flags)
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
        for m in self._rx.finditer(text):
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


__all__ = ["Checksum", "CustomPattern", "PatternRecognizer"]
