"""People read interactions through access decisions: need-to-know, masks, JIT unmasking."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.audit import AuditRecord
from rempart.contact.policy import DataPolicy, save_policy
from rempart.identity.assurance import Level
from rempart.storage import Database, TenantContext
from tests.api.conftest import Caller, MutableClock, interaction, issue
from tests.api.people import Person, person

API = "/api/v1/interactions"
WS = "/api/v1/workspace"
PAN = "4970 1012 3456 7899"
PHONE = "+33 6 12 34 56 78"
EMAIL = "jeanne.martin@example.fr"


def call(agent: Person, external_id: str = "call-ws-1", **overrides: Any) -> dict[str, Any]:
    body = interaction(
        external_id,
        agent=agent.agent_ref,
        customer_phone=PHONE,
        customer_email=EMAIL,
        segments=[
            {"speaker": "agent", "text": "Votre numéro de carte ?", "start_ms": 0, "end_ms": 2000},
            {
                "speaker": "customer",
                "text": f"Oui, c'est le {PAN}, au nom de Jeanne Martin.",
                "start_ms": 2100,
                "end_ms": 9000,
            },
        ],
    )
    body.update(overrides)
    return body


def push(client: TestClient, alice: Caller, body: dict[str, Any]) -> str:
    r = client.post(API, json=body, headers=alice.headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def keep_originals(db: Database, ctx: TenantContext, clock: MutableClock) -> None:
    with db.tenant_session(ctx) as s:
        save_policy(s, DataPolicy(protection="redacted+original"), actor="test", now=clock())


def records(db: Database, ctx: TenantContext, action: str) -> list[AuditRecord]:
    with db.tenant_session(ctx) as s:
        stmt = select(AuditRecord).where(AuditRecord.action == action)
        return list(s.scalars(stmt.order_by(AuditRecord.time, AuditRecord.id)))


def test_the_agent_who_handled_a_call_reads_it_redacted_and_masked(
    client: TestClient, alice: Caller, cast: dict[str, Person], db: Database
) -> None:
    iid = push(client, alice, call(cast["agent_a"]))
    r = client.get(f"{WS}/interactions/{iid}", headers=cast["agent_a"].headers)
    assert r.status_code == 200, r.text
    body = r.json()
    text = body["segments"][1]["text"]
    assert "4970" not in text
    assert "7899" not in text
    assert "Jeanne" not in text
    assert "[CARD_NUMBER]" in text
    assert "[PERSON]" in text
    assert body["customer_phone"] != PHONE
    assert body["customer_phone"].endswith("78")
    assert body["customer_email"] == "***@example.fr"
    assert body["customer_id"] == "CUST-123456"
    assert body["view"] == "redacted"
    [read] = records(db, alice.ctx, "interaction.read")
    assert read.outcome == "success"
    assert read.resource_id == iid


def test_an_agent_of_another_team_gets_404_and_the_refusal_is_audited(
    client: TestClient, alice: Caller, cast: dict[str, Person], db: Database
) -> None:
    iid = push(client, alice, call(cast["agent_a"]))
    r = client.get(f"{WS}/interactions/{iid}", headers=cast["agent_b"].headers)
    assert r.status_code == 404
    assert r.json()["type"].endswith(":not-found")
    missing = client.get(
        f"{WS}/interactions/00000000-0000-4000-8000-000000000000", headers=cast["agent_b"].headers
    )
    # Same answer as for an interaction that does not exist: nothing to learn.
    assert missing.status_code == 404
    assert missing.json()["detail"] == r.json()["detail"]
    [refused, _missing] = records(db, alice.ctx, "interaction.read")
    assert refused.outcome == "failure"
    assert refused.resource_id == iid
    assert "no_relation" in (refused.entry or "")


def test_supervisors_read_their_teams_calls_only(
    client: TestClient, alice: Caller, cast: dict[str, Person]
) -> None:
    iid = push(client, alice, call(cast["agent_a"]))
    assert client.get(f"{WS}/interactions/{iid}", headers=cast["sup_a"].headers).status_code == 200
    assert client.get(f"{WS}/interactions/{iid}", headers=cast["sup_b"].headers).status_code == 404


def test_list_shows_only_what_need_to_know_allows_and_searches_by_blind_index(
    client: TestClient, alice: Caller, cast: dict[str, Person]
) -> None:
    mine = push(client, alice, call(cast["agent_a"], "call-a"))
    theirs = push(
        client,
        alice,
        call(
            cast["agent_b"],
            "call-b",
            queue="Habitation",
            customer_id="CUST-999",
            customer_phone="0611223344",
            customer_email="x@example.org",
        ),
    )
    listed = client.get(f"{WS}/interactions", headers=cast["agent_a"].headers).json()
    assert [i["id"] for i in listed["items"]] == [mine]
    # One number written three ways finds one customer, through its blind index.
    for phone in (PHONE, "06 12 34 56 78", "+33612345678"):
        found = client.get(
            f"{WS}/interactions", params={"phone": phone}, headers=cast["sup_a"].headers
        ).json()
        assert [i["id"] for i in found["items"]] == [mine]
    by_mail = client.get(
        f"{WS}/interactions",
        params={"email": "Jeanne.Martin@Example.fr"},
        headers=cast["sup_a"].headers,
    ).json()
    assert [i["id"] for i in by_mail["items"]] == [mine]
    # The supervisor of team A cannot find team B's call even by its customer's number.
    hidden = client.get(
        f"{WS}/interactions", params={"phone": "0611223344"}, headers=cast["sup_a"].headers
    ).json()
    assert hidden["items"] == []
    assert theirs not in {i["id"] for i in listed["items"]}
    bad = client.get(
        f"{WS}/interactions", params={"phone": "not a phone"}, headers=cast["sup_a"].headers
    )
    assert bad.status_code == 422


def test_people_routes_need_a_session(client: TestClient, alice: Caller) -> None:
    r = client.get(f"{WS}/interactions", headers=alice.headers)  # a machine token is not a person
    assert r.status_code == 401


def test_unmasking_needs_a_reason_step_up_and_an_approver_and_is_audited(
    client: TestClient,
    alice: Caller,
    cast: dict[str, Person],
    db: Database,
    clock: MutableClock,
) -> None:
    keep_originals(db, alice.ctx, clock)
    iid = push(client, alice, call(cast["agent_a"]))
    url = f"{WS}/interactions/{iid}/unmask-requests"
    reason = {"reason": "Customer disputes the card used for ticket 4512", "duration_minutes": 15}
    # Single-factor session: the RFC 9470 challenge to step up.
    weak = client.post(url, json=reason, headers=cast["sup_a"].headers)
    assert weak.status_code == 401, weak.text
    assert "insufficient_user_authentication" in weak.headers["www-authenticate"]
    too_short = client.post(url, json={"reason": "x"}, headers=cast["sup_a_mfa"].headers)
    assert too_short.status_code in (400, 422)
    asked = client.post(url, json=reason, headers=cast["sup_a_mfa"].headers)
    assert asked.status_code == 201, asked.text
    grant = asked.json()
    assert grant["status"] == "pending"
    original = f"{WS}/interactions/{iid}/original"
    before = client.get(original, headers=cast["sup_a_mfa"].headers)
    assert before.status_code == 403
    assert before.json()["reason"] == "grant_required"
    # The requester cannot approve their own request; another supervisor can.
    own = client.post(f"{WS}/grants/{grant['id']}/approve", headers=cast["sup_a_mfa"].headers)
    assert own.status_code == 403
    approved = client.post(f"{WS}/grants/{grant['id']}/approve", headers=cast["sup_b"].headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    r = client.get(original, headers=cast["sup_a_mfa"].headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["view"] == "original"
    assert PAN in body["segments"][1]["text"]
    assert body["customer_phone"] == PHONE
    assert body["customer_email"] == EMAIL
    [unmask] = [x for x in records(db, alice.ctx, "access.unmask") if x.outcome == "success"]
    assert unmask.resource_id == iid
    assert records(db, alice.ctx, "create")  # the finding raised for detection
    # The grant expires: the next read is refused again.
    clock.advance(timedelta(minutes=16))
    assert client.get(original, headers=cast["sup_a_mfa"].headers).status_code == 403


def test_no_original_is_kept_under_the_default_policy(
    client: TestClient, alice: Caller, cast: dict[str, Person], db: Database
) -> None:
    push(client, alice, call(cast["agent_a"]))
    with db.tenant_session(alice.ctx) as s:
        from rempart.contact.models import TranscriptSegment

        rows = s.scalars(select(TranscriptSegment)).all()
        assert rows
        assert all(r.original_ct is None and r.text is None for r in rows)
        assert all(r.redacted_ct and PAN.encode() not in r.redacted_ct for r in rows)


def test_the_agent_on_the_call_watches_a_payment_capture_and_nobody_else_does(
    client: TestClient, alice: Caller, cast: dict[str, Person], db: Database, clock: MutableClock
) -> None:
    iid = push(client, alice, call(cast["agent_a"]))
    ivr = issue(db, alice.ctx, scopes=["payment:capture"], clock=clock)
    captures = "/api/v1/payments/captures"
    opened = client.post(captures, json={"interaction_id": iid}, headers=ivr.headers)
    assert opened.status_code == 201, opened.text
    capture = opened.json()["capture_id"]
    pan = "4970101234567893"
    for key in pan[:6]:
        assert client.post(f"{captures}/{capture}/dtmf", json={"keys": key}, headers=ivr.headers)
    watched = client.get(f"{WS}/captures/{capture}", headers=cast["agent_a"].headers)
    assert watched.status_code == 200, watched.text
    assert watched.json()["pan"]["digits_entered"] == 6
    assert pan[:6] not in watched.text
    # Another team's agent, and a supervisor of another team: as if it did not exist.
    assert (
        client.get(f"{WS}/captures/{capture}", headers=cast["agent_b"].headers).status_code == 404
    )
    assert client.get(f"{WS}/captures/{capture}", headers=cast["sup_b"].headers).status_code == 404
    # The stream ends when the capture does.
    assert client.post(f"{captures}/{capture}/cancel", headers=ivr.headers).status_code == 200
    stream = client.get(f"{WS}/captures/{capture}/events", headers=cast["agent_a"].headers)
    assert stream.status_code == 200
    assert "event: progress" in stream.text
    assert pan[:6] not in stream.text


def test_break_glass_works_without_an_approver_alerts_at_once_and_is_refused_to_agents(
    client: TestClient, alice: Caller, cast: dict[str, Person], db: Database, clock: MutableClock
) -> None:
    iid = push(client, alice, call(cast["agent_a"]))
    officer = person(
        db, alice.ctx, clock, "officer", ["security_officer"], assurance=Level.MULTI_FACTOR
    )
    # No role of theirs reads interactions: refused before any interaction is looked at.
    assert client.get(f"{WS}/interactions/{iid}", headers=officer.headers).status_code == 403
    body = {"reason": "Incident 2026-77: fraud ring using this line", "interaction_id": iid}
    refused = client.post(f"{WS}/break-glass", json=body, headers=cast["agent_a"].headers)
    assert refused.status_code == 403
    r = client.post(f"{WS}/break-glass", json=body, headers=officer.headers)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active"
    read = client.get(f"{WS}/interactions/{iid}", headers=officer.headers)
    assert read.status_code == 200, read.text
    assert "4970" not in read.text  # still the masked form
    [finding] = [x for x in records(db, alice.ctx, "create") if "break_glass" in (x.entry or "")]
    assert '"severity":"high"' in (finding.entry or "")


def test_approvers_list_the_requests_waiting_for_them(
    client: TestClient, alice: Caller, cast: dict[str, Person], db: Database, clock: MutableClock
) -> None:
    iid = push(client, alice, call(cast["agent_a"]))
    ask = {"reason": "Customer disputes the card used for ticket 4512"}
    url = f"{WS}/interactions/{iid}/unmask-requests"
    asked = client.post(url, json=ask, headers=cast["sup_a_mfa"].headers)
    assert asked.status_code == 201, asked.text
    listed = client.get(f"{WS}/grants", headers=cast["sup_b"].headers)
    assert listed.status_code == 200
    assert [g["id"] for g in listed.json()] == [asked.json()["id"]]
    assert client.get(f"{WS}/grants", headers=cast["agent_a"].headers).status_code == 403
