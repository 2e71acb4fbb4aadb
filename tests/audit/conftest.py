"""Shared fixtures of the audit tests: the Merkle vectors, a signer, event factories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rempart.audit import Actor, AuditEvent, Ed25519Signer
from rempart.audit.note import NoteVerifier, verifier_key
from rempart.storage import Database, TenantContext
from rempart.types import TenantId

REPO_ROOT = Path(__file__).resolve().parents[2]
MERKLE_VECTORS = REPO_ROOT.parent / "shared" / "data" / "merkle"
T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def merkle_vectors() -> Path:
    if not MERKLE_VECTORS.is_dir():
        pytest.skip(f"Merkle test vectors absent: expected them in {MERKLE_VECTORS}")
    return MERKLE_VECTORS


@pytest.fixture(scope="session")
def signer() -> Ed25519Signer:
    return Ed25519Signer.generate("rempart-test")


@pytest.fixture(scope="session")
def verifier(signer: Ed25519Signer) -> NoteVerifier:
    return NoteVerifier.from_vkey(verifier_key(signer))


def event(
    tenant: TenantContext | TenantId | str,
    i: int = 0,
    *,
    action: str = "interaction.read",
    resource_type: str = "interaction",
    actor: str = "agent-1",
    **extra: Any,
) -> AuditEvent:
    tenant_id = tenant.tenant_id if isinstance(tenant, TenantContext) else TenantId(str(tenant))
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "actor": Actor("user", actor),
        "action": action,
        "resource_type": resource_type,
        "resource_id": f"res-{i}",
        "outcome": "success",
        "time": T0 + timedelta(seconds=i),
        "request_id": f"req-{i}",
        "source_ip": "192.0.2.10",
        "user_agent": "pytest",
    }
    fields.update(extra)
    return AuditEvent(**fields)


def fill(db: Database, tenant: TenantContext, n: int, start: int = 0) -> None:
    from rempart.audit import append_batch

    with db.tenant_session(tenant) as session:
        append_batch(session, [event(tenant, start + i) for i in range(n)])


def rebuild_tree(db: Database, tenant: TenantContext) -> None:
    """What an attacker with database access does after editing entries: recompute the
    leaf hashes, every interior node and the head, so the stored tree looks coherent."""
    from sqlalchemy import delete, select

    from rempart.audit.merkle import CompactRange, leaf_hash
    from rempart.audit.models import AuditNode, AuditRecord
    from rempart.audit.store import log_of, read_head

    with db.tenant_session(tenant) as session:
        rows = list(
            session.scalars(
                select(AuditRecord).where(AuditRecord.seq.is_not(None)).order_by(AuditRecord.seq)
            )
        )
        session.execute(delete(AuditNode))
        rng = CompactRange()
        for row in rows:
            row.leaf_hash = leaf_hash((row.entry or "").encode())
            for node in rng.append(row.leaf_hash):
                session.add(
                    AuditNode(
                        tenant_id=tenant.tenant_id, level=node.level, idx=node.index, hash=node.hash
                    )
                )
        head = read_head(session, log_of(session))
        if head is not None:
            head.size, head.compact, head.root = rng.size, [h.hex() for h in rng.hashes], rng.root()
