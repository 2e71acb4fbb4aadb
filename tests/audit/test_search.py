"""Search: filters, newest first, cursor pagination, tenant isolation, hits stay provable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rempart.audit import append_batch, issue_checkpoint, prove_inclusion, search
from rempart.audit.note import Ed25519Signer, NoteVerifier
from rempart.errors import ValidationFailed
from rempart.storage import Database, TenantContext
from tests.audit.conftest import T0, event, fill


def test_filters_combine_and_results_are_newest_first(
    db: Database, tenant_a: TenantContext
) -> None:
    with db.tenant_session(tenant_a) as session:
        append_batch(
            session,
            [
                event(tenant_a, i, actor="bot" if i % 3 == 0 else "agent", action=f"x.{i % 2}")
                for i in range(12)
            ],
        )
        page = search(session, actor_id="bot")
        assert [e.seq for e in page.items] == [9, 6, 3, 0]
        page = search(session, actor_id="bot", action="x.1")
        assert [e.seq for e in page.items] == [9, 3]
        window = search(session, since=T0 + timedelta(seconds=4), until=T0 + timedelta(seconds=6))
        assert [e.seq for e in window.items] == [5, 4]
        assert search(session, resource_id="res-7").items[0].seq == 7
        assert search(session, class_uid=6005, outcome="success", limit=500).next_cursor is None


def test_pages_follow_the_cursor_without_gaps_or_repeats(
    db: Database, tenant_a: TenantContext
) -> None:
    fill(db, tenant_a, 23)
    seen: list[int] = []
    cursor: str | None = None
    with db.tenant_session(tenant_a) as session:
        while True:
            page = search(session, limit=5, cursor=cursor)
            seen.extend(e.seq for e in page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        with pytest.raises(ValidationFailed):
            search(session, cursor="garbage!")
        with pytest.raises(ValidationFailed):
            search(session, limit=0)
    assert seen == list(range(22, -1, -1))


def test_a_tenant_never_finds_another_tenants_entries(
    db: Database, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    fill(db, tenant_a, 3)
    fill(db, tenant_b, 4)
    with db.tenant_session(tenant_b) as session:
        hits = search(session, limit=100).items
    assert len(hits) == 4
    assert all(str(tenant_a.tenant_id) not in e.entry for e in hits)


def test_search_hits_can_be_proven(
    db: Database, tenant_a: TenantContext, signer: Ed25519Signer, verifier: NoteVerifier
) -> None:
    fill(db, tenant_a, 9)
    with db.tenant_session(tenant_a) as session:
        issue_checkpoint(session, signer)
        hit = search(session, resource_id="res-4").items[0]
        proof = prove_inclusion(session, seq=hit.seq)
    assert proof.entry == hit.entry
    proof.verify(verifier)
