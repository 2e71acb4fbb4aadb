"""Fixtures shared by the whole suite: the two storage lanes (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from rempart.config import load_settings
from rempart.storage import Database, TenantContext
from rempart.storage.migrate import upgrade
from rempart.storage.tenants import create_tenant
from rempart.types import TenantId
from rempart.vault import Vault, open_local_vault
from rempart.vault.sql_store import SqlKeyringStore
from tests.pg import PostgresServer, find_pg_bin

# No timing in tests: a property example that is slow on a loaded machine is not a
# failure. In CI the examples are derandomized, so a run is reproducible.
hypothesis_settings.register_profile(
    "rempart", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "rempart-ci",
    parent=hypothesis_settings.get_profile("rempart"),
    derandomize=True,
    print_blob=True,
)
hypothesis_settings.load_profile("rempart-ci" if os.environ.get("CI") else "rempart")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

APP_LOGIN = "rempart_app_login"
OWNER = "rempart_owner"


@dataclass(frozen=True)
class PostgresLane:
    server: PostgresServer
    admin_url: str
    app_url: str


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    if find_pg_bin() is None:
        pytest.fail("PostgreSQL binaries not found: run `make test`, which installs them")
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_lane(pg_server: PostgresServer) -> PostgresLane:
    """A migrated database owned by a non-superuser, and a separate app login role."""
    pg_server.execute(f"CREATE ROLE {OWNER} LOGIN CREATEROLE")
    pg_server.execute(f"CREATE DATABASE rempart OWNER {OWNER}")
    admin_url = pg_server.url(OWNER, "rempart")
    owner_db = Database.from_url(admin_url, pool_size=1)
    upgrade(owner_db.engine)
    owner_db.dispose()
    pg_server.execute(f"CREATE ROLE {APP_LOGIN} LOGIN IN ROLE rempart_app")
    return PostgresLane(pg_server, admin_url, pg_server.url(APP_LOGIN, "rempart"))


def _sqlite_db(tmp_path: Path) -> Database:
    db = Database.from_url(f"sqlite:///{tmp_path / 'rempart.db'}")
    upgrade(db.engine)
    return db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The application's database, on each lane; PostgreSQL connects as the app role."""
    if request.param == "sqlite":
        database = _sqlite_db(tmp_path)
    else:
        lane: PostgresLane = request.getfixturevalue("pg_lane")
        database = Database.from_url(lane.app_url, pool_size=2)
    try:
        yield database
    finally:
        database.dispose()


def make_tenant(db: Database, prefix: str = "t") -> TenantContext:
    """A tenant with a unique slug, so tests sharing a database never collide."""
    slug = f"{prefix}-{uuid.uuid4().hex[:12]}"
    with db.platform_session() as session:
        tenant = create_tenant(session, slug, f"Tenant {slug}")
        return TenantContext(TenantId(tenant.id))


# Queues the shared test payloads name ("queue": "Sinistres"...). Ingest refuses a
# queue the tenant's directory does not know (rempart.contact.policy.unknown_queues).
TEST_QUEUES = ("Sinistres", "Habitation", "Support", "Orders")


def declare_queues(db: Database, ctx: TenantContext, *names: str) -> TenantContext:
    from rempart.contact.directory import add_queue

    with db.tenant_session(ctx) as session:
        for name in names or TEST_QUEUES:
            add_queue(session, name)
    return ctx


@pytest.fixture
def tenant_a(db: Database) -> TenantContext:
    return make_tenant(db, "a")


@pytest.fixture
def tenant_b(db: Database) -> TenantContext:
    return make_tenant(db, "b")


@pytest.fixture
def vault(db: Database, tmp_path: Path) -> Vault:
    """A vault with a local key file and its keyring in the test database."""
    settings = load_settings(data_dir=tmp_path / "vault")
    return open_local_vault(settings, store=SqlKeyringStore(db))
