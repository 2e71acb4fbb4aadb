"""The ``rempart`` command: serve, demo, db, tenant, token, config, and capability sub-commands."""

from __future__ import annotations

import functools
import importlib
import json
from datetime import timedelta
from pathlib import Path

import typer
from rich.table import Table

from rempart.cli.common import (
    ConfigOption,
    console,
    database,
    fail,
    handle_errors,
    settings_from,
    tenant_context,
)
from rempart.errors import ValidationFailed
from rempart.identity.tokens import create_token, list_tokens, revoke_token
from rempart.storage.migrate import upgrade
from rempart.storage.tenants import create_tenant, list_tenants

app = typer.Typer(
    name="rempart",
    help="Rempart: security and risk management for contact centers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenants.", no_args_is_help=True)
token_app = typer.Typer(
    help="Machine tokens for contact-center integrations.", no_args_is_help=True
)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(tenant_app, name="tenant")
app.add_typer(token_app, name="token")
app.add_typer(config_app, name="config")

# Capability sub-commands: (name, module). The module exposes either
# `register(app: typer.Typer) -> None` or `app: typer.Typer` (added as a group).
SUBCOMMANDS: tuple[tuple[str, str], ...] = (
    ("redact", "rempart.cli.redact"),
    ("detect", "rempart.cli.detect"),
    ("audit", "rempart.cli.audit"),
    ("vault", "rempart.cli.vault"),
    ("identity", "rempart.cli.identity"),
    ("webhooks", "rempart.cli.webhooks"),
    ("retention", "rempart.cli.retention"),
    ("privacy", "rempart.cli.privacy"),
    ("contact", "rempart.cli.contact"),
)


@functools.cache
def build_app() -> typer.Typer:
    """The complete command tree, capability sub-commands included (built once)."""
    _register_subcommands()
    return app


def _register_subcommands() -> None:
    for name, module_name in SUBCOMMANDS:
        module = importlib.import_module(module_name)
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
        else:
            app.add_typer(module.app, name=name)


@config_app.command("show")
@handle_errors
def config_show(config: Path | None = ConfigOption) -> None:
    """Print the settings in force, secrets masked."""
    settings = settings_from(config)
    console.print_json(json.dumps(settings.masked()))


@db_app.command("upgrade")
@handle_errors
def db_upgrade(config: Path | None = ConfigOption) -> None:
    """Apply the schema migrations (as the table owner on PostgreSQL)."""
    settings = settings_from(config)
    with database(settings, admin=True) as db:
        upgrade(db.engine)
    console.print("schema is up to date")


@tenant_app.command("create")
@handle_errors
def tenant_create(
    slug: str = typer.Argument(..., help="Short lower-case handle, e.g. acme-fr"),
    name: str = typer.Option(..., "--name", help="Display name"),
    config: Path | None = ConfigOption,
) -> None:
    """Register a tenant."""
    settings = settings_from(config)
    with database(settings) as db, db.platform_session() as session:
        tenant = create_tenant(session, slug, name)
        console.print(f"created tenant {tenant.slug} ({tenant.id})")


@tenant_app.command("list")
@handle_errors
def tenant_list(config: Path | None = ConfigOption) -> None:
    """List tenants."""
    settings = settings_from(config)
    with database(settings) as db, db.platform_session() as session:
        table = Table("slug", "id", "name", "status", "created")
        for t in list_tenants(session):
            table.add_row(
                t.slug, t.id, t.name, t.status, t.created_at.isoformat(timespec="seconds")
            )
        console.print(table)


@token_app.command("create")
@handle_errors
def token_create(
    tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant slug or id"),
    name: str = typer.Option(..., "--name", help="What the token is for"),
    scope: list[str] = typer.Option(  # noqa: B008
        ["interaction:write"],
        "--scope",
        "-s",
        help="Repeat for each scope (default: interaction:write only, least privilege)",
    ),
    ttl_days: int = typer.Option(90, "--ttl-days", help="Lifetime in days; 0 means no expiry"),
    config: Path | None = ConfigOption,
) -> None:
    """Create a token; its value is printed once and never stored."""
    if ttl_days < 0:
        raise ValidationFailed("--ttl-days cannot be negative")
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            issued = create_token(
                session,
                ctx.tenant_id,
                name,
                scope,
                ttl=timedelta(days=ttl_days) if ttl_days else None,
            )
    console.print(f"token id: {issued.token_id}")
    console.print(
        "expires: "
        + (issued.expires_at.isoformat(timespec="seconds") if issued.expires_at else "never")
    )
    console.print("value (shown once, store it now):")
    print(issued.value)


@token_app.command("revoke")
@handle_errors
def token_revoke(
    token_id: str = typer.Argument(..., help="Token id"),
    tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant slug or id"),
    config: Path | None = ConfigOption,
) -> None:
    """Revoke a token at once."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            row = revoke_token(session, token_id)
            console.print(f"revoked {row.id} at {row.revoked_at}")


@token_app.command("list")
@handle_errors
def token_list(
    tenant: str = typer.Option(..., "--tenant", "-t", help="Tenant slug or id"),
    config: Path | None = ConfigOption,
) -> None:
    """List a tenant's tokens (never their values)."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            table = Table("id", "name", "scopes", "expires", "revoked", "last used")
            for t in list_tokens(session):
                table.add_row(
                    t.id,
                    t.name,
                    " ".join(t.scopes),
                    t.expires_at.isoformat(timespec="seconds") if t.expires_at else "never",
                    t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "",
                    t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "",
                )
            console.print(table)


@app.command("serve")
@handle_errors
def serve(
    host: str | None = typer.Option(None, "--host", help="Bind address (default from settings)"),
    port: int | None = typer.Option(None, "--port", help="Port (default from settings)"),
    config: Path | None = ConfigOption,
) -> None:
    """Run the API server (applies pending migrations on SQLite first)."""
    from rempart.cli.server import run_server

    settings = settings_from(config)
    run_server(settings, host=host, port=port)


@app.command("demo")
@handle_errors
def demo(
    port: int = typer.Option(8000, "--port", help="Port to serve on"),
    no_serve: bool = typer.Option(False, "--no-serve", help="Seed the data, then exit"),
    config: Path | None = ConfigOption,
) -> None:
    """Create two demo tenants with synthetic data and serve on 127.0.0.1."""
    from rempart.cli.server import run_demo

    settings = settings_from(config)
    run_demo(settings, port=port, serve=not no_serve)


def run() -> None:
    """Console-script entry point."""
    try:
        build_app()()
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None


__all__ = ["app", "build_app", "run"]
