"""Run the Alembic migrations shipped in the package, programmatically.

Each capability adds its own revision files to ``migrations/versions``;
branches are allowed (one per capability, off the foundation revision), so
upgrades go to ``heads``.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to date (run with the owner's credentials on PostgreSQL)."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def expected_heads() -> set[str]:
    """The heads of the migrations shipped with this code (read once per process)."""
    return set(_shipped_heads())


@functools.cache
def _shipped_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def is_up_to_date(engine: Engine) -> bool:
    return current_heads(engine) == expected_heads()


__all__ = ["current_heads", "expected_heads", "is_up_to_date", "upgrade"]
