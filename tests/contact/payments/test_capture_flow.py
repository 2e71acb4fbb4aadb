"""A capture end to end through the API: open, keys, progress, completion, processor, audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.audit.models import AuditRecord
from rempart.contact.payments import PanCard, TestProcessor, TokenCard
from rempart.storage import Database
from tests.api.conftest import MutableClock
from tests.contact.payments.conftest import (
    AMEX,
    CAPTURES,
    CVV,
    PAN,
    Flow,
    enter_card,
    keys,
    open_capture,
    push_call,
)


def _audit_actions(db: Database, flow: Flow) -> list[tuple[str, str, str | None]]:
    with db.tenant_session(flow.ivr.ctx) as s:
        rows = s.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()
        return [(r.action, r.outcome, r.reason) for r in rows if r.action.startswith("payment.")]


def test_a_full_capture_tokenizes_the_card_and_hands_the_token_to_the_processor(
    client: TestClient, alice: Flow, processor: TestProcessor
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    enter_card(client, alice, capture)
    r = client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "completed"
    assert body["card_token"].startswith("tok_")
    assert body["pan"]["masked"] == "**** **** **** " + PAN[-4:]
    assert body["processor_reference"] == "test-1"
    (request,) = processor.received
    assert isinstance(request.card, TokenCard)
    assert request.card.token == body["card_token"]
    assert (request.card.expiry_month, request.card.expiry_year) == (12, 2029)
    assert request.cvv.reveal() == CVV
    assert request.amount_minor == 4990
    assert request.currency == "EUR"
    assert request.capture_id == capture


def test_the_agent_sees_progress_and_never_a_digit_beyond_the_last_four(
    client: TestClient, alice: Flow
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    for digit in PAN[:6]:
        keys(client, alice, capture, digit)
    view = client.get(f"{CAPTURES}/{capture}", headers=alice.agent.headers).json()
    assert view["pan"] == {"digits_entered": 6, "complete": False, "masked": "**** **"}
    assert view["current_field"] == "pan"
    keys(client, alice, capture, PAN[6:] + "#")
    view = client.get(f"{CAPTURES}/{capture}", headers=alice.agent.headers).json()
    assert view["pan"]["masked"] == "**** **** **** 7893"
    assert view["expiry"] == {"digits_entered": 0, "valid": False}
    keys(client, alice, capture, "1229")
    keys(client, alice, capture, CVV)
    view = client.get(f"{CAPTURES}/{capture}", headers=alice.agent.headers).json()
    assert view["expiry"]["valid"] is True
    assert view["cvv"] == {"entered": True}
    assert view["status"] == "ready"
    assert PAN[:12] not in str(view)
    assert CVV not in str(view)


def test_the_agent_token_cannot_relay_keys_and_the_ivr_token_cannot_watch(
    client: TestClient, alice: Flow
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    denied = client.post(
        f"{CAPTURES}/{capture}/dtmf", json={"keys": "4"}, headers=alice.agent.headers
    )
    assert denied.status_code == 403
    assert denied.json()["required_scope"] == "payment:capture"
    watch = client.get(f"{CAPTURES}/{capture}", headers=alice.ivr.headers)
    assert watch.status_code == 403
    assert watch.json()["required_scope"] == "payment:observe"


def test_the_processor_can_receive_the_pan_when_configured(
    db: Database, tmp_path: Any, clock: MutableClock, vault: Any, alice: Flow
) -> None:
    from rempart.contact.payments import PaymentConfig
    from tests.contact.payments.conftest import make_client

    processor = TestProcessor()
    config = PaymentConfig(processor=processor, processor_receives="pan")
    with make_client(db, tmp_path, clock, vault, config) as client:
        capture = open_capture(client, alice, push_call(client, alice))
        enter_card(client, alice, capture)
        r = client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    assert r.status_code == 200
    (request,) = processor.received
    assert isinstance(request.card, PanCard)
    assert request.card.pan.reveal() == PAN
    assert PAN not in repr(request)
    assert CVV not in repr(request.cvv)


def test_without_a_processor_completion_returns_the_token_for_the_flow(
    db: Database, tmp_path: Any, clock: MutableClock, vault: Any, alice: Flow
) -> None:
    from rempart.contact.payments import PaymentConfig
    from tests.contact.payments.conftest import make_client

    with make_client(db, tmp_path, clock, vault, PaymentConfig()) as client:
        capture = open_capture(client, alice, push_call(client, alice))
        enter_card(client, alice, capture)
        body = client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers).json()
    assert body["status"] == "completed"
    assert body["card_token"].startswith("tok_")
    assert body["processor_reference"] is None
    assert (
        vault.detokenize_card(alice.ivr.ctx.tenant_id, body["card_token"], actor="t", reason="test")
        == PAN
    )


def test_a_declined_payment_closes_the_capture_as_declined(
    client: TestClient, alice: Flow, processor: TestProcessor
) -> None:
    processor.decline = True
    capture = open_capture(client, alice, push_call(client, alice))
    enter_card(client, alice, capture)
    body = client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers).json()
    assert body["status"] == "declined"
    assert body["decline_code"] == "05"


def test_an_unreachable_processor_is_a_502_and_the_capture_stays_ready_for_a_retry(
    client: TestClient, alice: Flow, processor: TestProcessor
) -> None:
    processor.fail = True
    capture = open_capture(client, alice, push_call(client, alice))
    enter_card(client, alice, capture)
    r = client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    assert r.status_code == 502
    assert r.json()["type"] == "urn:rempart:problem:payment-processor-unavailable"
    assert (
        client.get(f"{CAPTURES}/{capture}", headers=alice.agent.headers).json()["status"] == "ready"
    )
    processor.fail = False
    assert (
        client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers).status_code == 200
    )


def test_an_american_express_card_needs_a_four_digit_code(client: TestClient, alice: Flow) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    keys(client, alice, capture, AMEX + "#")
    keys(client, alice, capture, "1229")
    assert keys(client, alice, capture, "123").json()["status"] == "open"
    assert keys(client, alice, capture, "4").json()["status"] == "ready"


def test_star_clears_the_current_field(client: TestClient, alice: Flow) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    body = keys(client, alice, capture, "4970*").json()
    assert body["pan"]["digits_entered"] == 0
    enter_card(client, alice, capture)


def test_every_step_is_audited_with_outcome_and_no_card_data(
    client: TestClient, alice: Flow, db: Database
) -> None:
    capture = open_capture(client, alice, push_call(client, alice))
    keys(client, alice, capture, "4970101234567890#")  # fails Luhn
    enter_card(client, alice, capture)
    client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    client.post(f"{CAPTURES}/{capture}/complete", headers=alice.ivr.headers)
    actions = _audit_actions(db, alice)
    assert actions[0] == ("payment.capture.open", "success", None)
    assert ("payment.capture.keys", "failure", "card-number-invalid") in actions
    assert ("payment.capture.complete", "success", None) in actions
    assert actions[-1] == ("payment.capture.complete", "failure", "capture-already-completed")


def test_an_expired_capture_is_closed_and_frees_the_interaction(
    client: TestClient, alice: Flow, clock: MutableClock
) -> None:
    call = push_call(client, alice)
    capture = open_capture(client, alice, call, ttl_s=60)
    keys(client, alice, capture, "4970")
    clock.advance(timedelta(seconds=61))
    view = client.get(f"{CAPTURES}/{capture}", headers=alice.agent.headers).json()
    assert view["status"] == "expired"
    r = keys(client, alice, capture, "1")
    assert r.status_code == 410
    assert r.json()["type"] == "urn:rempart:problem:capture-expired"
    assert keys(client, alice, capture, "1").status_code == 410
    second = open_capture(client, alice, call)
    assert second != capture
