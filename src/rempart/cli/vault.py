"""``rempart vault``: tenant keyrings: status, rotation, re-wrap, crypto-shredding.

Every command opens the configured database (keyrings live in the ``vault_*``
tables) and the key providers the settings describe. Nothing prints key
material: status shows versions, states, providers and usage counts only.
Key changes are appended to the tenant's audit log, the actor being the
operating-system user who ran the command.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rempart.audit import AuditEvent, append
from rempart.cli.common import (
    ConfigOption,
    TenantOption,
    cli_actor,
    console,
    database,
    fail,
    handle_errors,
    settings_from,
)
from rempart.config import Settings
from rempart.errors import ValidationFailed
from rempart.storage import Database, TenantContext
from rempart.storage.tenants import get_tenant, list_tenants
from rempart.types import TenantId
from rempart.vault import (
    DATA_KEY,
    INDEX_KEY,
    KeyStatus,
    LocalKeyFileProvider,
    RewrapProgress,
    Vault,
    VaultEvent,
    key_providers,
    open_vault,
    provider_for,
)
from rempart.vault.records import SUBJECT_PREFIX, DekRecord

app = typer.Typer(
    help="Tenant keys: status, rotation, re-wrap, crypto-shredding.", no_args_is_help=True
)


class _Tenant:
    """A registered tenant, resolved from a slug or id."""

    def __init__(self, tenant_id: TenantId, slug: str) -> None:
        self.id = tenant_id
        self.slug = slug


def _resolve(db: Database, ref: str) -> _Tenant:
    with db.platform_session() as session:
        row = get_tenant(session, ref)
        return _Tenant(TenantId(row.id), row.slug)


def _audit_sink(db: Database) -> Any:
    actor = cli_actor()

    def sink(event: VaultEvent) -> None:
        details = dict(event.details)
        with db.tenant_session(TenantContext(event.tenant)) as session:
            append(
                session,
                AuditEvent(
                    tenant_id=event.tenant,
                    actor=actor,
                    action=str(event.action),
                    resource_type="vault_key",
                    resource_id=event.key_id,
                    outcome="success",
                    time=event.at,
                    reason=details.pop("reason", None),
                    details={**details, "version": event.version},
                ),
            )

    return sink


@contextmanager
def _vault(settings: Settings) -> Iterator[tuple[Database, Vault]]:
    with database(settings) as db:
        yield db, open_vault(settings, db, on_event=_audit_sink(db))


def _deks_summary(deks: list[DekRecord]) -> dict[str, Any]:
    subjects = [d for d in deks if d.key_id.startswith(SUBJECT_PREFIX)]
    return {
        "subject_keys": len({d.key_id for d in subjects}),
        "subject_keys_usable": len({d.key_id for d in subjects if d.status.usable}),
    }


def _status(vault: Vault, tenant: _Tenant, *, subjects: bool) -> dict[str, Any]:
    keyring = vault.keys.tenant(tenant.id)
    keks = vault.keys.store.list_keks(tenant.id)
    deks = vault.keys.store.list_deks(tenant.id)
    shown = [d for d in deks if subjects or not d.key_id.startswith(SUBJECT_PREFIX)]
    return {
        "tenant": tenant.slug,
        "tenant_id": tenant.id,
        "provider": keyring.provider,
        "shredded": keyring.shredded,
        "created_at": keyring.created_at.isoformat(timespec="seconds"),
        "keks": [
            {
                "version": k.version,
                "provider": k.provider,
                "key_ref": k.key_ref,
                "status": str(k.status),
                "deks": vault.keys.store.count_deks_under_kek(tenant.id, k.version),
                "created_at": k.created_at.isoformat(timespec="seconds"),
            }
            for k in keks
        ],
        "deks": [
            {
                "key_id": d.key_id,
                "version": d.version,
                "status": str(d.status),
                "kek_version": d.kek_version,
                "encryptions_reserved": d.encryptions,
                "created_at": d.created_at.isoformat(timespec="seconds"),
            }
            for d in shown
        ],
        **_deks_summary(deks),
        "providers": _providers(vault),
    }


def _providers(vault: Vault) -> dict[str, str]:
    """Each configured provider; for the local key file, its path and protection."""
    out: dict[str, str] = {}
    for name, provider in sorted(vault.keys.providers.items()):
        if isinstance(provider, LocalKeyFileProvider):
            out[name] = f"{provider.path} (protection: {provider.protection})"
        else:
            out[name] = "configured"
    return out


def _print_status(status: dict[str, Any]) -> None:
    state = "SHREDDED" if status["shredded"] else "active"
    console.print(
        f"tenant {status['tenant']} ({status['tenant_id']}): provider {status['provider']}, "
        f"{state}, created {status['created_at']}"
    )
    keks = Table("KEK", "provider", "key ref", "status", "DEKs under it", "created")
    for k in status["keks"]:
        keks.add_row(
            f"v{k['version']}",
            k["provider"],
            k["key_ref"],
            k["status"],
            str(k["deks"]),
            k["created_at"],
        )
    console.print(keks)
    deks = Table("key", "version", "status", "KEK", "encryptions (reserved)", "created")
    for d in status["deks"]:
        deks.add_row(
            d["key_id"],
            f"v{d['version']}",
            d["status"],
            f"v{d['kek_version']}",
            f"{d['encryptions_reserved']:,}",
            d["created_at"],
        )
    console.print(deks)
    for name, where in status["providers"].items():
        console.print(f"provider {name}: {where}")
    console.print(
        f"subject keys: {status['subject_keys']} "
        f"({status['subject_keys_usable']} usable, the others shredded)"
    )


@app.command("init")
@handle_errors
def init(
    tenant: str = TenantOption,
    provider: str | None = typer.Option(
        None, "--provider", help="Key provider (default from the settings for this tenant)"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Create the tenant's keyring (KEK, data key, index key) if it has none; finish one
    whose creation a crash interrupted."""
    settings = settings_from(config)
    with _vault(settings) as (db, vault):
        t = _resolve(db, tenant)
        if vault.keys.store.get_tenant(t.id) is not None:
            if vault.keys.is_complete(t.id):
                console.print(f"tenant {t.slug} already has a keyring")
                return
            vault.create_tenant(t.id)  # resumes the creation a crash interrupted
            console.print(f"finished the interrupted creation of tenant {t.slug}'s keyring")
            return
        chosen = provider or provider_for(settings, t.id, t.slug)
        vault.create_tenant(t.id, provider=chosen)
        console.print(f"created the keyring of tenant {t.slug} with provider {chosen}")


