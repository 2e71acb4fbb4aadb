"""Conversation state for in-flight chat: joined numbers, bounded memory, fail modes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from rempart.contact.policy import DataPolicy
from rempart.ingest import ChatMessageReused, ChatResult, ChatSessions, chat_policy
from rempart.redaction import Policy
from rempart.redaction.stream import Role
from rempart.types import TenantId
from tests.ingest.conftest import NOW

A = TenantId("00000000-0000-4000-8000-00000000000a")
B = TenantId("00000000-0000-4000-8000-00000000000b")
POLICY = chat_policy(DataPolicy())


def _say(
    sessions: ChatSessions,
    text: str,
    mid: str,
    *,
    tenant: TenantId = A,
    conv: str = "c-1",
    role: Role = "customer",
    policy: Policy = POLICY,
    now: datetime = NOW,
) -> ChatResult:
    return sessions.redact(
        tenant, conv, policy, message_id=mid, role=role, text=text, lang="fr", now=now
    )


def test_a_card_number_split_across_messages_is_redacted_with_an_amendment() -> None:
    sessions = ChatSessions()
    first = _say(sessions, "ma carte 4970 1012", "m1")
    second = _say(sessions, "3456 7893", "m2")
    assert "3456" not in second.text
    assert "7893" not in second.text
    assert second.labels == ("CARD_NUMBER",)
    assert [(a.message_id, a.label) for a in second.amendments] == [("m1", "CARD_NUMBER")]
    amended = second.amendments[0]
    assert "ma carte 4970 1012"[amended.start : amended.end] == "4970 1012"
    assert first.outcome == second.outcome == "redacted"


def test_conversations_do_not_share_state_across_tenants_or_ids() -> None:
    sessions = ChatSessions()
    _say(sessions, "ma carte 4970 1012", "m1", tenant=A)
    other_tenant = _say(sessions, "3456 7893", "m2", tenant=B)
    other_conv = _say(sessions, "3456 7893", "m2", conv="c-2")
    assert other_tenant.amendments == ()
    assert other_conv.amendments == ()


def test_state_is_forgotten_after_the_idle_ttl() -> None:
    sessions = ChatSessions(idle_ttl=timedelta(minutes=30))
    _say(sessions, "ma carte 4970 1012", "m1")
    late = _say(sessions, "3456 7893", "m2", now=NOW + timedelta(minutes=30))
    assert late.amendments == ()
    assert len(sessions) == 1  # the new state of the same conversation


def test_the_number_of_conversations_is_bounded_least_recently_used_first() -> None:
    sessions = ChatSessions(max_conversations=2)
    _say(sessions, "bonjour", "m1", conv="c-1")
    _say(sessions, "bonjour", "m1", conv="c-2")
    _say(sessions, "encore", "m2", conv="c-1")  # c-1 used last
    _say(sessions, "bonjour", "m1", conv="c-3")
    assert len(sessions) == 2
    assert (A, "c-1") in sessions
    assert (A, "c-2") not in sessions
    assert (A, "c-3") in sessions


def test_a_retried_message_gets_the_same_answer_and_does_not_advance_the_state() -> None:
    sessions = ChatSessions()
    one = _say(sessions, "ma carte 4970 1012", "m1")
    assert _say(sessions, "ma carte 4970 1012", "m1") == one
    second = _say(sessions, "3456 7893", "m2")
    assert len(second.amendments) == 1
    with pytest.raises(ChatMessageReused):
        _say(sessions, "autre chose", "m1")


def test_fail_closed_withholds_a_message_that_cannot_be_redacted() -> None:
    closed = replace(POLICY, max_chars=20, fail_closed=True)
    result = _say(ChatSessions(), "ma carte 4970 1012 3456 7893 merci", "m1", policy=closed)
    assert result.outcome == "blocked"
    assert "4970" not in result.text


def test_fail_open_passes_a_message_that_cannot_be_redacted_and_says_so() -> None:
    opened = chat_policy(DataPolicy(chat_failure="open", redaction={"max_chars": 20}))
    assert opened.fail_closed is False
    text = "ma carte 4970 1012 3456 7893 merci"
    result = _say(ChatSessions(), text, "m1", policy=opened)
    assert result.outcome == "unredacted"
    assert result.text == text


def test_the_default_tenant_policy_fails_closed() -> None:
    assert POLICY.fail_closed is True
