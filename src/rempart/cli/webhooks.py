"""``rempart webhooks``: a tenant's webhook signing secrets, and the expiry job.

Thin: the work is in :mod:`rempart.ingest`. A secret's value is printed once,
when created or rotated, and stored only sealed by the vault. Every change is
audited in the tenant's log.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer
from rich.table import Table

from rempart.cli.common import (
    ConfigOption,
    TenantOption,
    audited_change,
    cli_actor,
    console,
    database,
    handle_errors,
    settings_from,
    tenant_context,
)
from rempart.errors import ValidationFailed
from rempart.ingest import (
    DEFAULT_CONFIG,
    IssuedSecret,
    create_secret,
    list_secrets,
    purge_expired,
    revoke_secrets,
    rotate_secret,
)
from rempart.types import utc_now
from rempart.vault import open_vault

app = typer.Typer(help="Signed webhooks from contact-center platforms.", no_args_is_help=True)
secret_app = typer.Typer(help="The tenant's webhook signing secrets.", no_args_is_help=True)
app.add_typer(secret_app, name="secret")


def _show(issued: IssuedSecret) -> None:
    console.print(f"secret id: {issued.secret_id}")
    if issued.retiring and issued.retiring_until is not None:
        until = issued.retiring_until.isoformat(timespec="seconds")
        console.print(f"previous secret(s) {', '.join(issued.retiring)} still verify until {until}")
    console.print("value (shown once, store it now in the sending platform):")
    print(issued.value)


@secret_app.command("create")
@handle_errors
def secret_create(tenant: str = TenantOption, config: Path | None = ConfigOption) -> None:
    """Create the tenant's first webhook secret (refused if one is active: rotate it)."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        vault = open_vault(settings, db)
        with audited_change(db, ctx, "webhook_secret.create", "webhook_secret") as (session, note):
            issued = create_secret(session, vault, actor=cli_actor().id, now=utc_now())
            note.resource_id = issued.secret_id
    _show(issued)


@secret_app.command("rotate")
@handle_errors
def secret_rotate(
    tenant: str = TenantOption,
    grace_hours: float = typer.Option(
        DEFAULT_CONFIG.webhook_rotation_grace.total_seconds() / 3600,
        "--grace-hours",
        help="How long the previous secret still verifies (0: at once never)",
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Issue a new secret; the previous one keeps verifying for the grace period."""
    if grace_hours < 0:
        raise ValidationFailed("--grace-hours cannot be negative")
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        vault = open_vault(settings, db)
        with audited_change(db, ctx, "webhook_secret.rotate", "webhook_secret") as (session, note):
            issued = rotate_secret(
                session,
                vault,
                actor=cli_actor().id,
                now=utc_now(),
                grace=timedelta(hours=grace_hours),
            )
            note.resource_id = issued.secret_id
            note.details.update(retiring=list(issued.retiring), grace_hours=grace_hours)
    _show(issued)


@secret_app.command("revoke")
@handle_errors
def secret_revoke(
    tenant: str = TenantOption,
    secret_id: str | None = typer.Option(
        None, "--id", help="Revoke this secret only (default: every secret of the tenant)"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Revoke at once: signatures made with the revoked secret(s) are refused."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with audited_change(db, ctx, "webhook_secret.revoke", "webhook_secret") as (session, note):
            revoked = revoke_secrets(session, now=utc_now(), secret_id=secret_id)
            note.resource_id = secret_id
            note.details["revoked"] = revoked
    console.print(
        f"revoked {len(revoked)} secret(s)" + (f": {', '.join(revoked)}" if revoked else "")
    )


@secret_app.command("list")
@handle_errors
def secret_list(tenant: str = TenantOption, config: Path | None = ConfigOption) -> None:
    """List the tenant's secrets (never their values)."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            table = Table("id", "status", "created", "verifies until", "revoked")
            for row in list_secrets(session):
                table.add_row(
                    row.id,
                    row.status,
                    row.created_at.isoformat(timespec="seconds"),
                    row.expires_at.isoformat(timespec="seconds") if row.expires_at else "",
                    row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "",
                )
            console.print(table)


@app.command("purge-expired")
@handle_errors
def purge(config: Path | None = ConfigOption) -> None:
    """Delete expired idempotency records and seen-webhook rows of every tenant (a job)."""
    settings = settings_from(config)
    with database(settings) as db:
        report = purge_expired(db, now=utc_now())
    console.print(
        f"purged {report.idempotency_keys} idempotency record(s), "
        f"{report.webhook_replays} seen-webhook row(s)"
    )


__all__ = ["app"]
