"""Idempotency-Key on push and batch: a keyed retry gets the first answer, never a duplicate."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from rempart.contact.models import Interaction
from rempart.ingest import idempotency as idem
from rempart.ingest.models import IdempotencyRecord
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.api.conftest import Caller, MutableClock, interaction, issue
from tests.ingest.support import build_client

PUSH = "/api/v1/interactions"
BATCH = "/api/v1/interactions/batch"
PROBLEM = "urn:rempart:problem:"


def keyed(caller: Caller, key: str) -> dict[str, str]:
    return {**caller.headers, "Idempotency-Key": key}


def count(db: Database, ctx: TenantContext) -> int:
    with db.tenant_session(ctx) as s:
        return int(s.scalar(select(func.count()).select_from(Interaction)) or 0)


def records(db: Database, ctx: TenantContext) -> list[IdempotencyRecord]:
    with db.tenant_session(ctx) as s:
        return list(s.scalars(select(IdempotencyRecord)))


@pytest.mark.parametrize(
    ("path", "body"),
    [(PUSH, interaction()), (BATCH, {"items": [interaction()]})],
)
def test_a_keyed_retry_gets_the_first_answer_replayed(
    api: TestClient, db: Database, alice: Caller, path: str, body: dict[str, Any]
) -> None:
    first = api.post(path, json=body, headers=keyed(alice, "retry-1"))
    assert first.status_code in (200, 201), first.text
    assert "idempotent-replayed" not in first.headers
    again = api.post(path, json=body, headers=keyed(alice, "retry-1"))
    assert again.status_code == first.status_code
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert again.headers.get("location") == first.headers.get("location")
    assert count(db, alice.ctx) == 1


def test_without_the_key_a_repeat_push_is_the_usual_200(api: TestClient, alice: Caller) -> None:
    assert api.post(PUSH, json=interaction(), headers=alice.headers).status_code == 201
    again = api.post(PUSH, json=interaction(), headers=alice.headers)
    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers


def test_the_same_key_with_another_body_is_a_422(
    api: TestClient, db: Database, alice: Caller
) -> None:
    assert api.post(PUSH, json=interaction(), headers=keyed(alice, "k")).status_code == 201
    r = api.post(PUSH, json=interaction("call-2"), headers=keyed(alice, "k"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == PROBLEM + "idempotency-key-reused"
    # The same key on the other route is another request too.
    r = api.post(BATCH, json={"items": [interaction()]}, headers=keyed(alice, "k"))
    assert r.json()["type"] == PROBLEM + "idempotency-key-reused"
    assert count(db, alice.ctx) == 1


def test_a_key_whose_first_request_is_still_running_is_a_409(
    api: TestClient, db: Database, alice: Caller, vault: Vault, clock: MutableClock
) -> None:
    body = b'{"x": 1}'
    sha = idem.fingerprint("POST", PUSH, body)
    with db.tenant_session(alice.ctx) as s:  # another worker holds the key
        idem.begin(
            s, vault, key="busy", request_sha256=sha, now=clock(),
            ttl=timedelta(hours=24), lease=timedelta(minutes=5),
        )  # fmt: skip
    r = api.post(
        PUSH, content=body, headers={**keyed(alice, "busy"), "Content-Type": "application/json"}
    )
    assert r.status_code == 409
    assert r.json()["type"] == PROBLEM + "idempotency-key-in-use"
    assert count(db, alice.ctx) == 0


def test_keys_expire_after_the_ttl(
    api: TestClient, db: Database, alice: Caller, clock: MutableClock
) -> None:
    assert api.post(PUSH, json=interaction(), headers=keyed(alice, "k")).status_code == 201
    clock.advance(timedelta(hours=24))
    # Expired: the key is free again, this request runs (and the push is idempotent anyway).
    r = api.post(PUSH, json=interaction("call-2"), headers=keyed(alice, "k"))
    assert r.status_code == 201
    assert "idempotent-replayed" not in r.headers


def test_refusals_of_credentials_or_scope_are_not_kept(
    api: TestClient, db: Database, alice: Caller
) -> None:
    reader = issue(db, alice.ctx, scopes=["interaction:read"])
    assert api.post(PUSH, json=interaction(), headers=keyed(reader, "k")).status_code == 403
    bad = {"Authorization": alice.headers["Authorization"][:-2] + "zz", "Idempotency-Key": "k"}
    assert api.post(PUSH, json=interaction(), headers=bad).status_code == 401
    assert records(db, alice.ctx) == []
    assert api.post(PUSH, json=interaction(), headers=keyed(alice, "k")).status_code == 201


def test_validation_failures_are_kept_like_any_answer(
    api: TestClient, db: Database, alice: Caller
) -> None:
    body = interaction(channel="fax")
    first = api.post(PUSH, json=body, headers=keyed(alice, "v"))
    assert first.status_code == 422
    again = api.post(PUSH, json=body, headers=keyed(alice, "v"))
    assert again.status_code == 422
    assert again.headers["idempotent-replayed"] == "true"


def test_a_malformed_key_is_a_400(api: TestClient, db: Database, alice: Caller) -> None:
    r = api.post(PUSH, json=interaction(), headers=keyed(alice, "with space"))
    assert r.status_code == 400
    assert r.json()["type"] == PROBLEM + "idempotency-key-invalid"
    assert count(db, alice.ctx) == 0


def test_keys_are_per_tenant(api: TestClient, db: Database, alice: Caller, bob: Caller) -> None:
    a = api.post(PUSH, json=interaction(), headers=keyed(alice, "same"))
    b = api.post(PUSH, json=interaction(), headers=keyed(bob, "same"))
    assert a.status_code == b.status_code == 201
    assert "idempotent-replayed" not in b.headers
    assert a.json()["id"] != b.json()["id"]


def test_without_a_vault_keyed_requests_fail_closed(
    db: Database, tmp_path: Path, clock: MutableClock, alice: Caller
) -> None:
    with build_client(db, tmp_path, clock, None) as c:
        r = c.post(PUSH, json=interaction(), headers=keyed(alice, "k"))
    assert r.status_code == 503
    assert r.json()["type"] == PROBLEM + "vault-unavailable"
    assert count(db, alice.ctx) == 0


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_concurrent_keyed_pushes_act_once(api: TestClient, db: Database, alice: Caller) -> None:
    racers = 6
    barrier = threading.Barrier(racers)
    answers: list[Any] = []
    lock = threading.Lock()

    def push() -> None:
        barrier.wait()
        r = api.post(PUSH, json=interaction(), headers=keyed(alice, "race"))
        with lock:
            answers.append(r)

    threads = [threading.Thread(target=push) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first = [r for r in answers if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(first) == 1
    for r in answers:
        if r is first[0]:
            continue
        if r.status_code == 409:
            assert r.json()["type"] == PROBLEM + "idempotency-key-in-use"
        else:
            assert r.headers["idempotent-replayed"] == "true"
            assert r.content == first[0].content
    assert count(db, alice.ctx) == 1
