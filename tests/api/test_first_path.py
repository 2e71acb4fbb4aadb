"""The first end-to-end path: push an interaction, list it, read it, audited all the way."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rempart.audit import AuditRecord
from rempart.contact.models import Interaction, TranscriptSegment
from rempart.storage import Database, TenantContext
from tests.api.conftest import Caller, MutableClock, interaction

API = "/api/v1/interactions"


def audit_rows(db: Database, ctx: TenantContext) -> list[AuditRecord]:
    with db.tenant_session(ctx) as s:
        return list(s.scalars(select(AuditRecord).order_by(AuditRecord.time, AuditRecord.id)))


def count(db: Database, ctx: TenantContext, model: type[Interaction | TranscriptSegment]) -> int:
    with db.tenant_session(ctx) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_pushed_interaction_can_be_listed_and_read_back(client: TestClient, alice: Caller) -> None:
    r = client.post(API, json=interaction(), headers=alice.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"] == f"{API}/{created['id']}"
    assert created["external_id"] == "call-0001"
    assert [s["speaker"] for s in created["segments"]] == ["agent", "customer"]
    # Stored and returned redacted: the name never comes back from the API.
    assert created["segments"][1]["text"] == "Je m'appelle [PERSON]."
    assert created["segments"][1]["entities"] == {"PERSON": 1}
    assert created["protection"] == "redacted"
    assert created["queue"] == "Sinistres"
    assert created["customer_id"] == "CUST-123456"
    assert created["recordings"][0]["duration_ms"] == 420000

    listed = client.get(API, headers=alice.headers).json()
    assert [i["id"] for i in listed["items"]] == [created["id"]]
    assert listed["next_cursor"] is None

    read = client.get(f"{API}/{created['id']}", headers=alice.headers)
    assert read.status_code == 200
    assert read.json() == created


def test_every_write_and_read_is_audited(
    client: TestClient, alice: Caller, db: Database, clock: MutableClock
) -> None:
    created = client.post(
        API,
        json=interaction(),
        headers={**alice.headers, "User-Agent": "ccaas/1.0", "X-Request-ID": "req-123"},
    ).json()
    clock.advance(timedelta(seconds=1))
    client.get(API, headers=alice.headers)
    clock.advance(timedelta(seconds=1))
    client.get(f"{API}/{created['id']}", headers=alice.headers)
    rows = audit_rows(db, alice.ctx)
    assert [(r.action, r.outcome) for r in rows] == [
        ("interaction.create", "success"),
        ("interaction.list", "success"),
        ("interaction.read", "success"),
    ]
    first = rows[0]
    assert first.tenant_id == alice.ctx.tenant_id
    assert first.actor_type == "machine"
    assert first.actor_id == f"token:{alice.token_id}"
    assert first.resource_id == created["id"]
    assert first.source_ip == "testclient"
    assert first.user_agent == "ccaas/1.0"
    assert first.request_id == "req-123"
    assert rows[2].resource_id == created["id"]


def test_pushing_the_same_interaction_twice_stores_it_once(
    client: TestClient, alice: Caller, db: Database
) -> None:
    first = client.post(API, json=interaction(), headers=alice.headers)
    again = client.post(API, json=interaction(), headers=alice.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert count(db, alice.ctx, Interaction) == 1
    assert count(db, alice.ctx, TranscriptSegment) == 2


def test_same_external_id_with_other_content_is_a_conflict(
    client: TestClient, alice: Caller, db: Database
) -> None:
    client.post(API, json=interaction(), headers=alice.headers)
    r = client.post(API, json=interaction(language="en"), headers=alice.headers)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert count(db, alice.ctx, Interaction) == 1


def test_another_tenants_interaction_is_not_found(
    client: TestClient, alice: Caller, bob: Caller, db: Database
) -> None:
    created = client.post(API, json=interaction(), headers=alice.headers).json()
    r = client.get(f"{API}/{created['id']}", headers=bob.headers)
    assert r.status_code == 404
    missing = client.get(f"{API}/00000000-0000-4000-8000-000000000000", headers=bob.headers)
    # Indistinguishable from an id that exists nowhere: nothing leaks.
    assert r.json()["detail"] == missing.json()["detail"]
    assert r.json()["title"] == missing.json()["title"]
    assert created["id"] not in r.text
    assert client.get(API, headers=bob.headers).json()["items"] == []
    bob_audit = audit_rows(db, bob.ctx)
    assert ("interaction.read", "failure", "not-found") in [
        (a.action, a.outcome, a.reason) for a in bob_audit
    ]
    # Bob's failed attempt is in Bob's log, not in Alice's.
    assert all(a.actor_id == f"token:{alice.token_id}" for a in audit_rows(db, alice.ctx))


def test_two_tenants_may_use_the_same_external_id(
    client: TestClient, alice: Caller, bob: Caller, db: Database
) -> None:
    a = client.post(API, json=interaction(), headers=alice.headers)
    b = client.post(API, json=interaction(language="en"), headers=bob.headers)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert client.get(f"{API}/{a.json()['id']}", headers=alice.headers).json()["language"] == "fr"
    assert client.get(f"{API}/{b.json()['id']}", headers=bob.headers).json()["language"] == "en"


def test_listing_pages_through_everything_once(client: TestClient, alice: Caller) -> None:
    ids = {
        client.post(
            API,
            json=interaction(f"chat-{i}", channel="chat", recordings=[], segments=[]),
            headers=alice.headers,
        ).json()["id"]
        for i in range(7)
    }
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = client.get(API, params=params, headers=alice.headers).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7
    assert set(seen) == ids


def test_listing_filters_by_channel(client: TestClient, alice: Caller) -> None:
    client.post(API, json=interaction("c1"), headers=alice.headers)
    client.post(
        API,
        json=interaction("m1", channel="chat", recordings=[], segments=[]),
        headers=alice.headers,
    )
    chats = client.get(API, params={"channel": "chat"}, headers=alice.headers).json()["items"]
    assert [c["external_id"] for c in chats] == ["m1"]
