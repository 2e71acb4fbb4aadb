"""PIN codes, one-time codes and passwords, said or typed after a cue."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from rempart.redaction.context import CUES, CUES_LOWER
from rempart.redaction.entities import Entity
from rempart.redaction.recognizers.base import PROTECTED, Document, Recognizer, register
from rempart.redaction.spans import Span

_FILLER: Final = (
    r"(?:\s|:|=|-|,|est|c'est|c\u2019est|is|it's|it\u2019s|mon|ma|my|the|le|la|de|du|à|a|usage|unique|"
    r"que|vous|avez|j'ai|i|got|received|reçu|re[çc]u|par|by|sms|text|was|were|will|be|be:|"
    r"alors|so|euh|uh|um|ok|okay|donc|voilà|here|voici|it|'s|\u2019s|sent|sur|on|your|votre|phone|"
    r"t[ée]l[ée]phone)*"
)
_DIGITS: Final = re.compile(rf"{_FILLER}?(\d(?:[ \t]?\d){{3,7}})(?![\d])", re.IGNORECASE)
_SECRET_WORD: Final = re.compile(rf"{_FILLER}?([^\s\"'“”«»]{{4,64}})", re.IGNORECASE)
_PASSWORD_CUE: Final = re.compile(
    r"\b(?:mot\s+de\s+passe|password|mdp|pwd|passphrase)\b", re.IGNORECASE
)


@register
class SecretRecognizer(Recognizer):
    """Digits after a PIN/OTP cue; the next word after a password cue."""

    id = "secrets"
    entities = frozenset({Entity.PIN_OR_SECRET})

    def find(self, doc: Document) -> Iterable[Span]:
        if not doc.expects(Entity.PIN_OR_SECRET) and not doc.mentions(
            "pin", "code", "otp", "pass", "mdp", "pwd"
        ):
            return
        text = doc.view.text
        low = doc.view_lower  # cues on the lower-cased view when exact (same offsets)
        scan = text if low is None else low
        cue_rx = (CUES if low is None else CUES_LOWER)[Entity.PIN_OR_SECRET]
        for cue in cue_rx.finditer(scan):
            after = cue.end()
            is_password = _PASSWORD_CUE.fullmatch(cue.group()) is not None
            m = _DIGITS.match(text, after, min(len(text), after + 60))
            if m is None and is_password:
                m = _SECRET_WORD.match(text, after, min(len(text), after + 100))
                if m is not None and PROTECTED.fullmatch(m.group(1)):
                    m = None
            if m is not None:
                span = doc.span_from_view(m.start(1), m.end(1), Entity.PIN_OR_SECRET, 0.85, self.id)
                if span:
                    yield span
        if doc.expects(Entity.PIN_OR_SECRET) and not cue_rx.search(scan):
            m = re.search(r"(?<![\d])\d(?:[ \t]?\d){3,7}(?!\d)", text[:120])
            if m is not None:
                span = doc.span_from_view(m.start(), m.end(), Entity.PIN_OR_SECRET, 0.7, self.id)
                if span:
                    yield span


__all__ = ["SecretRecognizer"]
