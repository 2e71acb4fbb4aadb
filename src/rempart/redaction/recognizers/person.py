"""Person names: after an introduction, a title, a salutation or in a signature,
and given names from a broad public list. Works on lower-case speech-to-text.

Names themselves need not be in any list: "je m'appelle zorvan quelibrand"
finds both words because of the introduction, not because of the words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Final

from rempart.redaction.entities import Entity
from rempart.redaction.lexicon import ambiguous_first_names, first_names, stopwords
from rempart.redaction.recognizers.base import Document, Recognizer, register
from rempart.redaction.spans import Span

_I = re.IGNORECASE
_NAME_TOKEN: Final = re.compile(r"[^\W\d_](?:[\w'\u2019\-]*[^\W\d_])?\.?")
# Introductions, keyed by a word they contain so that only the ones present in a
# text are compiled into its scan (a large alternation is slow in ``re``).
_STRONG_PARTS: Final[dict[str, tuple[str, ...]]] = {
    "appelle": (r"je\s+m['\u2019 ]?\s?appelle",),
    "nom": (r"mon\s+nom\s+(?:de\s+famille\s+)?(?:est|c['\u2019]est)", r"au\s+nom\s+de", r"nom\s*:"),
    "prénom": (r"mon\s+pr[ée]nom\s+(?:est|c['\u2019]est)", r"pr[ée]nom\s*:"),
    "prenom": (r"pr[ée]nom\s*:",),
    "moi": (r"moi\s+c['\u2019]est",),
    "part": (r"de\s+la\s+part\s+de",),
    "titulaire": (r"titulaire\s*:",),
    "name": (
        r"my\s+name\s+is",
        r"my\s+name['\u2019]s",
        r"name\s+is",
        r"name['\u2019]s",
        r"under\s+the\s+name(?:\s+of)?",
        r"first\s+name\s+is",
        r"last\s+name\s+is",
        r"name\s*:",
        r"full\s+name\s*:",
    ),
    "names": (r"names\s+are",),
    "surname": (r"surname\s+is",),
    "call": (r"call\s+me",),
    "cardholder": (r"cardholder\s*:",),
}
_TITLES: Final = frozenset(
    [
        "monsieur",
        "madame",
        "mademoiselle",
        "mme",
        "mlle",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "docteur",
        "doctor",
        "maître",
        "maitre",
        "professeur",
        "prof",
    ]
)
_WEAK_PARTS: Final[dict[str, tuple[str, ...]]] = {
    "c'est": (r"c['\u2019]est",),
    "c\u2019est": (r"c['\u2019]est",),
    "ici": (r"ici",),
    "suis": (r"je\s+suis",),
    "this": (r"this\s+is",),
    "i'm": (r"i['\u2019]m",),
    "i\u2019m": (r"i['\u2019]m",),
    "am": (r"i\s+am",),
    "it's": (r"it['\u2019]s",),
    "it\u2019s": (r"it['\u2019]s",),
    "speaking": (r"speaking\s+with",),
    "bonjour": (r"bonjour",),
    "bonsoir": (r"bonsoir",),
    "salut": (r"salut",),
    "cher": (r"cher",),
    "chère": (r"ch[èe]re",),
    "chere": (r"ch[èe]re",),
    "hello": (r"hello",),
    "hi": (r"hi",),
    "hey": (r"hey",),
    "dear": (r"dear",),
    "merci": (r"merci",),
    "thanks": (r"thanks",),
    "thank": (r"thank\s+you",),
}


@lru_cache(maxsize=1024)
def _trigger_rx(parts: tuple[str, ...], strong: bool) -> re.Pattern[str]:
    # Stay on the line: "Bonjour Madame,\n" names nobody.
    tail = r"\b\.?[ \t]*:?[ \t]*" if strong else r"\b[ \t]*,?[ \t]*"
    return re.compile(r"\b(?:" + "|".join(parts) + ")" + tail, _I)


@lru_cache(maxsize=1024)
def _trigger_rx_lower(parts: tuple[str, ...], strong: bool) -> re.Pattern[str]:
    """``_trigger_rx`` for the lower-cased text: case-sensitive (every part is lower
    case), without the leading ``\\b`` (checked by the caller), so that ``re``
    jumps between the parts' first letters instead of trying every position."""
    tail = r"\b\.?[ \t]*:?[ \t]*" if strong else r"\b[ \t]*,?[ \t]*"
    return re.compile(r"(?:" + "|".join(parts) + ")" + tail)


