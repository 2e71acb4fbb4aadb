"""Bad input: each a precise problem+json, nothing half-stored, an audit record where it matters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from rempart.audit.models import AuditRecord
from rempart.contact.payments import PaymentCapture
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

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _problem(r: Any, status: int, slug: str) -> dict[str, object]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = r.json()
    assert body["type"] == f"urn:rempart:problem:{slug}"
    return body


def _row(db: Database, flow: Flow, capture_id: str) -> PaymentCapture:
    with db.tenant_session(flow.ivr.ctx) as s:
        row = s.get(PaymentCapture, capture_id)
        assert row is not None
        s.expunge(row)
        return row


def _last_audit(db: Database, flow: Flow) -> AuditRecord:
    with db.tenant_session(flow.ivr.ctx) as s:
        row = s.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
        assert row is not None
        s.expunge(row)
        return row


def test_keys_for_an_unknown_capture_are_a_404_and_audited(
    client: TestClient, alice: Flow, db: Database
) -> None:
    _problem(keys(client, alice, UNKNOWN, "4"), 404, "capture-not-found")
    record = _last_audit(db, alice)
    assert (record.action, record.outcome, record.reason) == (
        "payment.capture.keys",
        "failure",
        "capture-not-found",
    )


def test_another_tenants_capture_is_not_found(client: TestClient, alice: Flow, bob: Flow) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    _problem(keys(client, bob, capture, "4"), 404, "capture-not-found")
    r = client.get(f"{CAPTURES}/{capture}", headers=bob.agent.headers)
    _problem(r, 404, "capture-not-found")
    _problem(
        client.get(f"{CAPTURES}/{capture}/events", headers=bob.agent.headers),
        404,
        "capture-not-found",
    )


@pytest.mark.parametrize("pressed", ["4a", "4 9", "+", "", "٤", "1" * 33])
def test_keys_outside_the_keypad_are_refused_and_change_nothing(
    client: TestClient, alice: Flow, db: Database, pressed: str
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    keys(client, alice, capture, "49")
    before = _row(db, alice, capture)
    body = _problem(keys(client, alice, capture, pressed), 422, "dtmf-invalid")
    assert pressed not in str(body["detail"]) or pressed == ""
    after = _row(db, alice, capture)
    assert (after.version, after.entry_ciphertext) == (before.version, before.entry_ciphertext)


def test_too_many_digits_for_a_field_are_refused_as_a_whole(
    client: TestClient, alice: Flow, db: Database
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    keys(client, alice, capture, PAN + "#")
    before = _row(db, alice, capture)
    r = keys(client, alice, capture, "12295", field="expiry")
    _problem(r, 422, "dtmf-too-many-digits")
    _problem(keys(client, alice, capture, "12#9", field="expiry"), 422, "dtmf-too-many-digits")
    after = _row(db, alice, capture)
    assert (after.version, after.expiry_digits) == (before.version, 0)
    # Without a named field, the caller types ahead: the fifth digit starts the code.
    assert keys(client, alice, capture, "12295").json()["current_field"] == "cvv"


def test_an_invalid_luhn_clears_the_number_and_counts_an_attempt(
    client: TestClient, alice: Flow
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    body = _problem(keys(client, alice, capture, PAN[:-1] + "0#"), 422, "card-number-invalid")
    assert "2 attempt(s) left" in str(body["detail"])
    view = client.get(f"{CAPTURES}/{capture}", headers=alice.agent.headers).json()
    assert view["pan"]["digits_entered"] == 0
    assert view["attempts_left"] == 2
    enter_card(client, alice, capture)


def test_a_too_short_card_number_is_invalid(client: TestClient, alice: Flow) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    _problem(keys(client, alice, capture, "42#"), 422, "card-number-invalid")


def test_an_expired_card_is_refused(client: TestClient, alice: Flow) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    keys(client, alice, capture, PAN + "#")
    _problem(keys(client, alice, capture, "1025"), 422, "card-expired")
    _problem(keys(client, alice, capture, "1325"), 422, "card-expiry-invalid")


def test_a_wrong_length_security_code_is_refused(client: TestClient, alice: Flow) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    keys(client, alice, capture, PAN + "#")
    keys(client, alice, capture, "1229")
    _problem(keys(client, alice, capture, "12#"), 422, "card-cvv-invalid")
    _problem(keys(client, alice, capture, "1234"), 422, "dtmf-too-many-digits")


def test_three_rejections_fail_the_capture_and_wipe_what_was_typed(
    client: TestClient, alice: Flow, db: Database
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    for _ in range(2):
        _problem(keys(client, alice, capture, "42#"), 422, "card-number-invalid")
    keys(client, alice, capture, "4970")
    body = _problem(keys(client, alice, capture, "#"), 422, "card-number-invalid")
    assert "failed" in str(body["detail"])
    row = _row(db, alice, capture)
    assert (row.status, row.entry_ciphertext, row.open_slot) == ("failed", None, None)
    _problem(keys(client, alice, capture, "4"), 409, "capture-closed")


def test_completion_before_every_field_is_a_409(client: TestClient, alice: Flow) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    keys(client, alice, capture, PAN + "#")
    r = client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    _problem(r, 409, "capture-incomplete")


def test_a_second_completion_is_a_409_and_the_processor_is_called_once(
    client: TestClient, alice: Flow, processor: object
) -> None:
    from rempart.contact.payments import TestProcessor

    assert isinstance(processor, TestProcessor)
    capture = open_capture(client, alice, push_call(client, alice))
    enter_card(client, alice, capture)
    assert (
        client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers).status_code == 200
    )
    r = client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    _problem(r, 409, "capture-already-completed")
    _problem(keys(client, alice, capture, "1"), 409, "capture-already-completed")
    assert len(processor.received) == 1


def test_keys_after_every_field_are_too_many(client: TestClient, alice: Flow) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    enter_card(client, alice, capture)
    _problem(keys(client, alice, capture, "1"), 422, "dtmf-too-many-digits")


def test_keys_named_for_another_field_are_a_409(client: TestClient, alice: Flow) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    _problem(keys(client, alice, capture, "1229", field="expiry"), 409, "capture-field-mismatch")
    assert keys(client, alice, capture, "4", field="pan").status_code == 200


def test_only_one_open_capture_per_interaction(client: TestClient, alice: Flow) -> None:
    call = push_call(client, alice)
    first = open_capture(client, alice, call)
    r = client.post(CAPTURES, json={"interaction_id": call}, headers=alice.ivr.headers)
    _problem(r, 409, "capture-already-open")
    client.post(f"{CAPTURES}/{first}/cancel", headers=alice.ivr.headers)
    assert open_capture(client, alice, call) != first


def test_a_cancelled_capture_is_closed_for_good(
    client: TestClient, alice: Flow, db: Database
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    keys(client, alice, capture, "4970")
    assert (
        client.post(f"{CAPTURES}/{capture}/cancel", headers=alice.ivr.headers).json()["status"]
        == "cancelled"
    )
    assert _row(db, alice, capture).entry_ciphertext is None
    _problem(keys(client, alice, capture, "1"), 409, "capture-closed")
    _problem(
        client.post(f"{CAPTURES}/{capture}/cancel", headers=alice.ivr.headers),
        409,
        "capture-closed",
    )


def test_completion_after_expiry_is_a_410_and_nothing_is_tokenized(
    client: TestClient, alice: Flow, clock: MutableClock, processor: object
) -> None:
    from rempart.contact.payments import TestProcessor

    assert isinstance(processor, TestProcessor)
    capture = open_capture(client, alice, push_call(client, alice))
    enter_card(client, alice, capture)
    clock.advance(timedelta(minutes=4))
    r = client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    _problem(r, 410, "capture-expired")
    assert processor.received == []


def test_opening_a_capture_for_an_unknown_interaction_is_a_404(
    client: TestClient, alice: Flow
) -> None:
    r = client.post(CAPTURES, json={"interaction_id": UNKNOWN}, headers=alice.ivr.headers)
    _problem(r, 404, "not-found")


def test_payments_without_a_vault_are_unavailable(
    client: TestClient, db: Database, tmp_path: object, clock: MutableClock, alice: Flow
) -> None:
    from pathlib import Path

    from rempart.contact.payments import PaymentConfig
    from tests.contact.payments.conftest import make_client

    assert isinstance(tmp_path, Path)
    call = push_call(client, alice)  # stored by a server that has its vault
    with make_client(db, tmp_path / "novault", clock, None, PaymentConfig()) as bare:
        r = bare.post(CAPTURES, json={"interaction_id": call}, headers=alice.ivr.headers)
    _problem(r, 503, "payments-unavailable")


def test_a_concurrent_change_is_never_overwritten(
    client: TestClient, alice: Flow, db: Database
) -> None:
    # A writer that read the row before another request changed it cannot overwrite it:
    # the version column makes every UPDATE a compare-and-set (PostgreSQL also locks the row).
    capture = open_capture(client, alice, push_call(client, alice))
    with db.tenant_session(alice.ivr.ctx) as stale:
        loaded = stale.get(PaymentCapture, capture)  # read before the other request writes
        assert loaded is not None
        assert keys(client, alice, capture, "49").status_code == 200
        loaded.pan_digits = 7
        with pytest.raises(StaleDataError):
            stale.flush()


def test_a_collision_reaches_the_client_as_a_retryable_409(
    client: TestClient, alice: Flow, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rempart.contact.payments import service

    capture = open_capture(client, alice, push_call(client, alice))

    def collide(*_args: object, **_kwargs: object) -> service.Outcome:
        raise StaleDataError("UPDATE matched 0 rows")

    monkeypatch.setattr(service, "press", collide)
    _problem(keys(client, alice, capture, "4"), 409, "capture-busy")
    record = _last_audit(db, alice)
    assert (record.action, record.outcome, record.reason) == (
        "payment.capture.keys",
        "failure",
        "capture-busy",
    )


def test_the_sweep_closes_overdue_captures_and_wipes_their_keys(
    client: TestClient, alice: Flow, db: Database, clock: MutableClock
) -> None:
    from rempart.contact.payments import service

    capture = open_capture(client, alice, push_call(client, alice), ttl_s=30)
    keys(client, alice, capture, "4970")
    with db.tenant_session(alice.ivr.ctx) as s:
        assert service.expire_due(s, clock=clock) == 0
    clock.advance(timedelta(seconds=30))
    with db.tenant_session(alice.ivr.ctx) as s:
        assert service.expire_due(s, clock=clock) == 1
    row = _row(db, alice, capture)
    assert (row.status, row.entry_ciphertext, row.open_slot) == ("expired", None, None)
    assert row.recording_resumed_at == row.expires_at
