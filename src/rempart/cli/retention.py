"""``rempart retention``: retention policy per data class, legal holds, and the purge.

Thin: every command calls ``rempart.retention``. Changes are audited in the
tenant's log, the actor being the operating-system user who ran the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from rempart.cli.common import (
    ConfigOption,
    TenantOption,
    cli_actor,
    cli_origin,
    console,
    database,
    fail,
    handle_errors,
    settings_from,
    tenant_context,
)
from rempart.errors import ValidationFailed
from rempart.retention import (
    AUDIT_NOTE,
    DEFAULT_BATCH_SIZE,
    PURGE_ORDER,
    DataClass,
    HoldScope,
    LegalHold,
    PurgeReport,
    list_holds,
    load_policy,
    media_eraser,
    parse_class,
    place_hold,
    purge,
    purge_all,
    release_hold,
    set_policy,
)
from rempart.storage.tenants import list_tenants

app = typer.Typer(
    help="Retention: policy per data class, legal holds, purge.", no_args_is_help=True
)
policy_app = typer.Typer(help="Days each data class is kept.", no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds (suspend deletion).", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(hold_app, name="hold")

JsonOption = typer.Option(False, "--json", help="Machine-readable output")


def _days(value: int | None) -> str:
    return "kept indefinitely" if value is None else f"{value} days"


@policy_app.command("show")
@handle_errors
def policy_show(
    tenant: str = TenantOption, as_json: bool = JsonOption, config: Path | None = ConfigOption
) -> None:
    """The tenant's retention per data class (configured, and in effect)."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            policy = load_policy(session)
    if as_json:
        print(json.dumps(policy.as_list(), indent=1))
        return
    table = Table("data class", "configured", "in effect")
    for data_class in DataClass:
        source = policy.source(data_class)
        effect = _days(policy.effective(data_class))
        if source is not None and source is not data_class:
            effect += f" (from {source})"
        table.add_row(data_class.value, _days(policy.configured(data_class)), effect)
    console.print(table)
    console.print(AUDIT_NOTE)


