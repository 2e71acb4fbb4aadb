"""An API client over each storage lane, with machine tokens for two tenants."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rempart.access import ObjectType, RelationKind
from rempart.api import AppContext, create_app
from rempart.audit import Ed25519Signer
from rempart.config import load_settings
from rempart.identity.assurance import Level
from rempart.identity.tokens import create_token
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.api.people import Person, person, relate, team_with_queue
from tests.conftest import declare_queues, make_tenant


class MutableClock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Caller:
    ctx: TenantContext
    token: str
    token_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(datetime(2026, 11, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def client(db: Database, tmp_path: Path, clock: MutableClock, vault: Vault) -> Iterator[TestClient]:
    settings = load_settings(data_dir=tmp_path / "data", max_request_bytes=64 * 1024)
    signer = Ed25519Signer.generate("rempart-test")
    app = create_app(
        AppContext(settings=settings, db=db, clock=clock, vault=vault, audit_signer=signer)
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def issue(
    db: Database,
    ctx: TenantContext,
    scopes: list[str] | None = None,
    ttl: timedelta | None = timedelta(days=30),
    clock: MutableClock | None = None,
) -> Caller:
    with db.tenant_session(ctx) as s:
        issued = create_token(
            s,
            ctx.tenant_id,
            "test",
            scopes or ["interaction:write", "interaction:read"],
            ttl=ttl,
            **({"clock": clock} if clock else {}),
        )
    return Caller(ctx, issued.value, issued.token_id)


@pytest.fixture
def alice(db: Database, clock: MutableClock) -> Caller:
    return issue(db, declare_queues(db, make_tenant(db, "alice")), clock=clock)


@pytest.fixture
def bob(db: Database, clock: MutableClock) -> Caller:
    return issue(db, declare_queues(db, make_tenant(db, "bob")), clock=clock)


def interaction(external_id: str = "call-0001", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": external_id,
        "channel": "call",
        "direction": "inbound",
        "language": "fr",
        "queue": "Sinistres",
        "customer_id": "CUST-123456",
        "started_at": "2026-11-02T09:00:00Z",
        "ended_at": "2026-11-02T09:07:00Z",
        "segments": [
            {"speaker": "agent", "text": "Bonjour, je vous écoute.", "start_ms": 0, "end_ms": 2100},
            {
                "speaker": "customer",
                "text": "Je m'appelle Jeanne Martin.",
                "start_ms": 2400,
                "end_ms": 5000,
            },
        ],
        "recordings": [{"media_type": "audio/wav", "duration_ms": 420000, "channels": 2}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def cast(db: Database, alice: Caller, clock: MutableClock) -> dict[str, Person]:
    """Team A (queue Sinistres) and team B (queue Habitation), with their people."""
    team_a = team_with_queue(db, alice.ctx, "Team A", "Sinistres")
    team_b = team_with_queue(db, alice.ctx, "Team B", "Habitation")
    people = {
        "agent_a": person(db, alice.ctx, clock, "agent-a", ["agent"]),
        "agent_b": person(db, alice.ctx, clock, "agent-b", ["agent"]),
        "sup_a": person(db, alice.ctx, clock, "sup-a", ["supervisor"]),
        "sup_a_mfa": person(
            db, alice.ctx, clock, "sup-a-mfa", ["supervisor"], assurance=Level.MULTI_FACTOR
        ),
        "sup_b": person(
            db, alice.ctx, clock, "sup-b", ["supervisor"], assurance=Level.MULTI_FACTOR
        ),
        "auditor": person(db, alice.ctx, clock, "auditor", ["auditor"]),
    }
    for who in ("sup_a", "sup_a_mfa"):
        relate(db, alice.ctx, clock, people[who], RelationKind.SUPERVISES, ObjectType.TEAM, team_a)
    relate(db, alice.ctx, clock, people["sup_b"], RelationKind.SUPERVISES, ObjectType.TEAM, team_b)
    return people


@pytest.fixture
def api(db: Database, tmp_path: Path, clock: MutableClock, vault: Vault) -> Iterator[TestClient]:
    """The app as the ingestion tests drive it (``tests.ingest.support.build_client``)."""
    from tests.ingest.support import build_client

    with build_client(db, tmp_path, clock, vault) as c:
        yield c
