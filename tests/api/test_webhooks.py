"""Signed webhooks over HTTP: accepted once when signed right, refused precisely otherwise.

Every refusal is a 401 problem document naming what failed, is audited in the
tenant's log, and stores nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rempart.audit import AuditRecord
from rempart.contact.models import Interaction
from rempart.ingest import rotate_secret
from rempart.storage import Database, TenantContext
from rempart.storage.tenants import Tenant
from rempart.vault import Vault
from tests.api.conftest import Caller, MutableClock, interaction
from tests.ingest.support import build_client, new_secret, signed

PROBLEM = "urn:rempart:problem:"


def slug_of(db: Database, ctx: TenantContext) -> str:
    with db.platform_session() as s:
        tenant = s.get(Tenant, ctx.tenant_id)
        assert tenant is not None
        return tenant.slug


def url(db: Database, ctx: TenantContext) -> str:
    return f"/api/v1/webhooks/{slug_of(db, ctx)}/interactions"


def stored(db: Database, ctx: TenantContext) -> int:
    with db.tenant_session(ctx) as s:
        return int(s.scalar(select(func.count()).select_from(Interaction)) or 0)


def refusals(db: Database, ctx: TenantContext) -> list[str | None]:
    with db.tenant_session(ctx) as s:
        rows = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "webhook.deliver")
            .order_by(AuditRecord.time, AuditRecord.seq)
        )
        return [r.reason for r in rows if r.outcome == "failure"]


@pytest.fixture
def secret(db: Database, vault: Vault, alice: Caller, clock: MutableClock) -> str:
    return new_secret(db, vault, alice.ctx, clock).value


def now_ts(clock: MutableClock) -> int:
    return int(clock().timestamp())


def test_a_signed_delivery_is_stored_like_a_push(
    api: TestClient, db: Database, alice: Caller, secret: str, clock: MutableClock
) -> None:
    body, headers = signed(
        interaction("chat-77", channel="chat", recordings=[]), [secret], now_ts(clock)
    )
    r = api.post(url(db, alice.ctx), content=body, headers=headers)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["external_id"] == "chat-77"
    assert receipt["created"] is True
    assert r.headers["location"] == f"/api/v1/interactions/{receipt['id']}"
    # The stored interaction reads back through the token API, redacted.
    read = api.get(r.headers["location"], headers=alice.headers)
    assert read.status_code == 200
    assert read.json()["segments"][1]["text"] == "Je m'appelle [PERSON]."
    with db.tenant_session(alice.ctx) as s:
        row = s.scalars(select(AuditRecord).where(AuditRecord.action == "interaction.create")).one()
        assert row.actor_id.startswith("webhook:")
        assert row.details["via"] == "webhook"
    # The same interaction delivered again (signed anew) is the stored one: 200.
    clock.advance(timedelta(seconds=1))
    body, headers = signed(
        interaction("chat-77", channel="chat", recordings=[]), [secret], now_ts(clock)
    )
    again = api.post(url(db, alice.ctx), content=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["id"] == receipt["id"]


def _refused(r: Any, slug: str) -> None:  # an httpx response
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc = r.json()
    assert doc["type"] == PROBLEM + slug
    assert doc["status"] == 401
    assert r.headers["www-authenticate"] == 'Rempart-Signature realm="rempart"'


def test_a_wrong_secret_is_refused_audited_and_nothing_stored(
    api: TestClient, db: Database, alice: Caller, secret: str, clock: MutableClock
) -> None:
    body, headers = signed(interaction(), ["whsec_not-the-secret"], now_ts(clock))
    _refused(
        api.post(url(db, alice.ctx), content=body, headers=headers), "webhook-signature-invalid"
    )
    assert stored(db, alice.ctx) == 0
    assert refusals(db, alice.ctx) == ["webhook-signature-invalid"]


def test_a_tampered_body_is_refused(
    api: TestClient, db: Database, alice: Caller, secret: str, clock: MutableClock
) -> None:
    body, headers = signed(interaction(), [secret], now_ts(clock))
    tampered = body.replace(b"Jeanne Martin", b"Jeanne Mallet")
    _refused(
        api.post(url(db, alice.ctx), content=tampered, headers=headers), "webhook-signature-invalid"
    )
    assert stored(db, alice.ctx) == 0
    assert refusals(db, alice.ctx) == ["webhook-signature-invalid"]


@pytest.mark.parametrize("offset", [-301, 301])
def test_an_old_or_future_timestamp_is_refused(
    api: TestClient, db: Database, alice: Caller, secret: str, clock: MutableClock, offset: int
) -> None:
    body, headers = signed(interaction(), [secret], now_ts(clock) + offset)
    r = api.post(url(db, alice.ctx), content=body, headers=headers)
    _refused(r, "webhook-signature-expired")
    assert "300 s" in r.json()["detail"]
    assert stored(db, alice.ctx) == 0
    assert refusals(db, alice.ctx) == ["webhook-signature-expired"]


def test_a_replayed_delivery_is_refused(
    api: TestClient, db: Database, alice: Caller, secret: str, clock: MutableClock
) -> None:
    body, headers = signed(interaction(), [secret], now_ts(clock))
    assert api.post(url(db, alice.ctx), content=body, headers=headers).status_code == 201
    clock.advance(timedelta(seconds=10))  # still inside the window
    _refused(api.post(url(db, alice.ctx), content=body, headers=headers), "webhook-replayed")
    clock.advance(timedelta(seconds=600))  # outside it: expired, never accepted again
    _refused(
        api.post(url(db, alice.ctx), content=body, headers=headers), "webhook-signature-expired"
    )
    assert stored(db, alice.ctx) == 1
    assert refusals(db, alice.ctx) == ["webhook-replayed", "webhook-signature-expired"]


def test_another_tenants_secret_is_refused(
    api: TestClient,
    db: Database,
    alice: Caller,
    bob: Caller,
    secret: str,
    vault: Vault,
    clock: MutableClock,
) -> None:
    bobs = new_secret(db, vault, bob.ctx, clock).value
    body, headers = signed(interaction(), [bobs], now_ts(clock))
    _refused(
        api.post(url(db, alice.ctx), content=body, headers=headers), "webhook-signature-invalid"
    )
    assert stored(db, alice.ctx) == 0
    assert stored(db, bob.ctx) == 0
    assert refusals(db, alice.ctx) == ["webhook-signature-invalid"]
    assert refusals(db, bob.ctx) == []


def test_a_missing_or_malformed_header_is_refused(
    api: TestClient, db: Database, alice: Caller, secret: str, clock: MutableClock
) -> None:
    body, headers = signed(interaction(), [secret], now_ts(clock))
    del headers["Rempart-Signature"]
    _refused(
        api.post(url(db, alice.ctx), content=body, headers=headers), "webhook-signature-missing"
    )
    headers["Rempart-Signature"] = "v1=deadbeef"
    _refused(
        api.post(url(db, alice.ctx), content=body, headers=headers), "webhook-signature-malformed"
    )
    # A bearer token is no substitute.
    headers = {**alice.headers, "Content-Type": "application/json"}
    _refused(
        api.post(url(db, alice.ctx), content=body, headers=headers), "webhook-signature-missing"
    )
    assert stored(db, alice.ctx) == 0
    assert refusals(db, alice.ctx) == [
        "webhook-signature-missing",
        "webhook-signature-malformed",
        "webhook-signature-missing",
    ]


def test_an_unknown_tenant_gets_the_same_answer_as_a_wrong_secret(
    api: TestClient, secret: str, clock: MutableClock
) -> None:
    body, headers = signed(interaction(), [secret], now_ts(clock))
    r = api.post("/api/v1/webhooks/no-such-tenant/interactions", content=body, headers=headers)
    _refused(r, "webhook-signature-invalid")


def test_during_a_rotation_old_new_and_both_signatures_are_accepted(
    api: TestClient,
    db: Database,
    alice: Caller,
    secret: str,
    vault: Vault,
    clock: MutableClock,
) -> None:
    with db.tenant_session(alice.ctx) as s:
        new = rotate_secret(s, vault, actor="t", now=clock(), grace=timedelta(hours=1)).value
    for i, keys in enumerate([[secret], [new], [secret, new]]):
        body, headers = signed(interaction(f"call-{i}"), keys, now_ts(clock))
        assert api.post(url(db, alice.ctx), content=body, headers=headers).status_code == 201
    clock.advance(timedelta(hours=1, seconds=1))
    body, headers = signed(interaction("call-late"), [secret], now_ts(clock))
    _refused(
        api.post(url(db, alice.ctx), content=body, headers=headers), "webhook-signature-invalid"
    )
    body, headers = signed(interaction("call-late"), [new], now_ts(clock))
    assert api.post(url(db, alice.ctx), content=body, headers=headers).status_code == 201


def test_a_signed_but_invalid_interaction_is_a_422_and_nothing_is_stored(
    api: TestClient, db: Database, alice: Caller, secret: str, clock: MutableClock
) -> None:
    body, headers = signed(interaction(channel="fax"), [secret], now_ts(clock))
    r = api.post(url(db, alice.ctx), content=body, headers=headers)
    assert r.status_code == 422
    assert r.json()["type"] == PROBLEM + "validation-failed"
    assert "fax" not in r.text
    body, headers = signed(b"{not json", [secret], now_ts(clock) + 1)
    r = api.post(url(db, alice.ctx), content=body, headers=headers)
    assert r.status_code == 400
    assert r.json()["type"] == PROBLEM + "malformed-json"
    assert stored(db, alice.ctx) == 0


def test_without_a_vault_webhooks_fail_closed(
    db: Database, tmp_path: Path, clock: MutableClock, alice: Caller, secret: str
) -> None:
    with build_client(db, tmp_path, clock, None) as c:
        body, headers = signed(interaction(), [secret], now_ts(clock))
        r = c.post(url(db, alice.ctx), content=body, headers=headers)
    assert r.status_code == 503
    assert r.json()["type"] == PROBLEM + "vault-unavailable"
    assert stored(db, alice.ctx) == 0


def test_a_keyed_webhook_retry_gets_the_first_answer(
    api: TestClient, db: Database, alice: Caller, secret: str, clock: MutableClock
) -> None:
    payload = interaction()
    body, headers = signed(payload, [secret], now_ts(clock))
    first = api.post(
        url(db, alice.ctx), content=body, headers={**headers, "Idempotency-Key": "d-1"}
    )
    assert first.status_code == 201
    # The platform retries: same key, same body, signed again (a new delivery).
    clock.advance(timedelta(seconds=5))
    body, headers = signed(payload, [secret], now_ts(clock))
    retry = api.post(
        url(db, alice.ctx), content=body, headers={**headers, "Idempotency-Key": "d-1"}
    )
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    # Same key, other body: refused, nothing more stored.
    clock.advance(timedelta(seconds=5))
    other = json.dumps(interaction("call-9")).encode()
    body, headers = signed(other, [secret], now_ts(clock))
    r = api.post(url(db, alice.ctx), content=body, headers={**headers, "Idempotency-Key": "d-1"})
    assert r.status_code == 422
    assert r.json()["type"] == PROBLEM + "idempotency-key-reused"
    assert stored(db, alice.ctx) == 1


def test_an_unsigned_request_cannot_use_an_idempotency_key(
    api: TestClient, db: Database, alice: Caller, secret: str, clock: MutableClock
) -> None:
    body, headers = signed(interaction(), ["whsec_wrong"], now_ts(clock))
    r = api.post(url(db, alice.ctx), content=body, headers={**headers, "Idempotency-Key": "k"})
    _refused(r, "webhook-signature-invalid")
    body, headers = signed(interaction(), [secret], now_ts(clock))
    ok = api.post(url(db, alice.ctx), content=body, headers={**headers, "Idempotency-Key": "k"})
    assert ok.status_code == 201
    assert "idempotent-replayed" not in ok.headers


def test_the_openapi_document_describes_the_webhook(api: TestClient) -> None:
    doc = api.get("/api/v1/openapi.json").json()
    op = doc["paths"]["/api/v1/webhooks/{tenant}/interactions"]["post"]
    assert op["x-rempart-auth"] == "webhook-signature"
    assert "x-rempart-scope" not in op
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/InteractionIn"}
    headers = {p["name"]: p["required"] for p in op["parameters"] if p["in"] == "header"}
    assert headers == {"Rempart-Signature": True, "Idempotency-Key": False}
    assert "application/problem+json" in op["responses"]["401"]["content"]
