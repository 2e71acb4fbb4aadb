"""Batch ingestion: each item stored or refused on its own, one status per item, audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.audit import AuditRecord
from rempart.contact.models import Interaction
from rempart.ingest import IngestConfig
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.api.conftest import Caller, MutableClock, interaction, issue
from tests.ingest.support import build_client

BATCH = "/api/v1/interactions/batch"
PROBLEM = "urn:rempart:problem:"


def external_ids(db: Database, ctx: TenantContext) -> list[str]:
    with db.tenant_session(ctx) as s:
        return sorted(s.scalars(select(Interaction.external_id)))


def chat(external_id: str, **overrides: Any) -> dict[str, Any]:
    return interaction(external_id, channel="chat", recordings=[], **overrides)


def test_a_bad_item_does_not_lose_the_others(api: TestClient, db: Database, alice: Caller) -> None:
    first = api.post("/api/v1/interactions", json=chat("chat-0"), headers=alice.headers)
    assert first.status_code == 201
    items = [
        chat("chat-1"),
        {**chat("chat-2"), "channel": "fax"},  # schema violation
        chat("chat-0"),  # already stored, same content
        chat("chat-0", subject="other content"),  # same id, other content
        chat("chat-3", agent={"issuer": "https://idp", "subject": "nobody"}),  # unknown agent
        chat("chat-4"),
    ]
    r = api.post(BATCH, json={"items": items}, headers=alice.headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert [i["status"] for i in out["items"]] == [201, 422, 200, 409, 422, 201]
    assert [i["index"] for i in out["items"]] == list(range(6))
    assert (out["created"], out["unchanged"], out["failed"]) == (2, 1, 3)
    bad = out["items"][1]
    assert bad["problem"]["type"] == PROBLEM + "validation-failed"
    assert "fax" not in r.text  # the offending input is never echoed
    assert bad["id"] is None
    assert out["items"][3]["problem"]["type"] == PROBLEM + "conflict"
    assert out["items"][5]["location"] == f"/api/v1/interactions/{out['items'][5]['id']}"
    assert out["items"][2]["id"] == first.json()["id"]
    assert external_ids(db, alice.ctx) == ["chat-0", "chat-1", "chat-4"]


def test_each_item_and_the_batch_are_audited(api: TestClient, db: Database, alice: Caller) -> None:
    items = [chat("chat-1"), {**chat("chat-2"), "channel": "fax"}, chat("chat-3", subject=None)]
    api.post(BATCH, json={"items": items}, headers=alice.headers)
    with db.tenant_session(alice.ctx) as s:
        rows = list(s.scalars(select(AuditRecord).order_by(AuditRecord.seq)))
    assert [(r.action, r.outcome) for r in rows] == [
        ("interaction.create", "success"),
        ("interaction.create", "success"),
        ("interaction.batch", "success"),
    ]
    assert [r.details.get("batch_index") for r in rows[:2]] == [0, 2]
    assert rows[2].details == {"items": 3, "created": 2, "unchanged": 0, "failed": 1}


def test_retrying_a_whole_batch_stores_nothing_twice(
    api: TestClient, db: Database, alice: Caller
) -> None:
    items = [chat("chat-1"), chat("chat-2")]
    assert [
        i["status"]
        for i in api.post(BATCH, json={"items": items}, headers=alice.headers).json()["items"]
    ] == [201, 201]
    again = api.post(BATCH, json={"items": items}, headers=alice.headers).json()
    assert [i["status"] for i in again["items"]] == [200, 200]
    assert external_ids(db, alice.ctx) == ["chat-1", "chat-2"]


def test_the_number_of_items_is_bounded(
    db: Database, tmp_path: Path, clock: MutableClock, alice: Caller, vault: Vault
) -> None:
    config = IngestConfig(max_batch_items=2)
    with build_client(db, tmp_path, clock, vault, config) as c:
        items = [chat(f"chat-{i}") for i in range(3)]
        r = c.post(BATCH, json={"items": items}, headers=alice.headers)
        assert r.status_code == 422
        assert "at most 2" in r.json()["detail"]
        empty = c.post(BATCH, json={"items": []}, headers=alice.headers)
        assert empty.status_code == 422
    assert external_ids(db, alice.ctx) == []


def test_the_body_size_is_bounded(
    db: Database, tmp_path: Path, clock: MutableClock, alice: Caller, vault: Vault
) -> None:
    with build_client(db, tmp_path, clock, vault, max_request_bytes=4096) as c:
        items = [chat(f"chat-{i}") for i in range(20)]
        r = c.post(BATCH, json={"items": items}, headers=alice.headers)
    assert r.status_code == 413
    assert external_ids(db, alice.ctx) == []


def test_batch_needs_the_write_scope_and_a_vault(
    api: TestClient, db: Database, alice: Caller, tmp_path: Path, clock: MutableClock
) -> None:
    reader = issue(db, alice.ctx, scopes=["interaction:read"])
    r = api.post(BATCH, json={"items": [chat("chat-1")]}, headers=reader.headers)
    assert r.status_code == 403
    with build_client(db, tmp_path, clock, None) as c:
        r = c.post(BATCH, json={"items": [chat("chat-1")]}, headers=alice.headers)
    assert r.status_code == 503
    assert r.json()["type"] == PROBLEM + "vault-unavailable"
    assert external_ids(db, alice.ctx) == []


def test_items_land_in_the_callers_tenant_only(
    api: TestClient, db: Database, alice: Caller, bob: Caller
) -> None:
    api.post(BATCH, json={"items": [chat("chat-1")]}, headers=alice.headers)
    assert external_ids(db, alice.ctx) == ["chat-1"]
    assert external_ids(db, bob.ctx) == []


def test_the_openapi_document_describes_the_batch(api: TestClient) -> None:
    doc = api.get("/api/v1/openapi.json").json()
    op = doc["paths"][BATCH]["post"]
    assert op["x-rempart-scope"] == "interaction:write"
    schema = doc["components"]["schemas"]["BatchIn"]
    assert schema["properties"]["items"]["items"] == {"$ref": "#/components/schemas/InteractionIn"}
    assert "BatchOut" in doc["components"]["schemas"]
