"""Incremental redaction of a live chat or transcript, one message at a time.

Keeps only what it needs, in bounded memory: the last agent turn (to know what the
customer is answering), the trailing digit runs of the last few messages (a card
number typed over several messages is joined and validated), and the
conversation's surrogate numbering. When a joined number reveals that digits of an
earlier message were part of it, the result carries an amendment for that message.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Final, Literal

from rempart.redaction.context import EMPTY_CONTEXT, Context
from rempart.redaction.engine import BLOCKED_TEXT, Engine, Redacted, apply_policy, engine_for
from rempart.redaction.entities import Entity
from rempart.redaction.language import SUPPORTED, guess_language
from rempart.redaction.operators import OperatorState, SurrogateMap
from rempart.redaction.policy import DEFAULT_POLICY, Policy
from rempart.redaction.spans import Span, resolve

Role = Literal["agent", "customer", "unknown"]
_LEADING_RUN: Final = re.compile(r"^\s*(\d(?:[ .\-]?\d)*)")
_TRAILING_RUN: Final = re.compile(r"(\d(?:[ .\-]?\d)*)\s*$")
_JOINABLE: Final = frozenset({Entity.CARD_NUMBER, Entity.IBAN, Entity.PHONE, Entity.NATIONAL_ID})


@dataclass(frozen=True, slots=True)
class Amendment:
    """A span of an earlier message that turned out to be sensitive."""

    message_id: str
    span: Span


@dataclass(frozen=True)
class StreamResult:
    message_id: str
    redacted: Redacted
    amendments: list[Amendment] = field(default_factory=list)


@dataclass(slots=True)
class _Pending:
    message_id: str
    start: int  # offsets of the trailing digit run in that message
    end: int
    digits: str


class ConversationRedactor:
    """Redacts the messages of one conversation in order; bounded state."""

    def __init__(
        self,
        policy: Policy = DEFAULT_POLICY,
        lang: str | None = None,
        engine: Engine | None = None,
        state: OperatorState | None = None,
        max_pending: int = 4,
        max_pending_digits: int = 40,
    ) -> None:
        self.policy = policy
        self.lang = lang if lang in SUPPORTED else None
        self.engine = engine or engine_for(policy)
        self.state = state or OperatorState(surrogates=SurrogateMap())
        if self.state.surrogates is None:
            self.state.surrogates = SurrogateMap()
        self.max_pending_digits = max_pending_digits
        self._pending: deque[_Pending] = deque(maxlen=max_pending)
        self._context: Context = EMPTY_CONTEXT
        self._count = 0

    def push(
        self, text: str, role: Role = "customer", message_id: str | None = None
    ) -> StreamResult:
        """Redact one message; never raises when the policy is fail-closed."""
        self._count += 1
        mid = message_id if message_id is not None else str(self._count)
        lang = self.lang or guess_language(text)
        try:
            return self._push(text, role, mid, lang)
        except Exception:
            self._pending.clear()
            if self.policy.fail_closed:
                return StreamResult(mid, Redacted(BLOCKED_TEXT, lang, blocked=True))
            raise

    def _push(self, text: str, role: Role, mid: str, lang: str) -> StreamResult:
        if len(text) > self.policy.max_chars:
            raise ValueError("message too long")
        context = self._context if role != "agent" else EMPTY_CONTEXT
        spans = self.engine.detect(text, lang, context, self.policy.entities, self.policy.min_score)
        amendments: list[Amendment] = []
        if role != "agent":
            extra, amendments = self._join(text, lang, context, spans)
            if extra:
                spans = resolve([*spans, *extra])
        redacted = apply_policy(text, lang, spans, self.policy, self.state)
        # What the next message answers: the agent's question, or the same
        # expectation while the customer keeps giving digits.
        if role == "agent":
            self._context = Context.from_turn(text)
            self._pending.clear()
        elif not self._remember(mid, text, spans):
            self._context = EMPTY_CONTEXT
        return StreamResult(mid, redacted, amendments)

    def _remember(self, mid: str, text: str, spans: list[Span]) -> bool:
        """Keep the trailing digit run if it was not fully recognised; True if kept."""
        m = _TRAILING_RUN.search(text)
        if m is None:
            self._pending.clear()
            return False
        start, end = m.span(1)
        digits = re.sub(r"\D", "", m.group(1))
        if any(s.start <= start and s.end >= end and s.score >= 0.8 for s in spans):
            self._pending.clear()
            return False
        if m.start(1) > 0 and text[: m.start(1)].strip():
            self._pending.clear()  # digits after other words start a new number
        self._pending.append(_Pending(mid, start, end, digits))
        while sum(len(p.digits) for p in self._pending) > self.max_pending_digits:
            self._pending.popleft()
        return True

    def _join(
        self, text: str, lang: str, context: Context, spans: list[Span]
    ) -> tuple[list[Span], list[Amendment]]:
        if not self._pending:
            return [], []
        m = _LEADING_RUN.match(text)
        if m is None:
            return [], []
        # Join the pending runs and this message's leading run with single spaces.
        # (message id or None for this one, start, end, joined start, joined end)
        pieces: list[tuple[str | None, int, int, int, int]] = []
        joined = ""
        for p in self._pending:
            pieces.append((p.message_id, p.start, p.end, len(joined), len(joined) + len(p.digits)))
            joined += p.digits + " "
        lead_start, lead_end = m.span(1)
        lead_digits = re.sub(r"\D", "", m.group(1))
        pieces.append((None, lead_start, lead_end, len(joined), len(joined) + len(lead_digits)))
        joined += lead_digits
        entities = _JOINABLE if self.policy.entities is None else (_JOINABLE & self.policy.entities)
        found = self.engine.detect(joined, lang, context, frozenset(entities), 0.8)
        extra: list[Span] = []
        amendments: list[Amendment] = []
        for span in found:
            touched = [pc for pc in pieces if span.start < pc[4] and pc[3] < span.end]
            if len(touched) < 2:
                continue  # not a joined number; the message's own detection has it
            for pmid, start, end, _, _ in touched:
                piece_span = Span(start, end, span.label, span.score, "stream_join")
                if pmid is None:
                    extra.append(piece_span)
                else:
                    amendments.append(Amendment(pmid, piece_span))
        if extra or amendments:
            self._pending.clear()
        return extra, amendments


__all__ = ["Amendment", "ConversationRedactor", "Role", "StreamResult"]
