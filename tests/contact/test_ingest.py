"""Ingestion at the library level: atomic, audited, tenant-bound."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from rempart.audit import Actor, AuditRecord, Origin, audited
from rempart.contact import service
from rempart.contact.models import Customer, Interaction, Queue, TranscriptSegment
from rempart.contact.policy import DataPolicy
from rempart.contact.schemas import InteractionIn, SegmentIn
from rempart.errors import ValidationFailed
from rempart.storage import Database, TenantContext
from rempart.types import TenantId
from rempart.vault import Vault
from tests.conftest import declare_queues

ORIGIN = Origin(actor=Actor(type="system", id="test"))
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


# These tests are about storage (atomicity, reuse, races), queues created on the fly
# included; the default policy's refusal of unknown queues is tested below.
AUTO_QUEUES = DataPolicy(unknown_queues="create")


def payload(external_id: str = "call-1") -> InteractionIn:
    return InteractionIn(
        external_id=external_id,
        channel="call",
        queue="Support",
        customer_id="C-1",
        started_at=START,
        segments=[SegmentIn(speaker="agent", text="Bonjour", start_ms=0, end_ms=900)],
    )


def counts(db: Database, ctx: TenantContext) -> dict[str, int]:
    with db.tenant_session(ctx) as s:
        return {
            m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Interaction, TranscriptSegment, Queue, Customer)
        }


def test_a_failure_after_partial_work_stores_nothing_but_the_failure_record(
    db: Database, tenant_a: TenantContext, vault: Vault
) -> None:
    def ingest_then_fail() -> None:
        with audited(
            db, tenant_a, ORIGIN, action="interaction.create", resource_type="interaction"
        ) as (session, _note):
            service.ingest(session, payload(), created_by="test", vault=vault, policy=AUTO_QUEUES)
            raise ValidationFailed("a later step failed")

    with pytest.raises(ValidationFailed):
        ingest_then_fail()
    assert counts(db, tenant_a) == {
        "interactions": 0,
        "transcript_segments": 0,
        "queues": 0,
        "customers": 0,
    }
    with db.tenant_session(tenant_a) as s:
        rows = list(s.scalars(select(AuditRecord)))
    assert [(r.action, r.outcome, r.reason) for r in rows] == [
        ("interaction.create", "failure", "validation-failed")
    ]


def test_success_commits_the_act_and_its_record_together(
    db: Database, tenant_a: TenantContext, vault: Vault
) -> None:
    with audited(
        db, tenant_a, ORIGIN, action="interaction.create", resource_type="interaction"
    ) as (session, note):
        interaction, created = service.ingest(
            session, payload(), created_by="test", vault=vault, policy=AUTO_QUEUES
        )
        note.resource_id = interaction.id
    assert created
    assert counts(db, tenant_a)["interactions"] == 1
    with db.tenant_session(tenant_a) as s:
        [row] = s.scalars(select(AuditRecord)).all()
    assert (row.outcome, row.resource_id) == ("success", interaction.id)


def test_queues_and_customers_are_reused_within_a_tenant_only(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext, vault: Vault
) -> None:
    for ctx in (tenant_a, tenant_b):
        for ext in ("call-1", "call-2"):
            with db.tenant_session(ctx) as s:
                service.ingest(s, payload(ext), created_by="test", vault=vault, policy=AUTO_QUEUES)
    assert counts(db, tenant_a) == {
        "interactions": 2,
        "transcript_segments": 2,
        "queues": 1,
        "customers": 1,
    }
    assert counts(db, tenant_b) == counts(db, tenant_a)


@pytest.mark.postgres
def test_concurrent_pushes_of_one_interaction_store_it_once(
    db: Database, tenant_a: TenantContext, vault: Vault
) -> None:
    import threading

    from rempart.errors import Conflict

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def push() -> None:
        try:
            with db.tenant_session(tenant_a) as s:
                barrier.wait(timeout=10)
                service.ingest(
                    s, payload("race-1"), created_by="test", vault=vault, policy=AUTO_QUEUES
                )
            outcomes.append("stored")
        except Conflict:
            outcomes.append("conflict")

    if not db.is_postgres:
        pytest.skip("SQLite serialises writers on its file lock")
    vault.ensure_tenant(TenantId(tenant_a.tenant_id))  # keys exist before the race
    threads = [threading.Thread(target=push) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "stored"]
    assert counts(db, tenant_a)["interactions"] == 1


@pytest.mark.postgres
def test_concurrent_interactions_sharing_a_new_queue_both_succeed(
    db: Database, tenant_a: TenantContext, vault: Vault
) -> None:
    import threading

    if not db.is_postgres:
        pytest.skip("SQLite serialises writers on its file lock")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def push(external_id: str) -> None:
        try:
            with db.tenant_session(tenant_a) as s:
                barrier.wait(timeout=10)
                service.ingest(
                    s, payload(external_id), created_by="test", vault=vault, policy=AUTO_QUEUES
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    vault.ensure_tenant(TenantId(tenant_a.tenant_id))
    threads = [threading.Thread(target=push, args=(f"q-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert counts(db, tenant_a) == {
        "interactions": 2,
        "transcript_segments": 2,
        "queues": 1,
        "customers": 1,
    }


def test_an_unknown_queue_is_refused_by_default_and_nothing_is_stored(
    db: Database, tenant_a: TenantContext, vault: Vault
) -> None:
    refused = pytest.raises(ValidationFailed, match="unknown queue 'Support'")
    with refused, db.tenant_session(tenant_a) as s:
        service.ingest(s, payload(), created_by="test", vault=vault)
    assert counts(db, tenant_a)["interactions"] == 0
    assert counts(db, tenant_a)["queues"] == 0
    declare_queues(db, tenant_a, "Support")
    with db.tenant_session(tenant_a) as s:
        _interaction, created = service.ingest(s, payload(), created_by="test", vault=vault)
    assert created
