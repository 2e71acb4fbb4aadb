"""Cross-cutting API behaviour: request ids, health, OpenAPI, declared scopes, logs."""

from __future__ import annotations

import io
import json
from pathlib import Path

from fastapi.testclient import TestClient

from rempart.api.access import PERMISSION_EXTENSION
from rempart.api.deps import SCOPE_EXTENSION
from rempart.api.routes.ingest import AUTH_EXTENSION, WEBHOOK_AUTH
from rempart.identity.scopes import Scope
from rempart.logs import configure_logging
from rempart.storage import Database
from rempart.storage.tenants import Tenant
from tests.api.conftest import Caller, interaction, issue

API = "/api/v1/interactions"


def test_request_id_is_kept_when_well_formed_and_replaced_otherwise(
    client: TestClient, alice: Caller
) -> None:
    kept = client.get(API, headers={**alice.headers, "X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    replaced = client.get(API, headers={**alice.headers, "X-Request-ID": "bad id\twith junk"})
    assert replaced.headers["x-request-id"] != "bad id\twith junk"
    assert len(replaced.headers["x-request-id"]) == 32


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_openapi_publishes_the_ingestion_schema(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert schemas["InteractionIn"]["additionalProperties"] is False
    assert set(schemas["InteractionIn"]["required"]) == {"external_id", "channel", "started_at"}
    post = doc["paths"][API]["post"]
    assert "application/problem+json" in post["responses"]["422"]["content"]


def test_every_api_operation_declares_a_scope_and_enforces_it(
    client: TestClient, alice: Caller, db: Database
) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    # Routes for signed-in people declare a permission instead (tests/api/test_permissions.py).
    operations = [
        (method, path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/api/v1")
        for method, op in item.items()
        if PERMISSION_EXTENSION not in op
        # Signed webhooks authenticate by signature instead (test below).
        if AUTH_EXTENSION not in op
    ]
    assert len(operations) >= 3
    every_scope = {s.value for s in Scope}
    for method, path, op in operations:
        declared = op.get(SCOPE_EXTENSION)
        assert declared in every_scope, f"{method.upper()} {path} declares no scope"
        url = path.replace("{interaction_id}", "00000000-0000-4000-8000-000000000000")
        without = issue(db, alice.ctx, scopes=sorted(every_scope - {declared}))
        r = client.request(method, url, headers=without.headers, json=interaction())
        assert r.status_code == 403, f"{method.upper()} {path} not enforced"
        assert r.json()["required_scope"] == declared
        only = issue(db, alice.ctx, scopes=[declared])
        r = client.request(method, url, headers=only.headers, json=interaction())
        assert r.status_code not in (401, 403), f"{method.upper()} {path}: {r.text}"


def test_the_only_operations_without_a_scope_are_signed_webhooks_and_they_refuse_tokens(
    client: TestClient, alice: Caller, db: Database
) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    signed = [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if AUTH_EXTENSION in op
    ]
    assert [(m, p) for m, p, _ in signed] == [("post", "/api/v1/webhooks/{tenant}/interactions")]
    with db.platform_session() as session:
        slug = session.get(Tenant, alice.ctx.tenant_id).slug  # type: ignore[union-attr]
    for method, path, op in signed:
        assert op[AUTH_EXTENSION] == WEBHOOK_AUTH
        assert SCOPE_EXTENSION not in op
        # A bearer token, even with every scope, is not a signature.
        every = issue(db, alice.ctx, scopes=sorted(s.value for s in Scope))
        url = path.replace("{tenant}", slug)
        r = client.request(method, url, headers=every.headers, json=interaction())
        assert r.status_code == 401, f"{method.upper()} {path}: {r.text}"
        assert r.json()["type"] == "urn:rempart:problem:webhook-signature-missing"


def test_logs_never_carry_tokens_or_message_text(client: TestClient, alice: Caller) -> None:
    buf = io.StringIO()
    configure_logging("debug", "json", stream=buf)
    try:
        secret_text = "ma carte 4970 1012 3456 7890"
        body = interaction(
            segments=[{"speaker": "customer", "text": secret_text, "start_ms": 0, "end_ms": 1}]
        )
        client.post(API, json=body, headers=alice.headers)
        client.post(API, json={**body, "oops": secret_text}, headers=alice.headers)
        client.get(API, headers={"Authorization": alice.token[:-3] + "xyz"})
    finally:
        configure_logging("info", "json")
    out = buf.getvalue()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "request" for line in lines)
    assert secret_text not in out
    assert alice.token not in out
    assert alice.token.split("_", 3)[3] not in out


def test_an_unreachable_database_is_a_retryable_503(tmp_path: Path) -> None:
    from rempart.api import AppContext, create_app
    from rempart.config import load_settings
    from tests.pg import free_port

    dead = Database.from_url(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    app = create_app(AppContext(settings=load_settings(data_dir=tmp_path), db=dead))
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            token = "rmp_" + "1" * 32 + "_" + "2" * 32 + "_secret"
            r = c.get(API, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 503
            assert r.headers["retry-after"] == "1"
            assert r.json()["type"] == "urn:rempart:problem:database-unavailable"
            assert c.get("/readyz").status_code == 503
            assert c.get("/healthz").status_code == 200
    finally:
        dead.dispose()
