"""What every command shares: settings, the database, one-line errors."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from rempart.audit import Actor, AuditNote, Origin, audited
from rempart.config import Settings, load_settings
from rempart.errors import RempartError
from rempart.storage import Database, TenantContext
from rempart.storage.open import open_database
from rempart.storage.tenants import get_tenant

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line on stderr and return the exit to raise."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return typer.Exit(code)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn Rempart and database errors into one line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except RempartError as exc:
            raise fail(exc.detail) from None
        except SQLAlchemyError as exc:
            raise fail(f"database error: {type(exc).__name__}") from None

    return wrapper


def settings_from(config: Path | None) -> Settings:
    return load_settings(config)


@contextmanager
def database(settings: Settings, *, admin: bool = False) -> Iterator[Database]:
    db = open_database(settings, admin=admin)
    try:
        yield db
    finally:
        db.dispose()


def tenant_context(db: Database, ref: str) -> TenantContext:
    with db.platform_session() as session:
        return TenantContext(get_tenant(session, ref).tenant_id)


def cli_actor() -> Actor:
    """The actor of an act done from the command line: the operating-system user."""
    return Actor("system", f"cli:{getpass.getuser()}")


def cli_origin() -> Origin:
    return Origin(cli_actor())


@contextmanager
def audited_change(
    db: Database, ctx: TenantContext, action: str, resource_type: str
) -> Iterator[tuple[Session, AuditNote]]:
    """A tenant transaction whose outcome is audited: changes made from the
    command line leave the same trace as changes made over the API."""
    with audited(db, ctx, cli_origin(), action=action, resource_type=resource_type) as pair:
        yield pair


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


TenantOption = typer.Option(..., "--tenant", "-t", help="Tenant slug or id")

ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    help="TOML settings file (default ./rempart.toml or REMPART_CONFIG_FILE)",
)

__all__ = [
    "ConfigOption",
    "TenantOption",
    "audited_change",
    "cli_actor",
    "cli_origin",
    "console",
    "database",
    "err_console",
    "fail",
    "handle_errors",
    "settings_from",
    "tenant_context",
]