@app.command("status")
@handle_errors
def status(
    tenant: str | None = typer.Option(
        None, "--tenant", "-t", help="Tenant slug or id (default: a summary of every tenant)"
    ),
    subjects: bool = typer.Option(False, "--subjects", help="List every subject key too"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
    config: Path | None = ConfigOption,
) -> None:
    """Keys, versions, states and usage counts; never key material."""
    settings = settings_from(config)
    with _vault(settings) as (db, vault):
        if tenant is not None:
            report: Any = _status(vault, _resolve(db, tenant), subjects=subjects)
        else:
            with db.platform_session() as session:
                registered = [_Tenant(TenantId(t.id), t.slug) for t in list_tenants(session)]
            report = [
                _status(vault, t, subjects=False)
                for t in registered
                if vault.keys.store.get_tenant(t.id) is not None
            ]
    if as_json:
        print(json.dumps(report, indent=1))
    elif isinstance(report, dict):
        _print_status(report)
    else:
        table = Table("tenant", "provider", "state", "active KEK", "data key", "subject keys")
        for s in report:
            active_kek = [k["version"] for k in s["keks"] if k["status"] == KeyStatus.ACTIVE]
            data = [
                d["version"]
                for d in s["deks"]
                if d["key_id"] == DATA_KEY and d["status"] == KeyStatus.ACTIVE
            ]
            table.add_row(
                s["tenant"],
                s["provider"],
                "SHREDDED" if s["shredded"] else "active",
                f"v{active_kek[-1]}" if active_kek else "-",
                f"v{data[-1]}" if data else "-",
                str(s["subject_keys"]),
            )
        console.print(table)


@app.command("rotate")
@handle_errors
def rotate(
    tenant: str = TenantOption,
    kek: bool = typer.Option(False, "--kek", help="Rotate the key-encryption key"),
    key_id: str = typer.Option(
        DATA_KEY, "--key", help="DEK to rotate: data, index or subject:<id>"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """A new KEK or DEK version now; older versions keep decrypting until retired."""
    settings = settings_from(config)
    with _vault(settings) as (db, vault):
        t = _resolve(db, tenant)
        if kek:
            record = vault.keys.rotate_kek(t.id)
            console.print(
                f"tenant {t.slug}: KEK v{record.version} is active; "
                "run `rempart vault rewrap` to move the DEKs under it"
            )
            return
        if key_id not in (DATA_KEY, INDEX_KEY) and not key_id.startswith(SUBJECT_PREFIX):
            raise ValidationFailed(f"unknown key {key_id!r}: use data, index or subject:<id>")
        dek = vault.keys.rotate_dek(t.id, key_id)
        console.print(f"tenant {t.slug}: {key_id} v{dek.version} is active")
        if key_id == INDEX_KEY:
            console.print("blind indexes and pseudonyms change with the index key: re-index")


@app.command("recover")
@handle_errors
def recover(
    tenant: str = TenantOption,
    older_than_minutes: int = typer.Option(
        15, "--older-than-minutes", min=0, help="Leave intents younger than this (in progress)"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Sweep KEK creations a crash left unconfirmed: their provider keys are destroyed."""
    settings = settings_from(config)
    with _vault(settings) as (db, vault):
        t = _resolve(db, tenant)
        abandoned = vault.keys.recover(t.id, older_than=timedelta(minutes=older_than_minutes))
    if abandoned:
        versions = ", ".join(f"v{v}" for v in abandoned)
        console.print(f"tenant {t.slug}: unconfirmed KEK {versions} abandoned, orphans destroyed")
    else:
        console.print(f"tenant {t.slug}: no unconfirmed KEK creation to sweep")


@app.command("rewrap")
@handle_errors
def rewrap(
    tenant: str = TenantOption,
    batch_size: int = typer.Option(1000, "--batch-size", help="DEKs per batch (1 to 100000)"),
    max_batches: int | None = typer.Option(
        None, "--max-batches", help="Stop after this many batches (run again to resume)"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Move every DEK under the active KEK, in batches; resumes where a stopped run left off."""
    if not 1 <= batch_size <= 100_000:
        raise ValidationFailed("--batch-size must be between 1 and 100000")
    if max_batches is not None and max_batches < 1:
        raise ValidationFailed("--max-batches must be at least 1")
    settings = settings_from(config)
    with _vault(settings) as (db, vault):
        t = _resolve(db, tenant)
        with Progress(
            TextColumn("re-wrap"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar:
            task = bar.add_task("re-wrap", total=None)

            def advance(p: RewrapProgress) -> None:
                bar.update(task, total=p.total, completed=p.done)

            report = vault.keys.rewrap(
                t.id, batch_size=batch_size, progress=advance, max_batches=max_batches
            )
            bar.update(task, total=max(report.rewrapped + report.remaining, 1))
    console.print(
        f"tenant {t.slug}: {report.rewrapped} DEKs re-wrapped under KEK v{report.target_kek} "
        f"in {report.seconds:.1f} s, {report.remaining} remaining"
    )
    if report.remaining:
        console.print("run the same command again to resume")


@app.command("rotate-due")
@handle_errors
def rotate_due(
    tenant: str | None = typer.Option(
        None, "--tenant", "-t", help="Tenant slug or id (default: every tenant with a keyring)"
    ),
    dek_max_age_days: int = typer.Option(
        90, "--dek-max-age-days", help="Rotate the data key when older than this"
    ),
    kek_max_age_days: int | None = typer.Option(
        None, "--kek-max-age-days", help="Rotate (and re-wrap under) the KEK when older"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Scheduled rotation (run it from cron or a timer): rotate only what is due."""
    if dek_max_age_days < 1 or (kek_max_age_days is not None and kek_max_age_days < 1):
        raise ValidationFailed("maximum ages must be at least one day")
    settings = settings_from(config)
    with _vault(settings) as (db, vault):
        if tenant is not None:
            tenants = [_resolve(db, tenant)]
        else:
            with db.platform_session() as session:
                tenants = [_Tenant(TenantId(t.id), t.slug) for t in list_tenants(session)]
        for t in tenants:
            keyring = vault.keys.store.get_tenant(t.id)
            if keyring is None or keyring.shredded:
                continue
            done = vault.keys.rotate_due(
                t.id,
                dek_max_age=timedelta(days=dek_max_age_days),
                kek_max_age=None if kek_max_age_days is None else timedelta(days=kek_max_age_days),
            )
            console.print(
                f"tenant {t.slug}: {'rotated ' + ', '.join(done) if done else 'nothing due'}"
            )


@app.command("retire")
@handle_errors
def retire(
    tenant: str = TenantOption,
    kek: int | None = typer.Option(
        None, "--kek", help="Destroy this old KEK version (refused while a DEK is under it)"
    ),
    key_id: str = typer.Option(DATA_KEY, "--key", help="DEK whose old version to retire"),
    version: int | None = typer.Option(None, "--version", help="Old DEK version to retire"),
    confirm: str | None = typer.Option(
        None, "--confirm", help="For a DEK, '<key>:v<version>' again: its data becomes unreadable"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Retire an old KEK (after a complete re-wrap) or an old DEK version (after re-encryption)."""
    if (kek is None) == (version is None):
        raise ValidationFailed("give either --kek VERSION or --version VERSION (with --key)")
    settings = settings_from(config)
    with _vault(settings) as (db, vault):
        t = _resolve(db, tenant)
        if kek is not None:
            vault.keys.retire_kek(t.id, kek)
            console.print(f"tenant {t.slug}: KEK v{kek} destroyed in its provider")
            return
        label = f"{key_id}:v{version}"
        if confirm != label:
            raise fail(
                f"refusing to retire {label} of tenant {t.slug}: add --confirm {label} "
                "(values still under it become unreadable)",
                2,
            )
        if version is not None:
            vault.keys.retire_dek(t.id, key_id, version)
        console.print(f"tenant {t.slug}: {label} retired")


@app.command("protect-key-file")
@handle_errors
def protect_key_file(
    kdf: str = typer.Option("argon2id", "--kdf", help="argon2id or scrypt"),
    remove_passphrase: bool = typer.Option(
        False,
        "--remove-passphrase-weakening-protection",
        help="Leave the key file protected by its 0600 mode only",
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Re-protect the local key file under a new passphrase (asked twice) and derivation.

    The current passphrase comes from the settings (``vault_passphrase``); set the
    new one there afterwards.
    """
    if kdf not in ("argon2id", "scrypt"):
        raise ValidationFailed("--kdf must be argon2id or scrypt")
    settings = settings_from(config)
    provider = next(p for p in key_providers(settings) if isinstance(p, LocalKeyFileProvider))
    provider.check()  # the current passphrase opens it, before asking for a new one
    if remove_passphrase:
        provider.reprotect(None)
        console.print(f"{provider.path}: no passphrase any more (file mode 0600 only)")
        return
    new = typer.prompt("new passphrase", hide_input=True, confirmation_prompt=True)
    if len(new) < 12:
        raise ValidationFailed("the new passphrase must have at least 12 characters")
    provider.reprotect(new, kdf="argon2id" if kdf == "argon2id" else "scrypt")
    console.print(
        f"{provider.path}: protected with {kdf}; set REMPART_VAULT_PASSPHRASE to the new one"
    )


@app.command("shred-tenant")
@handle_errors
def shred_tenant(
    tenant: str = TenantOption,
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit log)"),
    confirm: str | None = typer.Option(
        None, "--confirm", help="The tenant's slug again: the keys cannot be brought back"
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Destroy every key of the tenant: all its encrypted data becomes unreadable for good."""
    settings = settings_from(config)
    if not reason.strip():
        raise ValidationFailed("--reason must not be empty")
    with _vault(settings) as (db, vault):
        t = _resolve(db, tenant)
        if confirm not in (t.slug, t.id):
            raise fail(
                f"refusing to shred tenant {t.slug}: add --confirm {t.slug} "
                "(its data becomes unreadable for good)",
                2,
            )
        vault.shred_tenant(t.id, reason=reason)
    console.print(f"tenant {t.slug}: every key destroyed")


@app.command("shred-subject")
@handle_errors
def shred_subject(
    tenant: str = TenantOption,
    subject: str = typer.Option(..., "--subject", help="Data subject id (as in subject:<id>)"),
    reason: str = typer.Option(..., "--reason", help="Why, e.g. a GDPR erasure request id"),
    confirm: str | None = typer.Option(None, "--confirm", help="The subject id again"),
    config: Path | None = ConfigOption,
) -> None:
    """Destroy a data subject's key: their values become unreadable, the tenant's others not."""
    settings = settings_from(config)
    if not reason.strip():
        raise ValidationFailed("--reason must not be empty")
    if confirm != subject:
        raise fail(f"refusing to shred subject {subject!r}: add --confirm {subject}", 2)
    with _vault(settings) as (db, vault):
        t = _resolve(db, tenant)
        try:
            destroyed = vault.shred_subject(t.id, subject, reason=reason)
        except ValueError as exc:
            raise ValidationFailed(str(exc)) from None
    if destroyed == 0:
        console.print(f"tenant {t.slug}: subject {subject} had no live key (nothing destroyed)")
    else:
        console.print(f"tenant {t.slug}: subject {subject}: {destroyed} key version(s) destroyed")


__all__ = ["app"]
