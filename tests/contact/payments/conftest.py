"""An API client with a vault (keyrings in the database) and a test processor, on each lane."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rempart.api import AppContext, create_app
from rempart.config import load_settings
from rempart.contact.payments import PaymentConfig, TestProcessor
from rempart.storage import Database
from rempart.vault import Vault, open_local_vault
from rempart.vault.sql_store import SqlKeyringStore
from tests.api.conftest import Caller, MutableClock, clock, interaction, issue
from tests.conftest import declare_queues, make_tenant

__all__ = ["clock"]

CAPTURES = "/api/v1/payments/captures"
PAN = "4970101234567893"
CVV = "582"
EXPIRY = "1229"
AMEX = "378282246310005"


@dataclass
class Flow:
    """The IVR's token, the agent desktop's token and the CCaaS pusher's, for one tenant."""

    ivr: Caller
    agent: Caller
    pusher: Caller


@pytest.fixture
def processor() -> TestProcessor:
    return TestProcessor()


@pytest.fixture
def config(processor: TestProcessor) -> PaymentConfig:
    return PaymentConfig(processor=processor, observe_poll_s=0.01)


@pytest.fixture
def vault(db: Database, tmp_path: Path) -> Vault:
    settings = load_settings(data_dir=tmp_path / "data")
    return open_local_vault(settings, store=SqlKeyringStore(db))


def make_client(
    db: Database, tmp_path: Path, clock: MutableClock, vault: Vault | None, config: PaymentConfig
) -> TestClient:
    settings = load_settings(data_dir=tmp_path / "data", max_request_bytes=64 * 1024)
    ctx = AppContext(settings=settings, db=db, clock=clock, vault=vault, payments=config)
    return TestClient(create_app(ctx), raise_server_exceptions=False)


@pytest.fixture
def client(
    db: Database, tmp_path: Path, clock: MutableClock, vault: Vault, config: PaymentConfig
) -> Iterator[TestClient]:
    with make_client(db, tmp_path, clock, vault, config) as c:
        yield c


def flow_for(db: Database, clock: MutableClock, prefix: str) -> Flow:
    ctx = declare_queues(db, make_tenant(db, prefix))
    return Flow(
        ivr=issue(db, ctx, ["payment:capture"], clock=clock),
        agent=issue(db, ctx, ["payment:observe"], clock=clock),
        pusher=issue(db, ctx, ["interaction:write", "interaction:read"], clock=clock),
    )


@pytest.fixture
def alice(db: Database, clock: MutableClock) -> Flow:
    return flow_for(db, clock, "alice")


@pytest.fixture
def bob(db: Database, clock: MutableClock) -> Flow:
    return flow_for(db, clock, "bob")


def push_call(client: TestClient, flow: Flow, external_id: str = "call-0001") -> str:
    r = client.post(
        "/api/v1/interactions", json=interaction(external_id), headers=flow.pusher.headers
    )
    assert r.status_code == 201, r.text
    interaction_id: str = r.json()["id"]
    return interaction_id


def open_capture(client: TestClient, flow: Flow, interaction_id: str, **extra: Any) -> str:
    body = {"interaction_id": interaction_id, "amount_minor": 4990, "currency": "EUR", **extra}
    r = client.post(CAPTURES, json=body, headers=flow.ivr.headers)
    assert r.status_code == 201, r.text
    capture_id: str = r.json()["capture_id"]
    return capture_id


def keys(client: TestClient, flow: Flow, capture_id: str, pressed: str, **extra: Any) -> Any:
    return client.post(
        f"{CAPTURES}/{capture_id}/dtmf", json={"keys": pressed, **extra}, headers=flow.ivr.headers
    )


def enter_card(
    client: TestClient, flow: Flow, capture_id: str, pan: str = PAN, cvv: str = CVV
) -> None:
    """Key by key, the way a caller types, then the expiry and the code in one go each."""
    for digit in pan:
        assert keys(client, flow, capture_id, digit).status_code == 200
    assert keys(client, flow, capture_id, "#").status_code == 200
    assert keys(client, flow, capture_id, EXPIRY).status_code == 200
    r = keys(client, flow, capture_id, cvv)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready"
