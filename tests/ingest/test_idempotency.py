"""The idempotency store: reserve, keep, replay, refuse, expire; one winner under a race."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from rempart.ingest import IdempotencyKeyInUse, IdempotencyKeyInvalid, IdempotencyKeyReused
from rempart.ingest import idempotency as idem
from rempart.ingest.cleanup import purge_expired
from rempart.ingest.idempotency import Reserved, StoredResponse
from rempart.ingest.models import IdempotencyRecord
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.ingest.conftest import NOW

TTL = timedelta(hours=24)
LEASE = timedelta(minutes=5)
SHA = idem.fingerprint("POST", "/api/v1/interactions", b'{"a":1}')
ANSWER = StoredResponse(
    201, {"content-type": "application/json", "location": "/x/1"}, b'{"id":"1"}'
)


def _begin(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    key: str = "k-1",
    sha: str = SHA,
    now: datetime = NOW,
) -> Reserved | StoredResponse:
    with db.tenant_session(ctx) as s:
        return idem.begin(s, vault, key=key, request_sha256=sha, now=now, ttl=TTL, lease=LEASE)


def _complete(
    db: Database, vault: Vault, ctx: TenantContext, r: Reserved, answer: StoredResponse = ANSWER
) -> None:
    with db.tenant_session(ctx) as s:
        idem.complete(s, vault, r, answer, now=NOW)


def test_first_use_reserves_then_retries_get_the_kept_answer(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    reserved = _begin(db, ivault, tenant_a)
    assert isinstance(reserved, Reserved)
    _complete(db, ivault, tenant_a, reserved)
    again = _begin(db, ivault, tenant_a)
    assert again == ANSWER


def test_the_same_key_with_another_request_is_refused(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    reserved = _begin(db, ivault, tenant_a)
    assert isinstance(reserved, Reserved)
    _complete(db, ivault, tenant_a, reserved)
    other = idem.fingerprint("POST", "/api/v1/interactions", b'{"a":2}')
    with pytest.raises(IdempotencyKeyReused):
        _begin(db, ivault, tenant_a, sha=other)
    other_path = idem.fingerprint("POST", "/api/v1/interactions/batch", b'{"a":1}')
    with pytest.raises(IdempotencyKeyReused):
        _begin(db, ivault, tenant_a, sha=other_path)


def test_a_key_whose_first_request_is_running_is_in_use(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    assert isinstance(_begin(db, ivault, tenant_a), Reserved)
    with pytest.raises(IdempotencyKeyInUse):
        _begin(db, ivault, tenant_a)
    with pytest.raises(IdempotencyKeyInUse):
        _begin(db, ivault, tenant_a, now=NOW + LEASE - timedelta(seconds=1))


def test_an_abandoned_reservation_is_taken_over_after_the_lease(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    first = _begin(db, ivault, tenant_a)
    taken = _begin(db, ivault, tenant_a, now=NOW + LEASE)
    assert isinstance(first, Reserved)
    assert isinstance(taken, Reserved)
    assert taken.record_id == first.record_id
    with pytest.raises(IdempotencyKeyInUse):
        _begin(db, ivault, tenant_a, now=NOW + LEASE)


def test_a_released_key_runs_again(db: Database, ivault: Vault, tenant_a: TenantContext) -> None:
    reserved = _begin(db, ivault, tenant_a)
    assert isinstance(reserved, Reserved)
    with db.tenant_session(tenant_a) as s:
        idem.release(s, reserved)
    assert isinstance(_begin(db, ivault, tenant_a), Reserved)


def test_keys_expire_after_the_ttl(db: Database, ivault: Vault, tenant_a: TenantContext) -> None:
    reserved = _begin(db, ivault, tenant_a)
    assert isinstance(reserved, Reserved)
    _complete(db, ivault, tenant_a, reserved)
    assert _begin(db, ivault, tenant_a, now=NOW + TTL - timedelta(seconds=1)) == ANSWER
    other = idem.fingerprint("POST", "/api/v1/interactions", b"{}")
    fresh = _begin(db, ivault, tenant_a, sha=other, now=NOW + TTL)
    assert isinstance(fresh, Reserved)


def test_keys_are_per_tenant(
    db: Database, ivault: Vault, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    reserved = _begin(db, ivault, tenant_a)
    assert isinstance(reserved, Reserved)
    _complete(db, ivault, tenant_a, reserved)
    assert isinstance(_begin(db, ivault, tenant_b), Reserved)


def test_the_kept_answer_is_sealed(db: Database, ivault: Vault, tenant_a: TenantContext) -> None:
    reserved = _begin(db, ivault, tenant_a)
    assert isinstance(reserved, Reserved)
    secret_body = StoredResponse(201, {}, b'{"text":"Jeanne Martin 4970101234567893"}')
    _complete(db, ivault, tenant_a, reserved, secret_body)
    with db.tenant_session(tenant_a) as s:
        raw = s.execute(text("SELECT response_ct FROM idempotency_keys")).scalars().one()
    assert b"Jeanne" not in bytes(raw)
    assert b"4970101234567893" not in bytes(raw)


@pytest.mark.parametrize("key", ["", "a b", "é", "x" * 256, "tab\there"])
def test_malformed_keys_are_refused(
    db: Database, ivault: Vault, tenant_a: TenantContext, key: str
) -> None:
    with pytest.raises(IdempotencyKeyInvalid):
        _begin(db, ivault, tenant_a, key=key)


@pytest.mark.parametrize(
    ("status", "kept"),
    [(200, True), (201, True), (400, True), (404, True), (422, True), (401, False),
     (403, False), (409, False), (429, False), (500, False), (503, False)],
)  # fmt: skip
def test_which_answers_are_kept(status: int, kept: bool) -> None:
    assert idem.keeps(status) is kept


def test_purge_deletes_expired_records_and_replays_only(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    old = _begin(db, ivault, tenant_a, key="old")
    assert isinstance(old, Reserved)
    _complete(db, ivault, tenant_a, old)
    young = _begin(db, ivault, tenant_a, key="young", now=NOW + timedelta(hours=12))
    assert isinstance(young, Reserved)
    report = purge_expired(db, now=NOW + TTL)
    assert report.idempotency_keys >= 1
    with db.tenant_session(tenant_a) as s:
        keys = set(s.scalars(select(IdempotencyRecord.key)))
    assert keys == {"young"}


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
def test_concurrent_first_uses_have_exactly_one_winner(
    db: Database, ivault: Vault, tenant_a: TenantContext
) -> None:
    racers = 6
    barrier = threading.Barrier(racers)
    outcomes: list[object] = []
    lock = threading.Lock()

    def race() -> None:
        barrier.wait()
        try:
            result: object = _begin(db, ivault, tenant_a, key="race")
        except IdempotencyKeyInUse as exc:
            result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == racers
    assert sum(isinstance(o, Reserved) for o in outcomes) == 1
    assert sum(isinstance(o, IdempotencyKeyInUse) for o in outcomes) == racers - 1
