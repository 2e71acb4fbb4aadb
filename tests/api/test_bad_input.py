"""Bad input: each case gets a precise problem+json and leaves the database unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rempart.audit import AuditRecord
from rempart.contact.models import Customer, Interaction, Queue, TranscriptSegment
from rempart.identity.tokens import revoke_token
from rempart.storage import Database, TenantContext
from tests.api.conftest import Caller, MutableClock, interaction, issue

API = "/api/v1/interactions"
PROBLEM = "application/problem+json"


def snapshot(db: Database, ctx: TenantContext) -> tuple[int, ...]:
    with db.tenant_session(ctx) as s:
        return tuple(
            int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Interaction, TranscriptSegment, Queue, Customer)
        )


@pytest.fixture
def unchanged(db: Database, alice: Caller) -> Iterator[None]:
    """Asserts, after the test, that no contact data was added for Alice."""
    before = snapshot(db, alice.ctx)
    yield
    assert snapshot(db, alice.ctx) == before


def problem(r: object, status: int, slug: str) -> dict[str, object]:
    from httpx2 import Response

    assert isinstance(r, Response)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status
    assert body["type"] == f"urn:rempart:problem:{slug}"
    assert body["request_id"] == r.headers["x-request-id"]
    assert isinstance(body, dict)
    return body


@pytest.mark.usefixtures("unchanged")
def test_malformed_json_is_a_400(client: TestClient, alice: Caller) -> None:
    r = client.post(
        API,
        content=b'{"external_id": "x",',
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    problem(r, 400, "malformed-json")


@pytest.mark.usefixtures("unchanged")
def test_wrong_content_type_is_a_415(client: TestClient, alice: Caller) -> None:
    r = client.post(
        API,
        content=json.dumps(interaction()).encode(),
        headers={**alice.headers, "Content-Type": "text/plain"},
    )
    problem(r, 415, "unsupported-media-type")


@pytest.mark.usefixtures("unchanged")
def test_declared_oversize_body_is_a_413(client: TestClient, alice: Caller) -> None:
    big = interaction(
        segments=[{"speaker": "agent", "text": "x" * 70_000, "start_ms": 0, "end_ms": 1}]
    )
    r = client.post(API, json=big, headers=alice.headers)
    problem(r, 413, "payload-too-large")


@pytest.mark.usefixtures("unchanged")
def test_streamed_oversize_body_is_a_413(client: TestClient, alice: Caller) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"external_id": "big", "channel": "chat", "segments": ['
        for _ in range(200):
            yield b'{"speaker": "agent", "text": "' + b"y" * 1000 + b'"},'
        yield b"]}"

    # A generator body goes out chunked, without Content-Length.
    r = client.post(
        API, content=chunks(), headers={**alice.headers, "Content-Type": "application/json"}
    )
    problem(r, 413, "payload-too-large")


@pytest.mark.usefixtures("unchanged")
def test_unknown_fields_are_refused_without_echoing_the_input(
    client: TestClient, alice: Caller
) -> None:
    secret = "4970101234567890"
    body = problem(
        client.post(API, json=interaction(card=secret), headers=alice.headers),
        422,
        "validation-failed",
    )
    assert body["errors"] == [
        {
            "loc": ["body", "card"],
            "msg": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
    ]
    assert secret not in json.dumps(body)


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("override", "where"),
    [
        ({"channel": "fax"}, "channel"),
        ({"started_at": "2026-11-02T09:00:00"}, "started_at"),  # no time zone
        ({"ended_at": "2026-11-01T09:00:00Z"}, "body"),  # before started_at
        ({"external_id": "has space"}, "external_id"),
        ({"segments": [{"speaker": "agent", "text": "hi"}]}, "body"),  # call without times
        ({"segments": [{"speaker": "robot", "text": "hi", "start_ms": 0, "end_ms": 1}]}, "speaker"),
        ({"channel": "chat", "segments": []}, "body"),  # chat with a recording
        (
            {"segments": [{"speaker": "agent", "text": "a\u0000b", "start_ms": 0, "end_ms": 1}]},
            "text",
        ),
    ],
)
def test_invalid_content_is_a_422(
    client: TestClient, alice: Caller, override: dict[str, Any], where: str
) -> None:
    body = problem(
        client.post(API, json=interaction(**override), headers=alice.headers),
        422,
        "validation-failed",
    )
    errors = body["errors"]
    assert isinstance(errors, list)
    assert any(where in e["loc"] for e in errors), errors


@pytest.mark.usefixtures("unchanged")
def test_unknown_agent_is_a_422_and_stores_nothing(client: TestClient, alice: Caller) -> None:
    r = client.post(
        API,
        json=interaction(agent={"issuer": "https://idp", "subject": "nobody"}),
        headers=alice.headers,
    )
    problem(r, 422, "validation-failed")


@pytest.mark.usefixtures("unchanged")
def test_missing_token_is_a_401_with_a_challenge(client: TestClient) -> None:
    r = client.post(API, json=interaction())
    body = problem(r, 401, "authentication-failed")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert body["detail"] == "missing bearer token"


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-token",
        "Bearer rmp_zz_zz_zz",
        "Bearer " + "rmp_" + "a" * 500,
    ],
)
def test_malformed_credentials_are_a_401(client: TestClient, header: str) -> None:
    problem(client.get(API, headers={"Authorization": header}), 401, "authentication-failed")


@pytest.mark.usefixtures("unchanged")
def test_wrong_secret_is_a_401_that_says_nothing_more(client: TestClient, alice: Caller) -> None:
    forged = alice.token[:-4] + ("AAAA" if not alice.token.endswith("AAAA") else "BBBB")
    body = problem(
        client.get(API, headers={"Authorization": f"Bearer {forged}"}), 401, "authentication-failed"
    )
    assert body["detail"] == "invalid token"


@pytest.mark.usefixtures("unchanged")
def test_token_pointed_at_another_tenant_is_a_401(
    client: TestClient, alice: Caller, bob: Caller
) -> None:
    # Alice's token id and secret, but claiming Bob's tenant: the lookup runs in
    # Bob's scope, where Alice's token does not exist.
    _, _a_tenant, token_id, secret = alice.token.split("_", 3)
    _, b_tenant, _, _ = bob.token.split("_", 3)
    crafted = f"rmp_{b_tenant}_{token_id}_{secret}"
    body = problem(
        client.get(API, headers={"Authorization": f"Bearer {crafted}"}),
        401,
        "authentication-failed",
    )
    assert body["detail"] == "invalid token"


@pytest.mark.usefixtures("unchanged")
def test_revoked_token_is_a_401(client: TestClient, alice: Caller, db: Database) -> None:
    assert client.get(API, headers=alice.headers).status_code == 200
    with db.tenant_session(alice.ctx) as s:
        revoke_token(s, alice.token_id)
    body = problem(client.get(API, headers=alice.headers), 401, "authentication-failed")
    assert body["detail"] == "token revoked"


@pytest.mark.usefixtures("unchanged")
def test_expired_token_is_a_401(
    client: TestClient, alice: Caller, db: Database, clock: MutableClock
) -> None:
    short = issue(db, alice.ctx, ttl=timedelta(hours=1), clock=clock)
    assert client.get(API, headers=short.headers).status_code == 200
    clock.advance(timedelta(hours=1))
    body = problem(client.get(API, headers=short.headers), 401, "authentication-failed")
    assert body["detail"] == "token expired"


@pytest.mark.usefixtures("unchanged")
def test_token_without_the_scope_is_a_403(client: TestClient, alice: Caller, db: Database) -> None:
    reader = issue(db, alice.ctx, scopes=["interaction:read"])
    body = problem(
        client.post(API, json=interaction(), headers=reader.headers), 403, "permission-denied"
    )
    assert body["required_scope"] == "interaction:write"
    writer = issue(db, alice.ctx, scopes=["interaction:write"])
    problem(client.get(API, headers=writer.headers), 403, "permission-denied")


def test_unknown_interaction_is_a_404_and_audited(
    client: TestClient, alice: Caller, db: Database
) -> None:
    problem(client.get(f"{API}/nope", headers=alice.headers), 404, "not-found")
    with db.tenant_session(alice.ctx) as s:
        rows = list(s.scalars(select(AuditRecord)))
    assert [(r.action, r.outcome, r.resource_id, r.reason) for r in rows] == [
        ("interaction.read", "failure", "nope", "not-found")
    ]


@pytest.mark.usefixtures("unchanged")
def test_bad_cursor_and_limit_are_400_and_422(client: TestClient, alice: Caller) -> None:
    problem(client.get(API, params={"cursor": "!!!"}, headers=alice.headers), 400, "bad-request")
    problem(client.get(API, params={"limit": "0"}, headers=alice.headers), 422, "validation-failed")


def test_unknown_route_and_method_are_problems(client: TestClient, alice: Caller) -> None:
    problem(client.get("/api/v1/nothing-here", headers=alice.headers), 404, "not-found")
    problem(client.delete(API, headers=alice.headers), 405, "method-not-allowed")
