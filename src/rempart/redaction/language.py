"""A cheap French/English guess for texts that come without a language."""

from __future__ import annotations

import re
from typing import Final

_FR: Final = frozenset(
    [
        "le",
        "la",
        "les",
        "je",
        "vous",
        "est",
        "et",
        "de",
        "des",
        "une",
        "un",
        "pour",
        "mon",
        "ma",
        "mes",
        "c'est",
        "votre",
        "oui",
        "non",
        "merci",
        "bonjour",
        "numéro",
        "avec",
        "dans",
        "sur",
        "pas",
        "que",
        "qui",
        "au",
        "aux",
        "du",
    ]
)
_EN: Final = frozenset(
    [
        "the",
        "and",
        "is",
        "you",
        "my",
        "your",
        "to",
        "of",
        "it",
        "i",
        "a",
        "yes",
        "no",
        "thanks",
        "hello",
        "number",
        "with",
        "in",
        "on",
        "not",
        "that",
        "what",
        "this",
        "please",
        "can",
    ]
)
_WORDS: Final = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
SUPPORTED: Final = frozenset({"fr", "en"})


def guess_language(text: str, default: str = "fr") -> str:
    words = [w.casefold() for w in _WORDS.findall(text[:4000])]
    fr = sum(w in _FR for w in words)
    en = sum(w in _EN for w in words)
    if fr == en:
        return "fr" if any(c in "éèêàçù" for c in text[:4000]) else default
    return "fr" if fr > en else "en"


__all__ = ["SUPPORTED", "guess_language"]