@policy_app.command("set")
@handle_errors
def policy_set(
    tenant: str = TenantOption,
    original: int | None = typer.Option(None, "--original", help="Days originals are kept"),
    transcript: int | None = typer.Option(None, "--transcript", help="Days for transcripts"),
    recording: int | None = typer.Option(None, "--recording", help="Days for recordings"),
    metadata: int | None = typer.Option(None, "--metadata", help="Days interactions are kept"),
    audit: int | None = typer.Option(None, "--audit", help="Declared audit retention (>= 365)"),
    unset: list[str] = typer.Option(  # noqa: B008
        [], "--unset", help="Data class to unset (repeatable): it inherits again"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Change some classes; the whole resulting policy is validated before anything is saved."""
    given = {
        DataClass.ORIGINAL: original,
        DataClass.TRANSCRIPT: transcript,
        DataClass.RECORDING: recording,
        DataClass.METADATA: metadata,
        DataClass.AUDIT: audit,
    }
    changes: dict[DataClass, int | None] = {c: d for c, d in given.items() if d is not None}
    for name in unset:
        data_class = parse_class(name)
        if data_class in changes:
            raise ValidationFailed(f"{data_class} is both set and unset")
        changes[data_class] = None
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        policy = set_policy(db, ctx, cli_origin(), changes)
    for data_class in DataClass:
        console.print(f"{data_class.value}: {_days(policy.effective(data_class))}")


def _hold_row(hold: LegalHold) -> dict[str, Any]:
    return {
        "id": hold.id,
        "scope": hold.scope,
        "target_id": hold.target_id,
        "reason": hold.reason,
        "created_by": hold.created_by,
        "created_at": hold.created_at.isoformat(timespec="seconds"),
        "released_at": hold.released_at.isoformat(timespec="seconds") if hold.released_at else None,
        "released_by": hold.released_by,
    }


@hold_app.command("add")
@handle_errors
def hold_add(
    tenant: str = TenantOption,
    whole_tenant: bool = typer.Option(False, "--all", help="Hold everything of the tenant"),
    customer: str | None = typer.Option(None, "--customer", help="Customer id to hold"),
    interaction: str | None = typer.Option(None, "--interaction", help="Interaction id"),
    reason: str = typer.Option(..., "--reason", help="Why (matter, case number)"),
    config: Path | None = ConfigOption,
) -> None:
    """Place a legal hold on the tenant, a customer or an interaction."""
    chosen = [
        (scope, target)
        for scope, target, on in (
            (HoldScope.TENANT, None, whole_tenant),
            (HoldScope.CUSTOMER, customer, customer is not None),
            (HoldScope.INTERACTION, interaction, interaction is not None),
        )
        if on
    ]
    if len(chosen) != 1:
        raise ValidationFailed("give exactly one of --all, --customer, --interaction")
    scope, target = chosen[0]
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        hold = place_hold(db, ctx, cli_origin(), scope, target, reason)
    console.print(f"hold {hold.id} placed on {scope}" + (f" {target}" if target else ""))


@hold_app.command("release")
@handle_errors
def hold_release(
    hold_id: str = typer.Argument(..., help="Hold id"),
    tenant: str = TenantOption,
    reason: str = typer.Option(..., "--reason", help="Why the hold ends"),
    config: Path | None = ConfigOption,
) -> None:
    """Release a hold: what it covered is purged at the next run if due."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        hold = release_hold(db, ctx, cli_origin(), hold_id, reason)
    console.print(f"hold {hold.id} released")


@hold_app.command("list")
@handle_errors
def hold_list(
    tenant: str = TenantOption,
    released: bool = typer.Option(False, "--released", help="Include released holds"),
    as_json: bool = JsonOption,
    config: Path | None = ConfigOption,
) -> None:
    """The tenant's legal holds (active ones unless --released)."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            rows = [_hold_row(h) for h in list_holds(session, include_released=released)]
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    if not rows:
        console.print("no legal hold" + ("" if released else " in force"))
    # One block per hold, ids in full (they are what `hold release` takes), nothing cut.
    for r in rows:
        target = f" {r['target_id']}" if r["target_id"] else ""
        console.print(f"{r['id']}  {r['scope']}{target}", soft_wrap=True, markup=False)
        console.print(
            f"  placed {r['created_at']} by {r['created_by']}", soft_wrap=True, markup=False
        )
        if r["released_at"]:
            console.print(
                f"  released {r['released_at']} by {r['released_by']}", soft_wrap=True, markup=False
            )
        console.print(f"  reason: {r['reason']}", soft_wrap=True, markup=False)


def _print_report(report: PurgeReport, label: str) -> None:
    mode = "dry run" if report.dry_run else "purge"
    console.print(
        f"[bold]{label}[/bold]: {mode} as of {report.as_of.isoformat(timespec='seconds')}"
    )
    if report.held:
        console.print("  under a tenant-wide legal hold: nothing purged")
        return
    if not report.cutoffs and report.run_id is None:
        console.print("  no retention configured: everything is kept")
        return
    if report.run_id:
        console.print(f"  run {report.run_id}" + (" (resumed)" if report.resumed else ""))
    table = Table("data class", "due before", "interactions", "segments", "recordings")
    for data_class in PURGE_ORDER:
        cutoff = report.cutoffs.get(data_class)
        counts = report.count(data_class)
        table.add_row(
            data_class.value,
            cutoff.isoformat(timespec="seconds") if cutoff else "not configured",
            str(counts.interactions),
            str(counts.segments),
            str(counts.recordings),
        )
    console.print(table)


@app.command("purge")
@handle_errors
def purge_command(
    tenant: str | None = typer.Option(
        None, "--tenant", "-t", help="Tenant slug or id (default: every tenant)"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what is due, delete nothing"),
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", help="Rows per batch"),
    as_json: bool = JsonOption,
    config: Path | None = ConfigOption,
) -> None:
    """Delete what each tenant's policy says is due (legal holds respected), batch by batch."""
    settings = settings_from(config)
    media = media_eraser(settings)
    failed: dict[str, str] = {}
    with database(settings) as db:
        with db.platform_session() as session:
            slugs = {t.id: t.slug for t in list_tenants(session)}
        try:
            if tenant is not None:
                ctx = tenant_context(db, tenant)
                reports = [
                    purge(db, ctx, media, actor=cli_actor(), batch_size=batch_size, dry_run=dry_run)
                ]
            else:
                result = purge_all(
                    db, media, actor=cli_actor(), batch_size=batch_size, dry_run=dry_run
                )
                reports, failed = result.reports, result.failed
        except OSError as exc:
            raise fail(f"media store error: {type(exc).__name__}") from None
    if as_json:
        print(json.dumps({"reports": [r.as_dict() for r in reports], "failed": failed}, indent=1))
    else:
        for report in reports:
            _print_report(report, f"{slugs.get(report.tenant_id, '?')} ({report.tenant_id})")
        console.print(AUDIT_NOTE)
    if failed:
        names = ", ".join(f"{t} ({e})" for t, e in sorted(failed.items()))
        raise fail(f"purge failed for {len(failed)} tenant(s): {names}")


__all__ = ["app"]
