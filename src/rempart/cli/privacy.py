"""``rempart privacy``: data-subject rights: find, export (art. 15), erase (art. 17), certificates.

Thin: each command opens the configured database and vault and calls
``rempart.privacy``. The actor in the audit log is the operating-system user
who ran the command (``cli:<user>``). Errors are one line on stderr with a
non-zero exit; ``erase`` refuses (exit 2) unless ``--confirm`` repeats the
customer reference.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from sqlalchemy import select

from rempart.audit import checkpoint_signer
from rempart.cli.common import (
    ConfigOption,
    TenantOption,
    cli_origin,
    database,
    fail,
    handle_errors,
    settings_from,
    tenant_context,
)
from rempart.config import Settings
from rempart.contact.media import MediaStore
from rempart.errors import ValidationFailed
from rempart.privacy import (
    DirectoryExportStore,
    RetentionHolds,
    Selector,
    StoredMedia,
    erase_subject,
    export_subject,
    resolve,
    search,
    verify_certificate,
)
from rempart.privacy.models import ErasureRequest
from rempart.storage import Database, TenantContext
from rempart.vault import Vault, open_vault

app = typer.Typer(
    help="Data-subject rights (GDPR): find, export (art. 15), erase (art. 17), verify.",
    no_args_is_help=True,
)

CustomerIdOption = typer.Option(None, "--customer-id", help="The tenant's own customer id")
PhoneOption = typer.Option(None, "--phone", help="A phone number of the customer")
EmailOption = typer.Option(None, "--email", help="An e-mail address of the customer")
RefOption = typer.Option(None, "--ref", help="Rempart's customer reference (from `find`)")
OutOption = typer.Option(..., "--out", "-o", help="Sealed archive to write (must not exist)")
PassphraseFileOption = typer.Option(
    None, "--passphrase-file", help="Read the passphrase from this file (else prompted)"
)
CertificateOutOption = typer.Option(
    None, "--certificate-out", help="Write the signed certificate here (else printed)"
)
CertificateArgument = typer.Argument(..., help="The certificate file")


def export_store(settings: Settings) -> DirectoryExportStore:
    """Where stored copies of exports live: ``<data_dir>/privacy-exports``."""
    return DirectoryExportStore.for_settings(settings)


@contextmanager
def _opened(settings: Settings, tenant: str) -> Iterator[tuple[Database, Vault, TenantContext]]:
    with database(settings) as db:
        yield db, open_vault(settings, db), tenant_context(db, tenant)


def _resolve(
    db: Database, vault: Vault, ctx: TenantContext, selector: Selector, *, include_erased: bool
) -> str:
    with db.tenant_session(ctx) as session:
        return resolve(session, vault, selector, include_erased=include_erased)


@app.command("find")
@handle_errors
def find_cmd(
    tenant: str = TenantOption,
    customer_id: str | None = CustomerIdOption,
    phone: str | None = PhoneOption,
    email: str | None = EmailOption,
    ref: str | None = RefOption,
    include_erased: bool = typer.Option(False, "--include-erased", help="Show erased ones too"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
    config: Path | None = ConfigOption,
) -> None:
    """Customers matching every criterion given, with what is stored about them (no content)."""
    selector = Selector(customer_id=customer_id, phone=phone, email=email, ref=ref)
    settings = settings_from(config)
    with _opened(settings, tenant) as (db, vault, ctx):
        found = search(db, vault, ctx, selector, origin=cli_origin(), include_erased=include_erased)
        if as_json:
            print(json.dumps([f.to_dict() for f in found], indent=2))
            return
        if not found:
            typer.echo("no customer matches")
            return
        for f in found:
            # Plain lines, not a table: a reference must never be cut to fit the terminal.
            state = f"erased {f.erased_at.isoformat(timespec='seconds')}" if f.erased_at else ""
            if not state and f.erasure:
                state = f"erasure {f.erasure}"
            print(f"{f.customer}  created {f.created_at.isoformat(timespec='seconds')}  {state}")
            identifiers = " ".join(f"{k}:{v}" for k, v in sorted(f.identifiers.items()))
            print(f"  identifiers {identifiers or '-'}")
            print("  " + ", ".join(f"{k} {v}" for k, v in f.totals().items()))


def _passphrase(path: Path | None) -> str:
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationFailed(f"cannot read the passphrase file {path}") from exc
    value: str = typer.prompt(
        "Passphrase for the recipient", hide_input=True, confirmation_prompt=True
    )
    return value


@app.command("export")
@handle_errors
def export_cmd(
    tenant: str = TenantOption,
    out: Path = OutOption,
    customer_id: str | None = CustomerIdOption,
    phone: str | None = PhoneOption,
    email: str | None = EmailOption,
    ref: str | None = RefOption,
    passphrase_file: Path | None = PassphraseFileOption,
    config: Path | None = ConfigOption,
) -> None:
    """Export one customer's data (GDPR art. 15), sealed under a passphrase for delivery."""
    selector = Selector(customer_id=customer_id, phone=phone, email=email, ref=ref)
    passphrase = _passphrase(passphrase_file)
    settings = settings_from(config)
    with _opened(settings, tenant) as (db, vault, ctx):
        customer = _resolve(db, vault, ctx, selector, include_erased=False)
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise fail(f"{out} already exists") from None
        except OSError as exc:
            raise fail(f"cannot create {out}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                result = export_subject(
                    db,
                    vault,
                    ctx,
                    customer,
                    handle,
                    passphrase=passphrase,
                    origin=cli_origin(),
                    store=export_store(settings),
                    media=StoredMedia(MediaStore.for_settings(settings), vault),
                )
        except BaseException:
            out.unlink(missing_ok=True)
            raise
    typer.echo(f"export {result.export_id}: {result.size_bytes} bytes written to {out}")
    typer.echo(f"sha256 {result.sha256}")
    typer.echo(", ".join(f"{k}: {v}" for k, v in result.counts.items()))


