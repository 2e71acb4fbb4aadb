"""The engine: run the recognizers over a text, settle overlaps, apply a policy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from rempart.errors import RempartError
from rempart.redaction.context import EMPTY_CONTEXT, Context
from rempart.redaction.language import SUPPORTED, guess_language
from rempart.redaction.operators import OperatorState
from rempart.redaction.policy import DEFAULT_POLICY, Policy
from rempart.redaction.recognizers import (
    CustomPattern,
    Document,
    PatternRecognizer,
    Recognizer,
    check_unique,
    default_recognizers,
)
from rempart.redaction.spans import Span, resolve

BLOCKED_TEXT = "[REDACTION_FAILED]"


class RedactionError(RempartError):
    title = "Redaction failed"
    slug = "redaction-failed"


@dataclass(frozen=True, slots=True)
class Replacement:
    """One span of the original and what stands in its place in the redacted text."""

    span: Span
    replacement: str
    out_start: int
    out_end: int


@dataclass(frozen=True)
class Redacted:
    """The result of :func:`redact`.

    ``original`` is set only when the policy keeps it, and then must go to
    encrypted storage only. ``blocked`` means the message could not be processed
    and must not be delivered (``text`` is then a placeholder).
    """

    text: str
    lang: str
    replacements: list[Replacement] = field(default_factory=list)
    original: str | None = None
    blocked: bool = False

    @property
    def spans(self) -> list[Span]:
        return [r.span for r in self.replacements]


class Engine:
    """A fixed set of recognizers (built-in plus a tenant's custom entities)."""

    def __init__(
        self, recognizers: Iterable[Recognizer] | None = None, custom: Sequence[CustomPattern] = ()
    ) -> None:
        recs = list(default_recognizers() if recognizers is None else recognizers)
        recs.extend(PatternRecognizer(c) for c in custom)
        self.recognizers = check_unique(recs)
        # Per language, the recognizers that read it (looked up once, not per text).
        self._by_lang = {
            lang: [r for r in self.recognizers if lang in r.languages] for lang in SUPPORTED
        }

    def detect(
        self,
        text: str,
        lang: str | None = None,
        context: Context = EMPTY_CONTEXT,
        entities: frozenset[str] | None = None,
        min_score: float = 0.5,
    ) -> list[Span]:
        """Non-overlapping spans of sensitive data, sorted by start."""
        if not text or text.isspace():
            return []
        language = lang if lang in SUPPORTED else guess_language(text)
        doc = Document(text, language, context)
        found: list[Span] = []
        recs = self._by_lang.get(language)
        if recs is None:
            recs = [r for r in self.recognizers if language in r.languages]
        if entities is None:
            for rec in recs:
                found.extend([s for s in rec.find(doc) if s.score >= min_score])
        else:
            for rec in recs:
                if rec.entities & entities:
                    found.extend(
                        [s for s in rec.find(doc) if s.score >= min_score and s.label in entities]
                    )
        protected = doc.protected
        if protected and found:
            found = [s for s in found if not any(s.start < e and b < s.end for b, e in protected)]
        return resolve(found)

    def redact(
        self,
        text: str,
        lang: str | None = None,
        policy: Policy = DEFAULT_POLICY,
        context: Context = EMPTY_CONTEXT,
        state: OperatorState | None = None,
    ) -> Redacted:
        """Detect, then replace each span with its operator's output.

        With ``policy.fail_closed`` any failure gives a blocked result instead of
        an exception, so that nothing is delivered in clear.
        """
        language = lang if lang in SUPPORTED else guess_language(text or "")
        try:
            if len(text) > policy.max_chars:
                raise RedactionError(f"text longer than {policy.max_chars} characters")
            spans = self.detect(text, language, context, policy.entities, policy.min_score)
            return apply_policy(text, language, spans, policy, state or OperatorState())
        except Exception as exc:
            if policy.fail_closed:
                return Redacted(BLOCKED_TEXT, language, [], None, blocked=True)
            if isinstance(exc, RempartError):
                raise
            raise RedactionError("redaction failed") from exc


def apply_policy(
    text: str, lang: str, spans: Sequence[Span], policy: Policy, state: OperatorState
) -> Redacted:
    out: list[str] = []
    reps: list[Replacement] = []
    pos = 0
    out_len = 0
    for span in spans:
        if not policy.wants(span.label):
            continue
        value = text[span.start : span.end]
        repl = policy.operator_for(span.label).apply(span.label, value, state)
        piece = text[pos : span.start]
        out.append(piece)
        out_len += len(piece)
        out.append(repl)
        reps.append(Replacement(span, repl, out_len, out_len + len(repl)))
        out_len += len(repl)
        pos = span.end
    out.append(text[pos:])
    return Redacted("".join(out), lang, reps, text if policy.keep_original else None)


@cache
def default_engine() -> Engine:
    """The built-in recognizers, built once on first use."""
    return Engine()


def engine_for(policy: Policy) -> Engine:
    return default_engine() if not policy.custom else _custom_engine(policy.custom)


@cache
def _custom_engine(custom: tuple[CustomPattern, ...]) -> Engine:
    return Engine(custom=custom)


def detect(text: str, lang: str | None = None, context: Context = EMPTY_CONTEXT) -> list[Span]:
    """Spans of sensitive data in ``text`` (language guessed when ``lang`` is None)."""
    return default_engine().detect(text, lang, context)


def redact(
    text: str,
    lang: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    context: Context = EMPTY_CONTEXT,
    state: OperatorState | None = None,
) -> Redacted:
    """Redact ``text`` under ``policy``; see :meth:`Engine.redact`."""
    return engine_for(policy).redact(text, lang, policy, context, state)


__all__ = [
    "BLOCKED_TEXT",
    "Engine",
    "Redacted",
    "RedactionError",
    "Replacement",
    "apply_policy",
    "default_engine",
    "detect",
    "engine_for",
    "redact",
]
