"""Helpers shared by the redaction tests."""

from __future__ import annotations

from rempart.redaction import detect


def found(text: str, lang: str = "fr") -> list[tuple[str, str]]:
    """(covered text, label) for each span detected in ``text``."""
    return [(text[s.start : s.end], str(s.label)) for s in detect(text, lang)]


def labels(text: str, lang: str = "fr") -> set[str]:
    return {str(s.label) for s in detect(text, lang)}


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the Luhn check digit (independent of the engine's code)."""
    digits = [int(c) for c in prefix][::-1]
    total = 0
    for i, d in enumerate(digits):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return prefix + str((10 - total % 10) % 10)


def nir_key(first13: str) -> str:
    """The NIR key: 97 - (number mod 97), Corsica 2A -> 19, 2B -> 18."""
    number = first13.replace("2A", "19").replace("2B", "18")
    return f"{97 - int(number) % 97:02d}"
