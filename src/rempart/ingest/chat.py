"""In-flight chat redaction: one ``ConversationRedactor`` per live conversation, in memory.

State (the last agent turn, trailing digit runs, surrogate numbering) is kept
per (tenant, conversation) in a bounded LRU with an idle TTL. It is per
process: with several API processes, route a conversation to one process
(sticky load balancing on the conversation id) or keep the state in a shared
store; a process that has no state for a conversation still redacts each
message alone, it only cannot join a number split across messages.

Fail-closed or fail-open is the tenant's choice: closed withholds a message
that could not be redacted (placeholder text, ``blocked``), open passes it
through unredacted and says so. Nothing of a message's text is kept beyond
the redactor's bounded state, nor logged.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from rempart.contact.policy import DataPolicy
from rempart.ingest.errors import ChatMessageReused
from rempart.logs import get_logger
from rempart.redaction import Policy
from rempart.redaction.engine import BLOCKED_TEXT
from rempart.redaction.stream import ConversationRedactor, Role
from rempart.types import TenantId

log = get_logger("rempart.chat")

Outcome = Literal["redacted", "blocked", "unredacted"]
# Messages of a conversation whose answer is kept, so a retried message is not redacted twice.
REMEMBERED_MESSAGES = 32


@dataclass(frozen=True, slots=True)
class AmendedSpan:
    """Characters [start, end) of an earlier message turned out to be sensitive."""

    message_id: str
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class ChatResult:
    message_id: str
    text: str
    outcome: Outcome
    labels: tuple[str, ...] = ()
    amendments: tuple[AmendedSpan, ...] = ()


@dataclass
class _Conversation:
    redactor: ConversationRedactor
    last_used: datetime
    lock: threading.Lock = field(default_factory=threading.Lock)
    answered: OrderedDict[str, tuple[bytes, ChatResult]] = field(default_factory=OrderedDict)


def chat_policy(policy: DataPolicy) -> Policy:
    """The tenant's redaction policy, failing the way the tenant chose for chats."""
    return replace(policy.redaction_policy(), fail_closed=policy.chat_failure == "closed")


class ChatSessions:
    """Per-conversation redaction state, bounded in number and in idle time; thread-safe."""

    def __init__(
        self, max_conversations: int = 10_000, idle_ttl: timedelta = timedelta(minutes=30)
    ) -> None:
        if max_conversations < 1:
            raise ValueError("max_conversations must be positive")
        self.max_conversations = max_conversations
        self.idle_ttl = idle_ttl
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[TenantId, str], _Conversation] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def _checkout(
        self, key: tuple[TenantId, str], policy: Policy, lang: str | None, now: datetime
    ) -> _Conversation:
        with self._lock:
            self._expire(now)
            conv = self._items.get(key)
            if conv is None or conv.redactor.policy != policy:
                # New, or the tenant changed its policy: start over with the new one.
                conv = _Conversation(ConversationRedactor(policy, lang=lang), now)
                self._items[key] = conv
            conv.last_used = now
            self._items.move_to_end(key)
            while len(self._items) > self.max_conversations:
                self._items.popitem(last=False)
            return conv

    def _expire(self, now: datetime) -> None:
        # Oldest first: stop at the first conversation still within its idle TTL.
        while self._items:
            key, conv = next(iter(self._items.items()))
            if now - conv.last_used < self.idle_ttl:
                break
            del self._items[key]

    def forget(self, tenant: TenantId, conversation_id: str) -> bool:
        with self._lock:
            return self._items.pop((tenant, conversation_id), None) is not None

    def redact(
        self,
        tenant: TenantId,
        conversation_id: str,
        policy: Policy,
        *,
        message_id: str,
        role: Role,
        text: str,
        lang: str | None,
        now: datetime,
    ) -> ChatResult:
        """Redact the next message of a conversation (in the order the caller sends them)."""
        conv = self._checkout((tenant, conversation_id), policy, lang, now)
        digest = hashlib.sha256(f"{role}\x00{text}".encode()).digest()
        with conv.lock:
            seen = conv.answered.get(message_id)
            if seen is not None:
                if seen[0] != digest:
                    raise ChatMessageReused("this message id was sent with other text")
                return seen[1]
            result = self._push(conv.redactor, text, role, message_id)
            conv.answered[message_id] = (digest, result)
            while len(conv.answered) > REMEMBERED_MESSAGES:
                conv.answered.popitem(last=False)
            return result

    @staticmethod
    def _push(redactor: ConversationRedactor, text: str, role: Role, message_id: str) -> ChatResult:
        try:
            out = redactor.push(text, role, message_id)
        except Exception as exc:  # noqa: BLE001 - fail-open: any failure passes the text
            # Only a fail-open policy lets the redactor raise; the text passes unredacted.
            log.warning("chat message passed unredacted", error_type=type(exc).__name__)
            return ChatResult(message_id, text, "unredacted")
        if out.redacted.blocked:
            return ChatResult(message_id, BLOCKED_TEXT, "blocked")
        labels = tuple(sorted({r.span.label for r in out.redacted.replacements}))
        amendments = tuple(
            AmendedSpan(a.message_id, a.span.start, a.span.end, a.span.label)
            for a in out.amendments
        )
        return ChatResult(message_id, out.redacted.text, "redacted", labels, amendments)


__all__ = [
    "REMEMBERED_MESSAGES",
    "AmendedSpan",
    "ChatResult",
    "ChatSessions",
    "Outcome",
    "chat_policy",
]
