"""A tenant's IP allowlist applies to its machine tokens on the API, and refusals are audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.api import AppContext, create_app
from rempart.audit import AuditRecord
from rempart.config import load_settings
from rempart.identity.idp import PolicySettings, set_policy
from rempart.storage import Database
from rempart.vault import Vault
from tests.api.conftest import Caller, MutableClock

API = "/api/v1/interactions"


@pytest.fixture
def from_address(
    db: Database, tmp_path: Path, clock: MutableClock, vault: Vault
) -> Iterator[TestClient]:
    settings = load_settings(data_dir=tmp_path)
    app = create_app(AppContext(settings=settings, db=db, clock=clock, vault=vault))
    with TestClient(app, raise_server_exceptions=False, client=("203.0.113.7", 50000)) as c:
        yield c


def allow(db: Database, caller: Caller, *networks: str) -> None:
    with db.tenant_session(caller.ctx) as s:
        set_policy(s, caller.ctx.tenant_id, PolicySettings(allowed_networks=networks))


def test_no_allowlist_admits_every_address(from_address: TestClient, alice: Caller) -> None:
    assert from_address.get(API, headers=alice.headers).status_code == 200


def test_an_address_inside_the_allowlist_is_admitted(
    from_address: TestClient, alice: Caller, db: Database
) -> None:
    allow(db, alice, "203.0.113.0/24", "2001:db8::/32")
    assert from_address.get(API, headers=alice.headers).status_code == 200


def test_an_address_outside_the_allowlist_is_refused_and_audited(
    from_address: TestClient, alice: Caller, db: Database
) -> None:
    allow(db, alice, "10.0.0.0/8", "2001:db8::/32")
    r = from_address.get(API, headers=alice.headers)
    assert r.status_code == 403
    assert r.json()["type"] == "urn:rempart:problem:network-not-allowed"
    with db.tenant_session(alice.ctx) as s:
        rows = list(s.scalars(select(AuditRecord).where(AuditRecord.outcome == "failure")))
    assert [(a.action, a.reason, a.source_ip) for a in rows] == [
        ("auth.machine_token", "network-not-allowed", "203.0.113.7")
    ]


def test_a_wrong_secret_from_outside_says_only_invalid_token(
    from_address: TestClient, alice: Caller, db: Database
) -> None:
    allow(db, alice, "10.0.0.0/8")
    forged = alice.token[:-4] + ("AAAA" if not alice.token.endswith("AAAA") else "BBBB")
    r = from_address.get(API, headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    assert r.json()["detail"] == "invalid token"
