"""``rempart identity``: a tenant's identity provider, policy, first-admin link and sessions.

Thin: the work is in :mod:`rempart.identity`. The client secret is read from
a file or an environment variable (never from the command line, where it
would land in shell history) and sealed by the vault.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import typer
from pydantic import SecretStr
from rich.table import Table

from rempart.cli.common import (
    ConfigOption,
    TenantOption,
    audited_change,
    console,
    database,
    handle_errors,
    settings_from,
    tenant_context,
)
from rempart.errors import ValidationFailed
from rempart.identity.assurance import Level
from rempart.identity.bootstrap import create_bootstrap_link
from rempart.identity.discovery import fetch_documents, http_client
from rempart.identity.idp import (
    ClaimMapping,
    IdpSettings,
    PolicySettings,
    configure_idp,
    get_idp,
    get_policy,
    prepare_idp,
    refresh_idp,
    set_policy,
)
from rempart.identity.models import IdentityPolicy
from rempart.identity.sessions import list_sessions, revoke_user_sessions
from rempart.storage.tenants import Tenant
from rempart.vault import open_local_vault
from rempart.vault.sql_store import SqlKeyringStore

app = typer.Typer(
    help="Single sign-on: identity providers, policy, bootstrap, sessions.", no_args_is_help=True
)
idp_app = typer.Typer(help="The tenant's OpenID Connect provider.", no_args_is_help=True)
policy_app = typer.Typer(help="Session, assurance and network policy.", no_args_is_help=True)
sessions_app = typer.Typer(help="Browser sessions.", no_args_is_help=True)
app.add_typer(idp_app, name="idp")
app.add_typer(policy_app, name="policy")
app.add_typer(sessions_app, name="sessions")


def _secret(file: Path | None, env: str | None) -> SecretStr | None:
    if file is not None and env is not None:
        raise ValidationFailed("give the client secret by file or by environment, not both")
    if file is not None:
        try:
            return SecretStr(file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ValidationFailed(f"cannot read {file}: {exc.strerror}") from exc
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise ValidationFailed(f"environment variable {env} is not set")
        return SecretStr(value)
    return None


def _role_map(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for value in values:
        group, sep, role = value.partition("=")
        if not sep or not group or not role:
            raise ValidationFailed(f"--role-map takes GROUP=ROLE, got {value!r}")
        out.setdefault(group, []).append(role)
    return out


@idp_app.command("set")
@handle_errors
def idp_set(
    tenant: str = TenantOption,
    issuer: str = typer.Option(..., "--issuer", help="Exact issuer URL"),
    client_id: str = typer.Option(..., "--client-id"),
    redirect_uri: str = typer.Option(
        ..., "--redirect-uri", help="Exactly as registered at the IdP"
    ),
    client_secret_file: Path | None = typer.Option(None, "--client-secret-file"),  # noqa: B008
    client_secret_env: str | None = typer.Option(None, "--client-secret-env"),
    post_logout_redirect_uri: str | None = typer.Option(None, "--post-logout-redirect-uri"),
    alg: list[str] = typer.Option(["RS256"], "--alg", help="Allowed signing algorithm (repeat)"),  # noqa: B008
    scope: list[str] = typer.Option(["openid", "profile", "email"], "--scope"),  # noqa: B008
    role_map: list[str] = typer.Option([], "--role-map", help="GROUP=ROLE (repeat)"),  # noqa: B008
    claim: list[str] = typer.Option(["groups", "roles"], "--claim", help="Claims holding groups"),  # noqa: B008
    provisioning: str = typer.Option("jit", "--provisioning", help="jit or scim"),
    insecure_http_loopback: bool = typer.Option(
        False, "--insecure-http-loopback", help="Allow plain HTTP to a loopback IdP (tests only)"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Configure the tenant's provider: discovery and JWKS are fetched, checked and pinned."""
    if provisioning not in ("jit", "scim"):
        raise ValidationFailed("--provisioning must be jit or scim")
    settings = settings_from(config)
    idp = IdpSettings(
        issuer=issuer,
        client_id=client_id,
        redirect_uri=redirect_uri,
        client_secret=_secret(client_secret_file, client_secret_env),
        post_logout_redirect_uri=post_logout_redirect_uri,
        algorithms=tuple(alg),
        scopes=tuple(scope),
        claim_mapping=ClaimMapping.from_config({"claims": claim, "roles": _role_map(role_map)}),
        provisioning="scim" if provisioning == "scim" else "jit",
        insecure_http_loopback=insecure_http_loopback,
    )
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        sealer = None
        if idp.client_secret is not None:
            sealer = open_local_vault(settings, store=SqlKeyringStore(db))
        with http_client() as http:
            docs, sealed = prepare_idp(idp, ctx.tenant_id, http=http, sealer=sealer)
        configure = audited_change(db, ctx, "identity.idp.configure", "identity_provider")
        with configure as (session, note):
            row = configure_idp(session, ctx.tenant_id, idp, documents=docs, sealed_secret=sealed)
            kids = [k.get("kid") for k in row.jwks["keys"]]
            note.resource_id = row.id
            note.details.update(issuer=issuer, client_id=client_id, algorithms=list(alg))
    console.print(f"identity provider {issuer} pinned ({len(kids)} signing key(s))")