@app.command("erase")
@handle_errors
def erase_cmd(
    tenant: str = TenantOption,
    reason: str = typer.Option(..., "--reason", help="Why (the request's reference; no names)"),
    confirm: str = typer.Option(..., "--confirm", help="Repeat the customer reference"),
    customer_id: str | None = CustomerIdOption,
    phone: str | None = PhoneOption,
    email: str | None = EmailOption,
    ref: str | None = RefOption,
    batch_size: int = typer.Option(200, "--batch-size", help="Interactions per transaction"),
    max_batches: int | None = typer.Option(
        None, "--max-batches", help="Stop after this many batches (run again to resume)"
    ),
    certificate_out: Path | None = CertificateOutOption,
    config: Path | None = ConfigOption,
) -> None:
    """Erase one customer (GDPR art. 17) by crypto-shredding, then issue a signed certificate."""
    selector = Selector(customer_id=customer_id, phone=phone, email=email, ref=ref)
    settings = settings_from(config)
    with _opened(settings, tenant) as (db, vault, ctx):
        customer = _resolve(db, vault, ctx, selector, include_erased=True)
        if confirm != customer:
            raise fail(f"refused: --confirm must repeat the customer reference {customer}", 2)
        result = erase_subject(
            db,
            vault,
            ctx,
            customer,
            reason=reason,
            origin=cli_origin(),
            signer=checkpoint_signer(settings),
            store=export_store(settings),
            media=StoredMedia(MediaStore.for_settings(settings), vault),
            holds=RetentionHolds(),
            batch_size=batch_size,
            max_batches=max_batches,
        )
    typer.echo(f"erasure {result.request_id} of {result.subject}: {result.status}")
    typer.echo(", ".join(f"{k}: {v}" for k, v in result.counts.items()))
    if result.certificate is None:
        # The id index is cleared when an erasure starts: only the reference finds them now.
        typer.echo(
            f"not finished: resume with `rempart privacy erase -t {tenant} --ref {customer} "
            f"--reason ... --confirm {customer}`"
        )
        return
    if certificate_out is not None:
        certificate_out.write_text(result.certificate, encoding="utf-8")
        typer.echo(f"certificate written to {certificate_out}")
    else:
        print(result.certificate, end="")


@app.command("certificate")
@handle_errors
def certificate_cmd(
    tenant: str = TenantOption,
    ref: str = typer.Option(..., "--ref", help="The erased customer's reference"),
    config: Path | None = ConfigOption,
) -> None:
    """Print the stored erasure certificate of a customer."""
    settings = settings_from(config)
    with database(settings) as db:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            text = session.scalar(
                select(ErasureRequest.certificate).where(ErasureRequest.customer_id == ref)
            )
    if text is None:
        raise fail("no erasure certificate for this customer (not erased, or not finished)")
    typer.echo(text, nl=False)


@app.command("verify-certificate")
@handle_errors
def verify_cmd(
    file: Path = CertificateArgument,
    key: str = typer.Option(
        ..., "--key", help="Verifier key (name+hash+base64) or a file holding it"
    ),
) -> None:
    """Check an erasure certificate offline against the platform's public audit key."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise fail(f"cannot read the certificate {file}") from None
    key_path = Path(key)
    if key_path.is_file():
        try:
            key = key_path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            raise fail(f"cannot read the key file {key_path}") from None
    cert = verify_certificate(text, key)
    typer.echo(
        f"valid: erasure {cert['request_id']} of {cert['subject']} in tenant {cert['tenant']}, "
        f"completed {cert['completed_at']}, audit entry {cert['audit_entry'].get('seq')}"
    )


__all__ = ["app", "export_store"]
