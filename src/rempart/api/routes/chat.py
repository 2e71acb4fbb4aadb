"""In-flight chat redaction: a chat platform sends each message, gets it back redacted.

The conversation's state lives in this process (``rempart.ingest.chat``); see
docs/ingestion.md for running several processes. The audit record of each
message carries counts and entity labels, never its text.
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rempart.api.auditing import audited_request
from rempart.api.deps import Ctx, Principal, require_json, scoped
from rempart.api.idempotency import ingest_config
from rempart.api.problems import ERROR_RESPONSES
from rempart.contact.policy import load_policy
from rempart.contact.schemas import ExternalId, Language, NoNul
from rempart.identity.scopes import Scope
from rempart.ingest.chat import ChatSessions, Outcome, chat_policy
from rempart.types import TenantId

router = APIRouter(prefix="/chat", tags=["chat"], responses=ERROR_RESPONSES)

MAX_CHAT_CHARS = 20_000
_sessions_lock = threading.Lock()


class ChatMessageIn(BaseModel):
    """One chat message, in conversation order."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: ExternalId
    message_id: ExternalId
    role: Literal["agent", "customer"]
    text: Annotated[str, StringConstraints(max_length=MAX_CHAT_CHARS), NoNul]
    language: Language | None = None


class AmendmentOut(BaseModel):
    """Characters [start, end) of an earlier message (its text as sent) to redact now."""

    message_id: str
    start: int
    end: int
    label: str


class ChatMessageOut(BaseModel):
    conversation_id: str
    message_id: str
    text: str = Field(description="The message to deliver (a placeholder when blocked)")
    status: Outcome = Field(
        description="redacted; blocked (could not be redacted, tenant fails closed: do not "
        "deliver the original); unredacted (could not be redacted, tenant fails open: the "
        "text is the original)"
    )
    entities: list[str] = Field(description="Labels of what was redacted in this message")
    amendments: list[AmendmentOut] = Field(
        description="Earlier messages found sensitive now (a number split across messages)"
    )


def get_chat_sessions(request: Request, ctx: Ctx) -> ChatSessions:
    """The process's conversation states (built on first use, bounded by the config)."""
    found: ChatSessions | None = getattr(request.app.state, "chat_sessions", None)
    if found is None:
        with _sessions_lock:
            found = getattr(request.app.state, "chat_sessions", None)
            if found is None:
                config = ingest_config(request.app.state)
                found = ChatSessions(config.chat_max_conversations, config.chat_idle_ttl)
                request.app.state.chat_sessions = found
    return found


@router.post(
    "/redact",
    response_model=ChatMessageOut,
    summary="Redact one chat message in flight (fails open or closed per tenant)",
    **scoped(Scope.CHAT_REDACT),
)
def redact_message(
    payload: ChatMessageIn,
    request: Request,
    ctx: Ctx,
    principal: Principal,
    sessions: Annotated[ChatSessions, Depends(get_chat_sessions)],
    _json: Annotated[None, Depends(require_json)],
) -> ChatMessageOut:
    with audited_request(
        request,
        ctx,
        principal,
        action="chat.redact",
        resource_type="chat_message",
        resource_id=payload.message_id,
    ) as (session, note):
        policy = chat_policy(load_policy(session))
        result = sessions.redact(
            TenantId(principal.tenant_id),
            payload.conversation_id,
            policy,
            message_id=payload.message_id,
            role=payload.role,
            text=payload.text,
            lang=payload.language,
            now=ctx.clock(),
        )
        # Counts and labels only: the text never reaches the audit log.
        note.details.update(
            conversation_id=payload.conversation_id,
            role=payload.role,
            outcome=result.outcome,
            entities=list(result.labels),
            amendments=len(result.amendments),
        )
    return ChatMessageOut(
        conversation_id=payload.conversation_id,
        message_id=result.message_id,
        text=result.text,
        status=result.outcome,
        entities=list(result.labels),
        amendments=[
            AmendmentOut(message_id=a.message_id, start=a.start, end=a.end, label=a.label)
            for a in result.amendments
        ],
    )


__all__ = ["ChatMessageIn", "ChatMessageOut", "get_chat_sessions", "router"]
