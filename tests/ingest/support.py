"""Shared by the ingestion tests: a vault over the test database and an API client with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from rempart.api import AppContext, create_app
from rempart.config import load_settings
from rempart.ingest import IngestConfig, IssuedSecret, create_secret, header_value, sign
from rempart.storage import Database, TenantContext
from rempart.types import Clock
from rempart.vault import Vault, open_local_vault
from rempart.vault.sql_store import SqlKeyringStore


def build_vault(db: Database, tmp_path: Path) -> Vault:
    settings = load_settings(data_dir=tmp_path / "ingest-vault")
    return open_local_vault(settings, store=SqlKeyringStore(db))


def build_client(
    db: Database,
    tmp_path: Path,
    clock: Clock,
    vault: Vault | None,
    config: IngestConfig | None = None,
    max_request_bytes: int = 64 * 1024,
) -> TestClient:
    settings = load_settings(data_dir=tmp_path / "data", max_request_bytes=max_request_bytes)
    app = create_app(AppContext(settings=settings, db=db, clock=clock, vault=vault))
    if config is not None:
        app.state.ingest = config
    return TestClient(app, raise_server_exceptions=False)


def new_secret(db: Database, vault: Vault, ctx: TenantContext, clock: Clock) -> IssuedSecret:
    with db.tenant_session(ctx) as session:
        return create_secret(session, vault, actor="test", now=clock())


def signed(
    body: dict[str, Any] | bytes, secrets: list[str], timestamp: int
) -> tuple[bytes, dict[str, str]]:
    """The body bytes and the headers of a delivery signed with each of ``secrets``."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = header_value(timestamp, [sign(s, timestamp, raw) for s in secrets])
    return raw, {"Content-Type": "application/json", "Rempart-Signature": header}
