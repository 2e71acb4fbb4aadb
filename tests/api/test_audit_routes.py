"""The audit log over the API: search, checkpoints and proofs that verify offline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rempart.api import AppContext, create_app
from rempart.audit import Ed25519Signer, issue_checkpoint
from rempart.audit.note import NoteVerifier
from rempart.audit.proofs import ConsistencyProof, InclusionProof
from rempart.audit.scheduler import CheckpointScheduler
from rempart.config import load_settings
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.api.conftest import Caller, MutableClock, interaction, issue

API = "/api/v1"
SCOPES = ["interaction:write", "interaction:read", "audit:read"]


@pytest.fixture
def signer() -> Ed25519Signer:
    return Ed25519Signer.generate("rempart-test")


@pytest.fixture
def audit_client(
    db: Database, tmp_path: Path, clock: MutableClock, signer: Ed25519Signer, vault: Vault
) -> Iterator[TestClient]:
    settings = load_settings(data_dir=tmp_path / "data")
    app = create_app(
        AppContext(settings=settings, db=db, clock=clock, audit_signer=signer, vault=vault)
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def auditor(db: Database, alice: Caller, clock: MutableClock) -> Caller:
    return issue(db, alice.ctx, scopes=SCOPES, clock=clock)


def checkpoint(db: Database, ctx: TenantContext, signer: Ed25519Signer) -> int:
    with db.tenant_session(ctx) as s:
        return issue_checkpoint(s, signer).size


def test_inclusion_proof_of_an_api_write_verifies_offline(
    audit_client: TestClient, auditor: Caller, db: Database, signer: Ed25519Signer
) -> None:
    created = audit_client.post(f"{API}/interactions", json=interaction(), headers=auditor.headers)
    assert created.status_code == 201
    page = audit_client.get(
        f"{API}/audit/events", params={"action": "interaction.create"}, headers=auditor.headers
    ).json()
    [entry] = page["items"]
    assert entry["resource_id"] == created.json()["id"]
    checkpoint(db, auditor.ctx, signer)
    vkey = audit_client.get(f"{API}/audit/verifier-key", headers=auditor.headers).json()
    verifier = NoteVerifier.from_vkey(vkey["verifier_key"])
    doc = audit_client.get(
        f"{API}/audit/proofs/inclusion", params={"uid": entry["uid"]}, headers=auditor.headers
    ).json()
    proof = InclusionProof.from_json(doc)
    proof.verify(verifier)
    assert proof.entry == entry["entry"]
    # The same proof with the entry altered does not verify.
    forged = InclusionProof.from_json({**doc, "entry": doc["entry"].replace("create", "delete")})
    with pytest.raises(Exception, match=r"(?i)proof|root|mismatch"):
        forged.verify(verifier)


def test_consistency_between_two_checkpoints_verifies(
    audit_client: TestClient,
    auditor: Caller,
    db: Database,
    signer: Ed25519Signer,
    clock: MutableClock,
) -> None:
    audit_client.post(f"{API}/interactions", json=interaction("a"), headers=auditor.headers)
    first = checkpoint(db, auditor.ctx, signer)
    clock.advance(timedelta(minutes=1))
    audit_client.post(f"{API}/interactions", json=interaction("b"), headers=auditor.headers)
    second = checkpoint(db, auditor.ctx, signer)
    assert second > first
    listed = audit_client.get(f"{API}/audit/checkpoints", headers=auditor.headers).json()
    assert [c["size"] for c in listed] == [first, second]
    latest = audit_client.get(f"{API}/audit/checkpoints/latest", headers=auditor.headers).json()
    assert latest["size"] == second
    doc = audit_client.get(
        f"{API}/audit/proofs/consistency", params={"old_size": first}, headers=auditor.headers
    ).json()
    ConsistencyProof.from_json(doc).verify(
        NoteVerifier.from_vkey(
            audit_client.get(f"{API}/audit/verifier-key", headers=auditor.headers).json()[
                "verifier_key"
            ]
        )
    )


def test_another_tenants_entry_cannot_be_proven_or_found(
    audit_client: TestClient, auditor: Caller, bob: Caller, db: Database, signer: Ed25519Signer
) -> None:
    bob_auditor = issue(db, bob.ctx, scopes=SCOPES)
    audit_client.post(f"{API}/interactions", json=interaction(), headers=auditor.headers)
    [entry] = audit_client.get(f"{API}/audit/events", headers=auditor.headers).json()["items"]
    checkpoint(db, auditor.ctx, signer)
    checkpoint(db, bob.ctx, signer)
    r = audit_client.get(
        f"{API}/audit/proofs/inclusion", params={"uid": entry["uid"]}, headers=bob_auditor.headers
    )
    assert r.status_code == 404
    bob_events = audit_client.get(f"{API}/audit/events", headers=bob_auditor.headers).json()
    assert all(e["uid"] != entry["uid"] for e in bob_events["items"])


def test_reading_the_audit_log_is_audited(audit_client: TestClient, auditor: Caller) -> None:
    audit_client.get(f"{API}/audit/events", headers=auditor.headers)
    page = audit_client.get(
        f"{API}/audit/events", params={"action": "audit.search"}, headers=auditor.headers
    ).json()
    assert page["items"]
    assert page["items"][0]["actor_id"] == f"token:{auditor.token_id}"


def test_no_checkpoint_yet_is_a_404(audit_client: TestClient, auditor: Caller) -> None:
    r = audit_client.get(f"{API}/audit/checkpoints/latest", headers=auditor.headers)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_scheduler_signs_logs_that_grew_and_only_those(
    db: Database,
    auditor: Caller,
    signer: Ed25519Signer,
    audit_client: TestClient,
    clock: MutableClock,
) -> None:
    scheduler = CheckpointScheduler(db, signer, interval=timedelta(minutes=5), clock=clock)
    audit_client.post(f"{API}/interactions", json=interaction(), headers=auditor.headers)
    run = scheduler.run_once()
    mine = [cp for cp in run.issued if cp.size > 0 and auditor.ctx.tenant_id in cp.origin]
    assert len(mine) == 1
    assert run.refused == []
    # Nothing new: nothing to sign for this tenant.
    clock.advance(timedelta(minutes=10))
    again = scheduler.run_once()
    assert not [cp for cp in again.issued if auditor.ctx.tenant_id in cp.origin]
