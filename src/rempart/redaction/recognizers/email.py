"""E-mail addresses, typed, lightly obfuscated ("[at]") or dictated in words."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from rempart.redaction.entities import Entity
from rempart.redaction.normalize.emails import find_dictated_emails
from rempart.redaction.recognizers.base import Document, Recognizer, register
from rempart.redaction.spans import Span

_TYPED: Final = re.compile(
    r"(?<![\w.+'\-])[\w.+'\-]{1,64}\s?(?:@|\[at\]|\(at\))\s?[\w\-]{1,63}"
    r"(?:\s?(?:\.|\[dot\]|\(dot\))\s?[\w\-]{1,63})+",
    re.IGNORECASE,
)


@register
class EmailRecognizer(Recognizer):
    id = "email"
    entities = frozenset({Entity.EMAIL})

    def find(self, doc: Document) -> Iterable[Span]:
        text = doc.text
        if "@" in text or "[at]" in text or "(at)" in text:
            for m in _TYPED.finditer(text):
                span = doc.span(m.start(), m.end(), Entity.EMAIL, 0.95, self.id)
                if span:
                    yield span
        # Dictated: needs an "at" word and a "dot" word.
        words = doc.words
        if not (
            ("arobase" in words or "at" in words or "arrobase" in words or "arobas" in words)
            and ("point" in words or "dot" in words)
        ):
            return
        for start, end in find_dictated_emails(text):
            span = doc.span(start, end, Entity.EMAIL, 0.85, self.id)
            if span:
                yield span


__all__ = ["EmailRecognizer"]