_WORD_CHAR: Final = re.compile(r"\w")


def _trigger_matches(doc: Document, strong: bool) -> Iterator[re.Match[str]]:
    """``_triggers(doc.words, strong).finditer(doc.text)``, found faster on the
    lower-cased text when that gives the same matches (``doc.lower_exact``)."""
    present = doc.words & (_STRONG_KEYS if strong else _WEAK_KEYS)
    if not present:
        return
    parts = _parts_for(present, strong)
    if not doc.lower_exact:
        yield from _trigger_rx(parts, strong).finditer(doc.text)
        return
    rx = _trigger_rx_lower(parts, strong)
    lower = doc.lower
    pos = 0
    while True:
        m = rx.search(lower, pos)
        if m is None:
            return
        start = m.start()
        if start > 0 and _WORD_CHAR.match(lower, start - 1):
            pos = start + 1  # no word boundary before it: what \b refused
            continue
        yield m
        pos = m.end()


_STRONG_KEYS: Final = frozenset(_STRONG_PARTS) | _TITLES
_WEAK_KEYS: Final = frozenset(_WEAK_PARTS)


def _triggers(words: frozenset[str], strong: bool) -> re.Pattern[str] | None:
    present = words & (_STRONG_KEYS if strong else _WEAK_KEYS)
    return _triggers_for(present, strong) if present else None


@lru_cache(maxsize=4096)
def _parts_for(present: frozenset[str], strong: bool) -> tuple[str, ...]:
    table = _STRONG_PARTS if strong else _WEAK_PARTS
    parts: set[str] = set()
    for key in present:
        if key in table:
            parts.update(table[key])
        else:
            parts.add(key)  # a title
    return tuple(sorted(parts))


def _triggers_for(present: frozenset[str], strong: bool) -> re.Pattern[str]:
    return _trigger_rx(_parts_for(present, strong), strong)


_TITLE_ONLY: Final = re.compile(r"^(?:m|mme|mlle|mr|mrs|ms|dr)\.?$", _I)
_CLOSING: Final = re.compile(
    r"^[ \t]*(?:cordialement|bien\s+cordialement|bien\s+à\s+vous|sinc[èe]rement|"
    r"salutations(?:\s+distingu[ée]es)?|bonne\s+journ[ée]e|merci(?:\s+d'avance)?|"
    r"regards|best\s+regards|kind\s+regards|warm\s+regards|best|sincerely|thanks|"
    r"thank\s+you|cheers|many\s+thanks|yours\s+sincerely|yours\s+truly)[ \t]*[,.!]?[ \t]*$",
    _I | re.MULTILINE,
)
_CLOSING_WORDS: Final = frozenset(
    [
        "cordialement",
        "vous",
        "sincèrement",
        "sincerement",
        "salutations",
        "journée",
        "journee",
        "merci",
        "regards",
        "best",
        "sincerely",
        "thanks",
        "thank",
        "cheers",
        "yours",
    ]
)
_PARTICLES: Final = frozenset(
    {"de", "du", "des", "van", "von", "le", "la", "d'", "di", "da", "mac", "o'"}
)
_STOP_EXTRA: Final = frozenset(
    [
        "numéro",
        "numero",
        "number",
        "carte",
        "card",
        "adresse",
        "address",
        "téléphone",
        "telephone",
        "phone",
        "email",
        "mail",
        "e-mail",
        "date",
        "code",
        "compte",
        "account",
        "et",
        "and",
        "votre",
        "your",
        "mon",
        "my",
        "ma",
        "mes",
        "merci",
        "thanks",
        "née",
        "né",
        "born",
        "rue",
        "avenue",
        "street",
        "road",
        "client",
        "customer",
        "service",
        "agent",
        "conseiller",
        "conseillère",
    ]
)


def _is_stop(word: str) -> bool:
    w = word.casefold().rstrip(".")
    return w in stopwords() or w in _STOP_EXTRA


_TOKEN_CHAR: Final = re.compile(r"[\w'\u2019\-]")
_TOKEN_RUN_END: Final = re.compile(r"[\w'\u2019\-]*")


