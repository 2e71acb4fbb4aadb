"""From the platform's acts to the contact-center pack's alerts, through the audit log.

People and machines act over the API (and access administration through its library);
the acts land in the tenant's tamper-evident log; the pack runs over the log's stored
entries, as a SIEM forwarder or ``rempart detect scan`` on an export would. Each test
has acts that must raise an alert and acts that must not, on both database lanes.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from rempart.access import AccessAdmin, Principal
from rempart.access.hooks import SessionAuditSink
from rempart.access.store import SqlWriter, load_catalog, load_tenant
from rempart.storage import Database
from tests.api.conftest import Caller, MutableClock, issue
from tests.api.people import Person, person, sign_in_again
from tests.api.test_workspace import PAN, WS, call, keep_originals, push
from tests.detection.helpers import logged_detections

MASS = "Mass Customer Record Lookups By One Actor"
NIGHT = "Customer Data Read Outside Working Hours"
UNMASKED = "Card Data Unmasked"
IN_CHAT = "Card Number Typed Into Chat"
PRIVILEGE = "Permission Or Role Change Outside Change Window"


def titles(db: Database, caller: Caller) -> list[str]:
    return [title for title, _ in logged_detections(db, caller.ctx)]


def test_reads_unmasking_and_night_work_in_the_workspace_raise_the_pack_s_alerts(
    client: TestClient,
    alice: Caller,
    cast: dict[str, Person],
    db: Database,
    clock: MutableClock,
) -> None:
    keep_originals(db, alice.ctx, clock)  # 09:30 UTC, inside working hours
    calls = [push(client, alice, call(cast["agent_a"], f"call-{i}")) for i in range(51)]
    agent = cast["agent_a"].headers
    for iid in calls[:50]:  # 50 distinct interactions in under a minute: not yet
        clock.advance(timedelta(seconds=1))
        assert client.get(f"{WS}/interactions/{iid}", headers=agent).status_code == 200
    for iid in calls[:10]:  # the same ones again: still 50 distinct
        assert client.get(f"{WS}/interactions/{iid}", headers=agent).status_code == 200
    # Another team's agent is refused: the refusals are logged, no alert is raised.
    for iid in calls:
        refused = client.get(f"{WS}/interactions/{iid}", headers=cast["agent_b"].headers)
        assert refused.status_code == 404
    assert titles(db, alice) == []
    clock.advance(timedelta(seconds=1))
    assert client.get(f"{WS}/interactions/{calls[50]}", headers=agent).status_code == 200
    assert titles(db, alice) == [MASS]  # the 51st distinct one within 10 minutes
    [(_, entry)] = logged_detections(db, alice.ctx)
    assert entry["actor"]["user"]["uid"] == f"user:{cast['agent_a'].user_id}"
    assert entry["resources"][0]["uid"] == calls[50]

    # A supervisor unmasks a call's original through a grant: card data revealed.
    iid = calls[0]
    reason = {"reason": "Customer disputes the card used for ticket 4512", "duration_minutes": 15}
    asked = client.post(
        f"{WS}/interactions/{iid}/unmask-requests", json=reason, headers=cast["sup_a_mfa"].headers
    )
    assert asked.status_code == 201, asked.text
    grant = asked.json()["id"]
    denied = client.get(f"{WS}/interactions/{iid}/original", headers=cast["sup_a_mfa"].headers)
    assert denied.status_code == 403  # refused before approval: no alert
    approved = client.post(f"{WS}/grants/{grant}/approve", headers=cast["sup_b"].headers)
    assert approved.status_code == 200, approved.text
    assert titles(db, alice) == [MASS]
    original = client.get(f"{WS}/interactions/{iid}/original", headers=cast["sup_a_mfa"].headers)
    assert original.status_code == 200, original.text
    assert PAN in original.json()["segments"][1]["text"]
    found = logged_detections(db, alice.ctx)
    assert [t for t, _ in found] == [MASS, UNMASKED]  # once: not again for the finding
    unmask = found[1][1]
    assert unmask["api"]["operation"] == "access.unmask"
    assert "card_number" in unmask["unmapped"]["details"]["fields"]

    # The same agent reads one call at 22:30 UTC: outside working hours.
    clock.advance(timedelta(hours=13))
    assert clock().hour == 22
    night = sign_in_again(db, alice.ctx, clock, cast["agent_a"]).headers
    assert client.get(f"{WS}/interactions/{calls[1]}", headers=night).status_code == 200
    assert titles(db, alice)[-1] == NIGHT
    assert titles(db, alice).count(NIGHT) == 1


def test_a_card_number_typed_into_a_chat_raises_an_alert_and_other_messages_do_not(
    api: TestClient, alice: Caller, db: Database, clock: MutableClock
) -> None:
    bot = issue(db, alice.ctx, scopes=["chat:redact"], clock=clock)
    messages = [
        ("m1", "customer", "Bonjour, j'ai une question sur ma commande"),
        ("m2", "customer", "appelez-moi au 06 12 34 56 78"),
        ("m3", "customer", "ma carte est la 4970 1012 3456 7893"),
        ("m4", "agent", "Merci, ne donnez jamais votre carte ici"),
    ]
    for mid, role, text in messages:
        body = {"conversation_id": "conv-9", "message_id": mid, "role": role, "text": text}
        assert api.post("/api/v1/chat/redact", json=body, headers=bot.headers).status_code == 200
    found = logged_detections(db, alice.ctx)
    assert [t for t, _ in found] == [IN_CHAT]
    entry = found[0][1]
    assert entry["resources"][0]["uid"] == "m3"
    assert "4970" not in str(entry)  # the alert carries the label, never the number


def test_role_changes_outside_the_change_window_raise_an_alert(
    db: Database, alice: Caller, clock: MutableClock
) -> None:
    admin = person(db, alice.ctx, clock, "admin-1", ["tenant_admin"])
    target = person(db, alice.ctx, clock, "agent-9", ["agent"])

    def assign(role: str) -> None:
        with db.tenant_session(alice.ctx) as s:
            state = load_tenant(s)
            writer = SqlWriter(s, load_catalog(s), actor=admin.user_id, clock=clock)
            actor = Principal(alice.ctx.tenant_id, admin.user_id, assurance=2)
            AccessAdmin(state, writer, SessionAuditSink(s), clock=clock).assign_role(
                actor, target.user_id, role
            )

    assign("supervisor")  # 09:30 UTC: inside the window
    assert titles(db, alice) == []
    clock.advance(timedelta(hours=18))  # 03:30 UTC the next day
    assign("quality_analyst")
    found = logged_detections(db, alice.ctx)
    assert [t for t, _ in found] == [PRIVILEGE]
    assert found[0][1]["api"]["operation"] == "access.role.assign"
    assert found[0][1]["resources"][0]["uid"] == target.user_id
