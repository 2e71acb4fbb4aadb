"""Protection on ingest, the text part: redact a whole interaction, in order, fail-closed.

A transcript is redacted turn by turn with the streaming redactor, so the
agent's question raises confidence in the customer's answer and a number
spoken or typed over several turns is joined before validation; when a later
turn reveals that digits of an earlier one were part of a number, the earlier
turn is redacted again with that span. Word timings map each sensitive span
to the audio to silence in the recording's redacted rendition.

Nothing here touches keys or the database: ``rempart.contact.service`` seals
the results with the vault and stores them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rempart.contact.schemas import InteractionIn, SegmentIn, Speaker
from rempart.errors import RempartError, ValidationFailed
from rempart.redaction import Policy, Redacted, Span
from rempart.redaction.engine import apply_policy, engine_for
from rempart.redaction.operators import OperatorState, SurrogateMap
from rempart.redaction.spans import resolve
from rempart.redaction.stream import ConversationRedactor, Role

# Audio kept silent around a sensitive word, on each side (ms).
SILENCE_PADDING_MS = 100


class ProtectionFailed(RempartError):
    """The interaction could not be redacted; it is stored nowhere."""

    status = 422
    title = "Interaction could not be protected"
    slug = "protection-failed"


class ProtectionUnavailable(RempartError):
    """Protection cannot run at all (no vault): refuse rather than store in clear."""

    status = 503
    title = "Protection unavailable"
    slug = "protection-unavailable"


@dataclass(frozen=True, slots=True)
class ProtectedText:
    redacted: str
    original: str
    entities: dict[str, int]


@dataclass(frozen=True, slots=True)
class ProtectedContent:
    segments: list[ProtectedText]
    subject: ProtectedText | None
    silence_ms: list[list[int]]
    language: str | None

    @property
    def entity_counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for seg in self.segments:
            total.update(seg.entities)
        if self.subject is not None:
            total.update(self.subject.entities)
        return dict(total)


_ROLE: dict[Speaker, Role] = {
    "agent": "agent",
    "ivr": "agent",  # an IVR prompt asks like an agent does
    "bot": "agent",
    "customer": "customer",
    "system": "unknown",
}


def protect_content(payload: InteractionIn, policy: Policy) -> ProtectedContent:
    """Redact every text of ``payload`` under ``policy``; raise if anything fails."""
    if not policy.fail_closed:
        raise ValueError("protection on ingest needs a fail-closed policy")
    lang = payload.language.split("-")[0] if payload.language else None
    redactor = ConversationRedactor(
        policy, lang=lang, state=OperatorState(surrogates=SurrogateMap())
    )
    results: list[Redacted] = []
    spans: list[list[Span]] = []
    for i, seg in enumerate(payload.segments):
        out = redactor.push(seg.text, _ROLE[seg.speaker], str(i))
        if out.redacted.blocked:
            raise ProtectionFailed(f"segments[{i}] could not be redacted; nothing was stored")
        results.append(out.redacted)
        spans.append(list(out.redacted.spans))
        for amendment in out.amendments:
            j = int(amendment.message_id)
            spans[j] = resolve([*spans[j], amendment.span])
            earlier = payload.segments[j].text
            results[j] = apply_policy(earlier, results[j].lang, spans[j], policy, redactor.state)
    segments = [
        ProtectedText(r.text, seg.text, _count(r))
        for r, seg in zip(results, payload.segments, strict=True)
    ]
    subject = None
    if payload.subject:
        subject = _redact_one(payload.subject, lang, policy, redactor.state)
    silence = silence_ranges(payload.segments, spans)
    return ProtectedContent(segments, subject, silence, lang)


def _redact_one(text: str, lang: str | None, policy: Policy, state: OperatorState) -> ProtectedText:
    result = engine_for(policy).redact(text, lang, policy, state=state)
    if result.blocked:
        raise ProtectionFailed("the subject could not be redacted; nothing was stored")
    return ProtectedText(result.text, text, _count(result))


def _count(result: Redacted) -> dict[str, int]:
    return dict(Counter(r.span.label for r in result.replacements))


def silence_ranges(
    segments: Sequence[SegmentIn], spans: Sequence[Sequence[Span]]
) -> list[list[int]]:
    """Audio ranges (ms from the call's start) covering every sensitive span, merged.

    With word timings, the words a span touches (padded); without them, the
    whole timed segment, since there is no finer way to be sure.
    """
    ranges: list[tuple[int, int]] = []
    for i, (seg, found) in enumerate(zip(segments, spans, strict=True)):
        if not found or seg.start_ms is None or seg.end_ms is None:
            continue
        if not seg.words:
            ranges.append((seg.start_ms, seg.end_ms))
            continue
        offsets = word_offsets(seg, i)
        for span in found:
            for (start, end), word in zip(offsets, seg.words, strict=True):
                if start < span.end and span.start < end:
                    ranges.append(
                        (
                            max(0, word.start_ms - SILENCE_PADDING_MS),
                            word.end_ms + SILENCE_PADDING_MS,
                        )
                    )
    return [list(r) for r in _merge(ranges)]


def word_offsets(seg: SegmentIn, index: int) -> list[tuple[int, int]]:
    """Character range of each timed word in the segment's text, found in order."""
    offsets: list[tuple[int, int]] = []
    pos = 0
    text = seg.text
    for k, word in enumerate(seg.words or ()):
        at = text.find(word.text, pos)
        if at < 0:
            raise ValidationFailed(
                f"segments[{index}].words[{k}] does not appear in the segment's text in order"
            )
        offsets.append((at, at + len(word.text)))
        pos = at + len(word.text)
    return offsets


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


__all__ = [
    "SILENCE_PADDING_MS",
    "ProtectedContent",
    "ProtectedText",
    "ProtectionFailed",
    "ProtectionUnavailable",
    "protect_content",
    "silence_ranges",
    "word_offsets",
]
