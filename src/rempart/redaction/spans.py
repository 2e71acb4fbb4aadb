"""Spans (what was found where) and the rules that settle overlaps between them."""

from __future__ import annotations

from bisect import bisect_left
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

    Greedy by (confidence, priority, length, score): a span that overlaps a kept
    span of another label is dropped; overlapping spans of the same label are
    merged so that nothing is left out. O(n log n) plus list insertions.
    """
    if isinstance(spans, list) and len(spans) < 2:
        return list(spans)  # nothing can overlap (the commonest case)
    # Guesses (score < 0.6: a bare digit run answering a question) yield to
    # anything recognised for what it is.
    ranked = sorted(
        spans, key=lambda s: (s.score < 0.6, -priority(s.label), -s.length, -s.score, s.start)
    )
    starts: list[int] = []
    kept: list[Span] = []
    for span in ranked:
        i = bisect_left(starts, span.start)
        lo = i - 1 if i > 0 and kept[i - 1].end > span.start else i
        hi = i
        while hi < len(kept) and kept[hi].start < span.end:
            hi += 1
        if lo == hi:
            starts.insert(i, span.start)
            kept.insert(i, span)
            continue
        clashing = kept[lo:hi]
        if all(k.label == span.label for k in clashing):
            merged = Span(
                min(span.start, clashing[0].start),
                max(span.end, clashing[-1].end),
                span.label,
                max(k.score for k in [*clashing, span]),
                clashing[0].recognizer,
            )
            kept[lo:hi] = [merged]
            starts[lo:hi] = [merged.start]
    return kept


__all__ = ["Span", "priority", "resolve"]
