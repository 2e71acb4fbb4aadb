"""E-mail addresses dictated in words: "jean point dupont arobase gmail point com"."""

from __future__ import annotations

import re
from typing import Final

_AT: Final = r"(?:arobase|arrobase|arobas|at|@)"
_DOT: Final = r"(?:point|dot|\.)"
_JOIN: Final = (
    r"(?:point|dot|tiret(?:\s+(?:du\s+bas|bas|six|huit))?|dash|hyphen|underscore|"
    r"under\s+score|\.|-|_)"
)
_PART: Final = r"[^\W_][\w'\u2019]*"
_TLD: Final = (
    r"(?:com|fr|net|org|eu|io|be|ch|ca|de|es|it|uk|us|info|biz|co|gouv|gov|edu|me|ai|app|dev|"
    r"orange|free|sfr|tv|lu|mc|re)"
)
# local part: words joined by point/dot/tiret...; domain: words joined by point/dot;
# the last label must be a known TLD so that "at home" never matches.
DICTATED_EMAIL: Final = re.compile(
    rf"(?<![\w@.])(?:{_PART}\s+{_JOIN}\s+)*{_PART}\s+{_AT}\s+(?:{_PART}\s+(?:{_JOIN}\s+)?)*?"
    rf"{_PART}(?:\s+{_DOT}\s+{_TLD})+(?![\w@])",
    re.IGNORECASE,
)
# A local part should not swallow the words that introduce the address.
_LEADING_NOISE: Final = re.compile(
    r"^(?:(?:c'est|c\u2019est|mon|ma|mail|e-mail|email|adresse|address|is|my|it's|its|est|e|the|"
    r"à|a|to|send|envoyez|envoyer|at|:)\s+)+",
    re.IGNORECASE,
)
_NOISE_WORDS: Final = frozenset(
    [
        "c'est",
        "c\u2019est",
        "mon",
        "ma",
        "mail",
        "e-mail",
        "email",
        "courriel",
        "adresse",
        "address",
        "is",
        "my",
        "it's",
        "its",
        "est",
        "e",
        "the",
        "à",
        "a",
        "to",
        "send",
        "envoyez",
        "envoyer",
        "et",
        "and",
        "mais",
        "but",
        "oui",
        "yes",
        "alors",
        "so",
        "donc",
        "voilà",
        "it",
        "sure",
    ]
)


def find_dictated_emails(text: str) -> list[tuple[int, int]]:
    """Character ranges of dictated e-mail addresses in ``text``."""
    if not re.search(r"\b(?:arobase|arrobase|arobas|at)\b", text, re.IGNORECASE):
        return []
    out: list[tuple[int, int]] = []
    for m in DICTATED_EMAIL.finditer(text):
        start, end = m.start(), m.end()
        # Drop leading words that are not part of the local part ("c'est jean point...").
        words = list(re.finditer(r"\S+", text[start:end]))
        at_index = next(
            i
            for i, w in enumerate(words)
            if w.group().casefold() in {"arobase", "arrobase", "arobas", "at", "@"}
        )
        k = 0
        while k < at_index - 1 and words[k].group().casefold() in _NOISE_WORDS:
            k += 1
        # The local part is a chain: word (joiner word)*; restart after any two
        # plain words in a row (only the last word before a joiner chain counts).
        i = at_index - 1
        while i - 1 > k:
            if re.fullmatch(_JOIN, words[i - 1].group(), re.IGNORECASE) and i - 2 >= k:
                i -= 2  # "jean point" + "dupont"
            elif (
                i - 2 > k
                and re.fullmatch(_JOIN, words[i - 2].group(), re.IGNORECASE)
                and words[i - 1].group().casefold() not in _NOISE_WORDS
            ):
                i -= 1  # a two-word part: "manon point le gall"
            else:
                break
        start += words[i].start()
        out.append((start, end))
    return out


__all__ = ["DICTATED_EMAIL", "find_dictated_emails"]