def _listed_tokens(
    text: str, lower: str, present: frozenset[str], names: frozenset[str]
) -> Iterator[re.Match[str]]:
    """The tokens of ``_NAME_TOKEN.finditer(text)`` whose folded form is a listed name.

    Instead of visiting every token, look for the listed names the text contains
    (``present``) in the lower-cased text and tokenize only the runs of word
    characters around them: a token never spans a character that is not a word
    character, an apostrophe or a hyphen, except a final ".", so a run's tokens are
    those the whole scan
    gives. Falls back to the whole scan when lower-casing moves offsets or differs
    from case folding (then a name could hide from the search).
    """
    if len(lower) != len(text) or not (text.isascii() or lower.casefold() == lower):
        for m in _NAME_TOKEN.finditer(text):
            if m.group().casefold().rstrip(".") in names:
                yield m
        return
    starts: set[int] = set()
    for name in present:
        pos = lower.find(name)
        while pos >= 0:
            starts.add(pos)
            pos = lower.find(name, pos + 1)
    done_until = -1
    for pos in sorted(starts):
        if pos < done_until:
            continue  # inside a run already tokenized
        run_start = pos
        while run_start > 0 and _TOKEN_CHAR.match(text, run_start - 1):
            run_start -= 1
        end = _TOKEN_RUN_END.match(text, pos)
        run_end = end.end() if end is not None else pos
        for m in _NAME_TOKEN.finditer(text, run_start, min(len(text), run_end + 1)):
            if m.group().casefold().rstrip(".") in names:
                yield m
        done_until = run_end + 1


# ``(?<![^\W\d_])[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]`` with the look-behind after the capital, so
# that the scan jumps between capitals (lower-case text is scanned at C speed).
_TITLECASE: Final = re.compile(r"[A-ZÀ-ÖØ-Þ](?<![^\W\d_][A-ZÀ-ÖØ-Þ])[a-zß-öø-ÿ]")


def cased(text: str) -> bool:
    """True when the text has capitalised words (so capitalisation means something).

    Speech-to-text output is lower case, except for the odd acronym ("iban").
    """
    return _TITLECASE.search(text, 0, 4000) is not None


def _may_hold_listed_name(doc: Document) -> bool:
    """False only when no word of the text can fold to a listed given name.

    After a weak trigger only a listed given name opens a name, and
    ``_names_after`` looks at that first word before anything else: a text
    without one gives no span from any weak trigger. Every listed name is letters
    joined by single hyphens or apostrophes, so a word that folds to one is a word
    of :attr:`Document.words`, when folding a word of the text is lower-casing it:
    within Latin-1, that is every character but "ß" and "µ".
    """
    if not first_names().isdisjoint(doc.words):
        return True
    text = doc.text
    return not (
        text.isascii() or (max(text) <= "\xff" and "\xdf" not in text and "\xb5" not in text)
    )


def _digit_or_address_char(line: str) -> bool:
    """Whether a word of the line has a digit or one of "@:/" (a character of a word
    is any character of the line but a space; checked in C, not per character)."""
    return "@" in line or ":" in line or "/" in line or any(map(str.isdigit, line))


