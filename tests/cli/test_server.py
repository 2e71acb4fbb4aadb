"""`rempart serve` refuses a PostgreSQL role that could escape row-level security."""

from __future__ import annotations

from pathlib import Path

import pytest

from rempart.cli.server import prepare_database
from rempart.config import load_settings
from rempart.errors import ConfigurationError
from tests.conftest import PostgresLane

pytestmark = pytest.mark.postgres


def test_serve_accepts_the_application_role(pg_lane: PostgresLane, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=pg_lane.app_url)
    db = prepare_database(settings)
    try:
        assert db.ping()
    finally:
        db.dispose()


def test_serve_refuses_the_table_owner(pg_lane: PostgresLane, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=pg_lane.admin_url)
    with pytest.raises(ConfigurationError, match=r"unsafe database role: .*owns tables"):
        prepare_database(settings)


def test_serve_refuses_a_superuser(pg_lane: PostgresLane, tmp_path: Path) -> None:
    url = pg_lane.server.url(pg_lane.server.superuser, "rempart")
    settings = load_settings(data_dir=tmp_path, database_url=url)
    with pytest.raises(ConfigurationError, match="superuser"):
        prepare_database(settings)


def test_serve_refuses_a_schema_that_is_not_current(pg_lane: PostgresLane, tmp_path: Path) -> None:
    pg_lane.server.execute("CREATE DATABASE empty_for_test")
    url = pg_lane.server.url("rempart_app_login", "empty_for_test")
    settings = load_settings(data_dir=tmp_path, database_url=url)
    with pytest.raises(ConfigurationError, match="not current"):
        prepare_database(settings)
