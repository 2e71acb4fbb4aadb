"""In-flight chat redaction over HTTP: split numbers amended, fail modes, no text kept."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.audit import AuditRecord
from rempart.contact.policy import DataPolicy, save_policy
from rempart.ingest import IngestConfig
from rempart.logs import configure_logging
from rempart.storage import Database
from tests.api.conftest import Caller, MutableClock, issue
from tests.ingest.support import build_client

REDACT = "/api/v1/chat/redact"
PAN_START, PAN_END = "4970 1012", "3456 7893"
LONG = "ma carte est la 4970 1012 3456 7893, expire fin 2029, merci beaucoup"


@pytest.fixture
def api(db: Database, tmp_path: Path, clock: MutableClock) -> Iterator[TestClient]:
    # The chat endpoint needs no vault: nothing is stored but the audit record.
    with build_client(db, tmp_path, clock, None) as c:
        yield c


@pytest.fixture
def bot(db: Database, alice: Caller, clock: MutableClock) -> Caller:
    return issue(db, alice.ctx, scopes=["chat:redact"], clock=clock)


def say(api: TestClient, who: Caller, text: str, mid: str, **extra: Any) -> Any:
    body = {"conversation_id": "conv-1", "message_id": mid, "role": "customer", "text": text}
    r = api.post(REDACT, json={**body, **extra}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def set_policy(db: Database, caller: Caller, policy: DataPolicy, clock: MutableClock) -> None:
    with db.tenant_session(caller.ctx) as s:
        save_policy(s, policy, actor="test", now=clock())


def test_a_card_number_split_across_two_messages_is_redacted_and_amended(
    api: TestClient, bot: Caller
) -> None:
    agent = say(api, bot, "Quel est votre numéro de carte ?", "m0", role="agent")
    assert agent["status"] == "redacted"
    assert agent["entities"] == []
    first = say(api, bot, f"c'est {PAN_START}", "m1")
    second = say(api, bot, PAN_END, "m2")
    assert PAN_END not in second["text"]
    assert second["status"] == "redacted"
    assert second["entities"] == ["CARD_NUMBER"]
    [amend] = second["amendments"]
    assert amend["message_id"] == "m1"
    assert amend["label"] == "CARD_NUMBER"
    assert f"c'est {PAN_START}"[amend["start"] : amend["end"]] == PAN_START
    assert first["message_id"] == "m1"


def test_a_whole_card_number_in_one_message_is_redacted(api: TestClient, bot: Caller) -> None:
    out = say(api, bot, "ma carte 4970 1012 3456 7893", "m1", language="fr")
    assert "4970" not in out["text"]
    assert out["entities"] == ["CARD_NUMBER"]
    assert out["amendments"] == []


def test_conversations_are_kept_apart_per_tenant(
    api: TestClient, bot: Caller, db: Database, bob: Caller, clock: MutableClock
) -> None:
    bobs = issue(db, bob.ctx, scopes=["chat:redact"], clock=clock)
    say(api, bot, f"ma carte {PAN_START}", "m1")
    out = say(api, bobs, PAN_END, "m2")  # same conversation id, another tenant
    assert out["amendments"] == []


def test_state_expires_after_the_idle_ttl(
    db: Database, tmp_path: Path, clock: MutableClock, bot: Caller
) -> None:
    config = IngestConfig(chat_idle_ttl=timedelta(minutes=5))
    with build_client(db, tmp_path, clock, None, config) as c:
        say(c, bot, f"ma carte {PAN_START}", "m1")
        clock.advance(timedelta(minutes=5))
        assert say(c, bot, PAN_END, "m2")["amendments"] == []


def test_fail_closed_withholds_the_message(
    api: TestClient, bot: Caller, db: Database, clock: MutableClock
) -> None:
    set_policy(db, bot, DataPolicy(chat_failure="closed", redaction={"max_chars": 30}), clock)
    out = say(api, bot, LONG, "m1")
    assert out["status"] == "blocked"
    assert "4970" not in out["text"]
    assert out["text"] == "[REDACTION_FAILED]"


def test_fail_open_passes_the_message_through_and_says_so(
    api: TestClient, bot: Caller, db: Database, clock: MutableClock
) -> None:
    set_policy(db, bot, DataPolicy(chat_failure="open", redaction={"max_chars": 30}), clock)
    out = say(api, bot, LONG, "m1")
    assert out["status"] == "unredacted"
    assert out["text"] == LONG
    # Short messages are still redacted under the same policy.
    assert say(api, bot, "4970101234567893", "m2")["status"] == "redacted"


def test_a_policy_that_does_not_choose_fails_closed(
    api: TestClient, bot: Caller, db: Database, clock: MutableClock
) -> None:
    set_policy(db, bot, DataPolicy(redaction={"max_chars": 30}), clock)
    assert say(api, bot, LONG, "m1")["status"] == "blocked"


def test_a_retried_message_is_answered_the_same_and_a_reused_id_is_a_409(
    api: TestClient, bot: Caller
) -> None:
    one = say(api, bot, f"ma carte {PAN_START}", "m1")
    assert say(api, bot, f"ma carte {PAN_START}", "m1") == one
    r = api.post(
        REDACT,
        json={"conversation_id": "conv-1", "message_id": "m1", "role": "customer", "text": "x"},
        headers=bot.headers,
    )
    assert r.status_code == 409
    assert r.json()["type"] == "urn:rempart:problem:chat-message-reused"


def test_the_audit_record_has_counts_and_labels_never_text(
    api: TestClient, bot: Caller, db: Database
) -> None:
    say(api, bot, f"ma carte {PAN_START}", "m1")
    say(api, bot, PAN_END, "m2")
    with db.tenant_session(bot.ctx) as s:
        rows = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    assert [r.action for r in rows] == ["chat.redact", "chat.redact"]
    assert rows[1].resource_id == "m2"
    assert rows[1].details["entities"] == ["CARD_NUMBER"]
    assert rows[1].details["amendments"] == 1
    everything = " ".join(f"{r.details} {r.entry}" for r in rows)
    for digits in ("4970", "1012", "3456", "7893", "ma carte"):
        assert digits not in everything


def test_logs_never_carry_the_message_text(api: TestClient, bot: Caller, db: Database) -> None:
    buf = io.StringIO()
    configure_logging("debug", "json", stream=buf)
    try:
        say(api, bot, "ma carte 4970 1012 3456 7893", "m1")
        api.post(REDACT, json={"text": "4970 1012 3456 7893", "oops": 1}, headers=bot.headers)
    finally:
        configure_logging("info", "json")
    assert "4970" not in buf.getvalue()
    assert '"event": "request"' in buf.getvalue() or '"event":"request"' in buf.getvalue()


def test_the_chat_scope_is_required(api: TestClient, alice: Caller) -> None:
    body = {"conversation_id": "c", "message_id": "m", "role": "customer", "text": "hi"}
    r = api.post(REDACT, json=body, headers=alice.headers)  # interaction scopes only
    assert r.status_code == 403
    assert r.json()["required_scope"] == "chat:redact"


@pytest.mark.parametrize(
    "bad",
    [
        {"role": "supervisor"},
        {"text": "x" * 20_001},
        {"text": "nul\x00byte"},
        {"conversation_id": "has space"},
        {"language": "French"},
        {"extra": 1},
    ],
)
def test_schema_violations_are_422(api: TestClient, bot: Caller, bad: dict[str, Any]) -> None:
    body = {"conversation_id": "c", "message_id": "m", "role": "customer", "text": "hi", **bad}
    r = api.post(REDACT, json=body, headers=bot.headers)
    assert r.status_code == 422
    assert "x" * 100 not in r.text


def test_the_openapi_document_describes_the_chat_endpoint(api: TestClient) -> None:
    doc = api.get("/api/v1/openapi.json").json()
    op = doc["paths"][REDACT]["post"]
    assert op["x-rempart-scope"] == "chat:redact"
    schemas = doc["components"]["schemas"]
    assert schemas["ChatMessageIn"]["additionalProperties"] is False
    assert set(schemas["ChatMessageIn"]["required"]) == {
        "conversation_id",
        "message_id",
        "role",
        "text",
    }
    assert set(schemas["ChatMessageOut"]["properties"]["status"]["enum"]) == {
        "redacted",
        "blocked",
        "unredacted",
    }
