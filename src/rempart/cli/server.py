"""Start the API server (``rempart serve``) and the demo (``rempart demo``)."""

from __future__ import annotations

from datetime import timedelta

import uvicorn

from rempart.api import AppContext, create_app
from rempart.audit import checkpoint_signer
from rempart.audit.scheduler import CheckpointScheduler
from rempart.cli.common import console
from rempart.config import Settings
from rempart.demo import seed
from rempart.errors import ConfigurationError
from rempart.logs import configure_logging
from rempart.retention import RetentionScheduler, media_eraser
from rempart.storage import Database
from rempart.storage.migrate import is_up_to_date, upgrade
from rempart.storage.open import open_database
from rempart.storage.rls import posture_problems
from rempart.vault.setup import open_vault


def prepare_database(settings: Settings) -> Database:
    """Open the app database; migrate SQLite; refuse a PostgreSQL role that escapes RLS."""
    if settings.is_sqlite:
        db = open_database(settings)
        upgrade(db.engine)
        return db
    db = open_database(settings)
    try:
        if not is_up_to_date(db.engine):
            raise ConfigurationError("database schema is not current: run `rempart db upgrade`")
        with db.engine.connect() as conn:
            problems = posture_problems(conn)
        if problems:
            raise ConfigurationError("unsafe database role: " + "; ".join(problems))
    except BaseException:
        db.dispose()
        raise
    return db


def run_server(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    configure_logging(settings.log_level, settings.log_format)
    db = prepare_database(settings)
    signer = checkpoint_signer(settings)
    vault = open_vault(settings, db)
    app = create_app(AppContext(settings=settings, db=db, audit_signer=signer, vault=vault))
    scheduler = CheckpointScheduler(
        db, signer, interval=timedelta(seconds=settings.audit_checkpoint_interval_seconds)
    )
    scheduler.start()
    # Retention purge of every tenant, hourly (rempart.retention; docs/retention.md).
    retention = RetentionScheduler(db, media_eraser(settings))
    retention.start()
    try:
        uvicorn.run(
            app,
            host=host or settings.host,
            port=port or settings.port,
            log_config=None,
            access_log=False,
            server_header=False,
        )
    finally:
        retention.stop()
        scheduler.stop()
        db.dispose()


def run_demo(settings: Settings, *, port: int = 8000, serve: bool = True) -> None:
    db = prepare_database(settings)
    tenants = seed(db, open_vault(settings, db))
    base = f"http://127.0.0.1:{port}"
    console.print("[bold]Rempart demo[/bold]: two tenants with synthetic data\n")
    for t in tenants:
        console.print(f"tenant [bold]{t.slug}[/bold] ({t.tenant_id})")
        console.print("  token (read and write interactions):")
        print(f"  {t.token}")
    first = tenants[0]
    console.print("\nTry:")
    print(f"  curl -s -H 'Authorization: Bearer {first.token}' {base}/api/v1/interactions")
    console.print(f"\nAPI documentation: {base}/api/v1/docs   health: {base}/healthz")
    db.dispose()
    if serve:
        run_server(settings, host="127.0.0.1", port=port)


__all__ = ["prepare_database", "run_demo", "run_server"]
