"""The agent's view in real time: server-sent events while the caller types."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.audit.models import AuditRecord
from rempart.storage import Database
from tests.api.conftest import MutableClock
from tests.contact.payments.conftest import (
    CAPTURES,
    PAN,
    Flow,
    enter_card,
    keys,
    open_capture,
    push_call,
)


def _events(body: str) -> list[dict[str, Any]]:
    out = []
    for block in body.split("\n\n"):
        lines = block.splitlines()
        if "event: progress" in lines:
            data = next(line for line in lines if line.startswith("data: "))
            out.append(json.loads(data.removeprefix("data: ")))
    return out


def test_the_stream_of_a_finished_capture_sends_its_state_and_ends(
    client: TestClient, alice: Flow
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    enter_card(client, alice, capture)
    client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    r = client.get(f"{CAPTURES}/{capture}/events", headers=alice.agent.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-store"
    (event,) = _events(r.text)
    assert event["status"] == "completed"
    assert event["pan"]["masked"] == "**** **** **** " + PAN[-4:]


def _observed(db: Database, flow: Flow) -> bool:
    with db.tenant_session(flow.agent.ctx) as s:
        stmt = select(AuditRecord.seq).where(AuditRecord.action == "payment.capture.observe")
        return s.scalar(stmt) is not None


def test_the_agent_sees_each_step_while_the_caller_types(
    client: TestClient, alice: Flow, db: Database
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    bodies: list[str] = []

    def watch() -> None:
        bodies.append(client.get(f"{CAPTURES}/{capture}/events", headers=alice.agent.headers).text)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        # The stream is open once its subscription is audited (written before the first event).
        for _ in range(500):
            if _observed(db, alice):
                break
            time.sleep(0.01)
        assert _observed(db, alice)
        for digit in PAN:
            keys(client, alice, capture, digit)
        keys(client, alice, capture, "#")
        keys(client, alice, capture, "1229")
        keys(client, alice, capture, "582")
        client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    finally:
        client.post(
            f"{CAPTURES}/{capture}/cancel", headers=alice.ivr.headers
        )  # ends a stuck stream
        watcher.join(timeout=30)
    assert not watcher.is_alive()
    events = _events(bodies[0])
    versions = [e["version"] for e in events]
    assert versions == sorted(set(versions))
    assert events[-1]["status"] == "completed"
    # The stream saw the capture before it was complete (real time, not a replay).
    assert any(e["status"] == "open" for e in events)
    assert len(events) >= 3
    for event in events:
        assert PAN[:12] not in json.dumps(event)


def test_a_stream_of_a_cancelled_capture_ends_with_cancelled(
    client: TestClient, alice: Flow
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    keys(client, alice, capture, "4970")
    client.post(f"{CAPTURES}/{capture}/cancel", headers=alice.ivr.headers)
    (event,) = _events(client.get(f"{CAPTURES}/{capture}/events", headers=alice.agent.headers).text)
    assert event["status"] == "cancelled"
    assert event["pan"]["digits_entered"] == 4


def test_the_stream_ends_by_itself_when_the_deadline_passes(
    client: TestClient, alice: Flow, db: Database, clock: MutableClock
) -> None:
    capture = open_capture(client, alice, push_call(client, alice), ttl_s=60)
    bodies: list[str] = []
    watcher = threading.Thread(
        target=lambda: bodies.append(
            client.get(f"{CAPTURES}/{capture}/events", headers=alice.agent.headers).text
        )
    )
    watcher.start()
    for _ in range(500):
        if _observed(db, alice):
            break
        time.sleep(0.01)
    clock.advance(timedelta(seconds=60))  # nobody touches the capture: the stream notices
    watcher.join(timeout=30)
    if watcher.is_alive():  # pragma: no cover - unblock before failing
        client.post(f"{CAPTURES}/{capture}/cancel", headers=alice.ivr.headers)
        watcher.join(timeout=30)
        pytest.fail("the stream did not end at the deadline")
    events = _events(bodies[0])
    assert events[0]["status"] == "open"
    assert events[-1]["status"] == "expired"