@register
class PersonRecognizer(Recognizer):
    id = "person"
    entities = frozenset({Entity.PERSON})

    def find(self, doc: Document) -> Iterable[Span]:
        text = doc.text
        is_cased = cased(text)
        for m in _trigger_matches(doc, strong=True):
            yield from self._names_after(
                doc,
                m.end(),
                is_cased,
                strong=True,
                title=_TITLE_ONLY.match(m.group().strip(" .:,")) is not None,
            )
        if _may_hold_listed_name(doc):
            for m in _trigger_matches(doc, strong=False):
                yield from self._names_after(doc, m.end(), is_cased, strong=False, title=False)
        yield from self._signatures(doc, is_cased)
        yield from self._listed(doc, is_cased)
        if doc.expects(Entity.PERSON):
            yield from self._answer(doc, is_cased)

    def _tokens(self, text: str, pos: int, limit: int) -> Iterator[re.Match[str]]:
        """Name-like words from ``pos``, separated by single spaces or hyphens only."""
        count = 0
        while count < limit:
            m = _NAME_TOKEN.match(text, pos)
            if m is None:
                return
            yield m
            count += 1
            nxt = m.end()
            gap = 0
            while nxt < len(text) and text[nxt] in " \t" and gap < 2:
                nxt += 1
                gap += 1
            if nxt == m.end() or nxt >= len(text):
                return
            pos = nxt

    def _names_after(
        self, doc: Document, pos: int, cased: bool, strong: bool, title: bool
    ) -> Iterator[Span]:
        text = doc.text
        fn, amb = first_names(), ambiguous_first_names()
        if not strong:
            # After a weak trigger only a listed given name can open a name: look at
            # the first word before anything else (the common case: it is not one).
            first = _NAME_TOKEN.match(text, pos)
            if first is None or first.group().rstrip(".").casefold() not in fn:
                return
        start = end = -1
        taken = 0
        for m in self._tokens(text, pos, 4):
            word = m.group().rstrip(".")
            low = word.casefold()
            if _is_stop(word) and not (taken == 1 and low in _PARTICLES):
                break
            if "-" in low and any(_is_stop(part) for part in low.split("-")):
                break  # "rendez-vous", "pouvez-vous"
            capital = word[:1].isupper()
            if cased and not capital and not strong and low not in _PARTICLES:
                break
            # After "c'est", "this is", "hello" only a known given name opens a name.
            if (
                not strong
                and taken == 0
                and (low not in fn or (low in amb and not (cased and capital)))
            ):
                break
            if start < 0:
                start = m.start()
            end = m.start() + len(word)
            taken += 1
        if taken and text[end - 1 : end] != "'":
            span = doc.span(start, end, Entity.PERSON, 0.85 if strong else 0.7, self.id)
            if span:
                yield span
        elif title and taken == 0:
            return

    def _signatures(self, doc: Document, cased: bool) -> Iterator[Span]:
        text = doc.text
        if "\n" not in text or _CLOSING_WORDS.isdisjoint(doc.words):
            return
        for m in _CLOSING.finditer(text):
            nl = text.find("\n", m.end())
            if nl < 0:
                continue
            line_start = nl + 1
            line_end = text.find("\n", line_start)
            line = text[line_start : line_end if line_end >= 0 else len(text)]
            words = line.split()
            if not 1 <= len(words) <= 4:
                continue
            if cased and not all(w[:1].isupper() for w in words if w.casefold() not in _PARTICLES):
                continue
            if _digit_or_address_char(line):
                continue
            if any(_is_stop(w) for w in words) or _CLOSING.fullmatch(line):
                continue
            span = doc.span(
                line_start, line_start + len(line.rstrip()), Entity.PERSON, 0.8, self.id
            )
            if span:
                yield span

    def _listed(self, doc: Document, cased: bool) -> Iterator[Span]:
        """A given name from the list, with the capitalised or plain word after it."""
        text = doc.text
        fn, amb = first_names(), ambiguous_first_names()
        present = fn & doc.words
        if not present:
            return
        for m in _listed_tokens(text, doc.lower, present, fn):
            word = m.group().rstrip(".")
            low = word.casefold()
            if low not in fn:
                continue
            capital = word[:1].isupper()
            if cased and not capital:
                continue
            if low in amb and not cased:
                continue
            if low in amb and cased:
                # A capitalised ambiguous word at a sentence start proves nothing.
                before = text[max(0, m.start() - 2) : m.start()].strip()
                if m.start() == 0 or before in (".", "!", "?", ""):
                    continue
            end = m.start() + len(word)
            # Take the following surname-like word, if any.
            if text[end : end + 1] != " ":
                span = doc.span(m.start(), end, Entity.PERSON, 0.6, self.id)
                if span:
                    yield span
                continue
            for nxt in self._tokens(text, end + 1, 2):
                w2 = nxt.group().rstrip(".")
                if _is_stop(w2) or (cased and not w2[:1].isupper()):
                    break
                end = nxt.start() + len(w2)
            span = doc.span(m.start(), end, Entity.PERSON, 0.6, self.id)
            if span:
                yield span

    def _answer(self, doc: Document, cased: bool) -> Iterator[Span]:
        """The previous turn asked for a name: a short answer of name-like words is one."""
        text = doc.text.strip()
        words = text.split()
        if 1 <= len(words) <= 4 and not any(any(c.isdigit() for c in w) for w in words):
            lead = len(doc.text) - len(doc.text.lstrip())
            yield from self._names_after(doc, lead, cased, strong=True, title=False)


__all__ = ["PersonRecognizer"]
