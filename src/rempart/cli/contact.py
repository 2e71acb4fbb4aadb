"""``rempart contact``: the tenant's teams and queues, and its data-protection policy.

Thin: every command calls ``rempart.contact``. Changes are audited in the
tenant's log, the actor being the operating-system user who ran the command.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import ValidationError
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
from rempart.contact.directory import add_queue, add_team, list_queues
from rempart.contact.policy import DataPolicy, load_policy, save_policy
from rempart.errors import ValidationFailed
from rempart.types import utc_now

app = typer.Typer(help="Teams, queues and the data-protection policy.", no_args_is_help=True)
queue_app = typer.Typer(help="Queues (and the teams that own them).", no_args_is_help=True)
policy_app = typer.Typer(help="What ingest keeps and how chats fail.", no_args_is_help=True)
app.add_typer(queue_app, name="queue")
app.add_typer(policy_app, name="policy")

RedactionFileOption = typer.Option(
    None, "--redaction", help="A JSON file with the redaction policy mapping"
)


@queue_app.command("add")
@handle_errors
def queue_add(
    name: str = typer.Argument(..., help="Queue name, as interactions name it"),
    team: str | None = typer.Option(None, "--team", help="Team owning the queue (created)"),
    tenant: str = TenantOption,
    config: Path | None = ConfigOption,
) -> None:
    """Declare a queue (and its team); need-to-know of supervisors follows it."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with audited_change(db, ctx, "queue.add", "queue") as (session, note):
            if team is not None:
                add_team(session, team)
            queue = add_queue(session, name, team=team)
            note.resource_id = queue.id
    console.print(f"queue {name!r}" + (f" owned by team {team!r}" if team else ""))


@queue_app.command("list")
@handle_errors
def queue_list(tenant: str = TenantOption, config: Path | None = ConfigOption) -> None:
    """The tenant's queues and their teams."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            rows = list_queues(session)
    table = Table("queue", "team")
    for queue, owner in rows:
        table.add_row(queue, owner or "-")
    console.print(table)


@policy_app.command("show")
@handle_errors
def policy_show(tenant: str = TenantOption, config: Path | None = ConfigOption) -> None:
    """The tenant's data-protection policy (JSON)."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            policy = load_policy(session)
    print(json.dumps(policy.model_dump(mode="json"), indent=1, sort_keys=True))


@policy_app.command("set")
@handle_errors
def policy_set(
    tenant: str = TenantOption,
    protection: str | None = typer.Option(
        None, "--protection", help="redacted, or redacted+original"
    ),
    chat_failure: str | None = typer.Option(None, "--chat-failure", help="closed or open"),
    unknown_queues: str | None = typer.Option(None, "--unknown-queues", help="refuse or create"),
    phone_region: str | None = typer.Option(None, "--phone-region", help="e.g. FR, GB, US"),
    redaction_file: Path | None = RedactionFileOption,
    config: Path | None = ConfigOption,
) -> None:
    """Change the policy; fields not given keep their value. Audited."""
    settings = settings_from(config)
    changes: dict[str, object] = {
        k: v
        for k, v in {
            "protection": protection,
            "chat_failure": chat_failure,
            "unknown_queues": unknown_queues,
            "phone_region": phone_region,
        }.items()
        if v is not None
    }
    if redaction_file is not None:
        try:
            changes["redaction"] = json.loads(redaction_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationFailed(f"cannot read the redaction policy file: {exc}") from exc
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with audited_change(db, ctx, "data_policy.update", "tenant") as (session, note):
            current = load_policy(session)
            try:
                updated = DataPolicy.model_validate({**current.model_dump(), **changes})
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                raise ValidationFailed(f"invalid policy: {problems}") from None
            save_policy(session, updated, actor=cli_actor().id, now=utc_now())
            note.details["changed"] = sorted(changes)
            note.details["entities_unredacted"] = sorted(
                current.redacted_entities() - updated.redacted_entities()
            )
            note.before, note.after = current.audit_facts(), updated.audit_facts()
    console.print("policy updated: " + ", ".join(sorted(changes)) if changes else "no change")


__all__ = ["app"]
