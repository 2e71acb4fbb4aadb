"""The recording contract: each capture window is a pause the recording pipeline must honour."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from rempart.contact.payments import recording_pauses
from rempart.storage import Database
from tests.api.conftest import MutableClock
from tests.contact.payments.conftest import (
    CAPTURES,
    Flow,
    enter_card,
    open_capture,
    push_call,
)


def test_a_capture_window_is_a_pause_from_opening_to_completion(
    client: TestClient, alice: Flow, clock: MutableClock, db: Database
) -> None:
    call = push_call(client, alice)  # started 09:00, the clock says 09:30
    capture = open_capture(client, alice, call)
    with db.tenant_session(alice.ivr.ctx) as s:
        (live,) = recording_pauses(s, call)
    assert (live.capture_id, live.end, live.end_ms) == (capture, None, None)
    assert live.start_ms == 30 * 60 * 1000
    clock.advance(timedelta(seconds=45))
    enter_card(client, alice, capture)
    client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    r = client.get(
        f"/api/v1/payments/interactions/{call}/recording-pauses", headers=alice.pusher.headers
    )
    assert r.status_code == 200
    (window,) = r.json()
    assert window["start_ms"] == 30 * 60 * 1000
    assert window["end_ms"] == window["start_ms"] + 45_000


def test_an_expired_capture_pauses_until_its_deadline(
    client: TestClient, alice: Flow, clock: MutableClock, db: Database
) -> None:
    call = push_call(client, alice)
    capture = open_capture(client, alice, call, ttl_s=30)
    clock.advance(timedelta(minutes=5))
    client.get(f"{CAPTURES}/{capture}", headers=alice.agent.headers)
    second = open_capture(client, alice, call)  # closes the stale one at its deadline
    with db.tenant_session(alice.ivr.ctx) as s:
        first, live = recording_pauses(s, call)
    assert first.capture_id == capture
    assert first.end is not None
    assert first.end_ms == first.start_ms + 30_000
    assert live.capture_id == second
    assert live.end is None


def test_pauses_of_another_tenants_call_are_not_found(
    client: TestClient, alice: Flow, bob: Flow
) -> None:
    call = push_call(client, alice)
    open_capture(client, alice, call)
    r = client.get(
        f"/api/v1/payments/interactions/{call}/recording-pauses", headers=bob.pusher.headers
    )
    assert r.status_code == 404