@idp_app.command("show")
@handle_errors
def idp_show(tenant: str = TenantOption, config: Path | None = ConfigOption) -> None:
    """Print the tenant's provider configuration (never the secret)."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            row = get_idp(session)
            out = {
                "issuer": row.issuer,
                "client_id": row.client_id,
                "client_secret": "sealed" if row.client_secret_sealed else None,
                "redirect_uri": row.redirect_uri,
                "algorithms": row.algorithms,
                "scopes": row.scopes,
                "claim_mapping": row.claim_mapping,
                "provisioning": row.provisioning,
                "jwks_kids": [k.get("kid") for k in row.jwks["keys"]],
                "jwks_fetched_at": row.jwks_fetched_at.isoformat(),
            }
    console.print_json(json.dumps(out))


@idp_app.command("refresh")
@handle_errors
def idp_refresh(tenant: str = TenantOption, config: Path | None = ConfigOption) -> None:
    """Fetch discovery and JWKS again; a changed issuer is refused and the old pin kept."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            row = get_idp(session)
            issuer, loopback = row.issuer, row.insecure_http_loopback
        with http_client() as http:
            docs = fetch_documents(http, issuer, allow_http_loopback=loopback)
        with audited_change(db, ctx, "identity.idp.refresh", "identity_provider") as (session, _n):
            refresh_idp(session, docs)
    console.print(f"identity provider {issuer} re-pinned")


@policy_app.command("set")
@handle_errors
def policy_set(
    tenant: str = TenantOption,
    min_assurance: int = typer.Option(1, "--min-assurance", min=0, max=3),
    idle_timeout: int = typer.Option(1800, "--idle-timeout", help="Seconds"),
    absolute_timeout: int = typer.Option(43200, "--absolute-timeout", help="Seconds"),
    step_up_max_age: int = typer.Option(900, "--step-up-max-age", help="Seconds"),
    allow: list[str] = typer.Option([], "--allow", help="Allowed CIDR (repeat); none = any"),  # noqa: B008
    config: Path | None = ConfigOption,
) -> None:
    """Set the tenant's session, assurance and network policy."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with audited_change(db, ctx, "identity.policy.set", "identity_policy") as (session, note):
            note.details.update(min_assurance=min_assurance, allowed_networks=list(allow))
            note.before = _policy_facts(get_policy(session, ctx.tenant_id))
            row = set_policy(
                session,
                ctx.tenant_id,
                PolicySettings(
                    min_assurance=Level(min_assurance),
                    idle_timeout_s=idle_timeout,
                    absolute_timeout_s=absolute_timeout,
                    step_up_max_age_s=step_up_max_age,
                    allowed_networks=tuple(allow),
                ),
            )
            note.after = _policy_facts(row)
            networks = ", ".join(row.allowed_networks) or "any"
    console.print(f"policy set (minimum assurance {min_assurance}; networks: {networks})")


def _policy_facts(row: IdentityPolicy) -> dict[str, object]:
    """What the audit entry records of the policy on each side of a change: the
    detection pack reads ``min_assurance`` there to see an MFA requirement lowered."""
    return {
        "min_assurance": row.min_assurance,
        "idle_timeout_s": row.idle_timeout_s,
        "absolute_timeout_s": row.absolute_timeout_s,
        "step_up_max_age_s": row.step_up_max_age_s,
        "allowed_networks": list(row.allowed_networks),
    }


@policy_app.command("show")
@handle_errors
def policy_show(tenant: str = TenantOption, config: Path | None = ConfigOption) -> None:
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            out = _policy_facts(get_policy(session, ctx.tenant_id))
    console.print_json(json.dumps(out))


@app.command("bootstrap")
@handle_errors
def bootstrap(
    tenant: str = TenantOption,
    base_url: str = typer.Option(
        ..., "--base-url", help="Rempart's public URL, e.g. https://rempart.example"
    ),
    ttl_minutes: int = typer.Option(60, "--ttl-minutes", min=1, max=2880),
    config: Path | None = ConfigOption,
) -> None:
    """Print a one-time link that makes whoever signs in through it the tenant's first admin."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.platform_session() as platform:
            row = platform.get(Tenant, ctx.tenant_id)
            slug = row.slug if row is not None else tenant
        create = audited_change(db, ctx, "identity.bootstrap.create", "bootstrap_link")
        with create as (session, note):
            get_idp(session)
            link = create_bootstrap_link(session, ctx.tenant_id, ttl=timedelta(minutes=ttl_minutes))
            note.resource_id = link.link_id
    url = f"{base_url.rstrip('/')}/auth/{slug}/login?{urlencode({'bootstrap': link.secret})}"
    console.print(f"expires: {link.expires_at.isoformat(timespec='seconds')} (works once)")
    print(url)


@sessions_app.command("list")
@handle_errors
def sessions_list(
    tenant: str = TenantOption,
    user: str | None = typer.Option(None, "--user", help="User id"),
    config: Path | None = ConfigOption,
) -> None:
    """List live sessions."""
    from rempart.types import utc_now

    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            table = Table("id", "user", "assurance", "created", "last seen", "ip")
            for s in list_sessions(session, user_id=user, live_at=utc_now()):
                table.add_row(
                    s.id,
                    s.user_id,
                    str(s.assurance),
                    s.created_at.isoformat(timespec="seconds"),
                    s.last_seen_at.isoformat(timespec="seconds"),
                    s.source_ip or "",
                )
            console.print(table)


@sessions_app.command("revoke")
@handle_errors
def sessions_revoke(
    tenant: str = TenantOption,
    user: str = typer.Option(..., "--user", help="User id"),
    config: Path | None = ConfigOption,
) -> None:
    """End every session of a user at once."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with audited_change(db, ctx, "session.revoke_all", "user") as (session, note):
            ended = revoke_user_sessions(session, user, reason="admin-cli")
            note.resource_id = user
            note.details["sessions_ended"] = ended
    console.print(f"ended {ended} session(s)")


__all__ = ["app"]
