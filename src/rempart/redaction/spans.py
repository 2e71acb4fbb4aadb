"""Spans (what was found where) and the rules that settle overlaps between them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A half-open range ``[start, end)`` of character offsets into the original text."""

    start: int
    end: int
    label: str
    score: float = field(default=1.0, compare=False)
    recognizer: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def as_list(self) -> list[int | str]:
        """The ``[start, end, label]`` form of the JSONL detection output."""
        return [self.start, self.end, self.label]


# When two spans overlap, the one with the higher priority wins; ties go to the
# longer span, then the higher score. Validated numbers beat names and dates.
_PRIORITY: dict[str, int] = {
    "CARD_NUMBER": 90,
    "IBAN": 90,
    "NATIONAL_ID": 85,
    "EMAIL": 80,
    "IP_ADDRESS": 75,
    "PHONE": 70,
    "CARD_EXPIRY": 60,
    "CARD_CVV": 55,
    "PIN_OR_SECRET": 55,
    "DATE_OF_BIRTH": 50,
    "ADDRESS": 45,
    "PERSON": 40,
}
_CUSTOM_PRIORITY = 65


def priority(label: str) -> int:
    return _PRIORITY.get(label, _CUSTOM_PRIORITY)


def resolve(spans: Iterable[Span]) -> list[Span]:
    """Keep a set of non-overlapping spans, sorted by start.

    Greedy by (priority, length, score); a span that overlaps a kept one is
    dropped, except that a lower-priority span sticking out of a kept one is
    trimmed to what lies outside when that remainder is still most of it
    (a name that runs into an e-mail keeps its own part).
    """
    # Guesses (score < 0.6: a bare digit run answering a question) yield to
    # anything recognised for what it is.
    ranked = sorted(spans, key=lambda s: (s.score < 0.6, -priority(s.label), -s.length,
                                          -s.score, s.start))
    kept: list[Span] = []
    for span in ranked:
        if not any(span.overlaps(k) for k in kept):
            kept.append(span)
            continue
        # Containment of a bigger lower-priority span (ADDRESS around a postcode
        # mistaken for something else) is settled by priority above; partial
        # overlaps of same-label spans are merged so that nothing is left out.
        for i, k in enumerate(kept):
            if k.label == span.label and span.overlaps(k):
                kept[i] = Span(
                    min(k.start, span.start),
                    max(k.end, span.end),
                    k.label,
                    max(k.score, span.score),
                    k.recognizer,
                )
                break
    kept.sort()
    # Merging may have made two kept spans of the same label overlap.
    out: list[Span] = []
    for s in kept:
        if out and s.start < out[-1].end:
            last = out[-1]
            if priority(s.label) > priority(last.label):
                out[-1] = s
            elif s.end > last.end and s.label == last.label:
                out[-1] = Span(last.start, s.end, last.label, last.score, last.recognizer)
            continue
        out.append(s)
    return out


__all__ = ["Span", "priority", "resolve"]
