"""``rempart audit``: verify an export offline, export a log, issue checkpoints, print proofs.

``verify`` needs no database and no server: an export, the auditor's last
trusted checkpoint and the log's public key. The other commands open the
configured database and sign with the platform's checkpoint key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from rempart.audit import (
    ConsistencyProof,
    InclusionProof,
    NoteVerifier,
    checkpoint_signer,
    export_log,
    issue_checkpoint,
    issue_due_checkpoints,
    prove_consistency,
    prove_inclusion,
    verifier_key,
    verify_export,
)
from rempart.audit.anchor import DirectoryAnchor
from rempart.audit.checkpoints import Anchor
from rempart.audit.errors import CheckpointError
from rempart.audit.timestamp import verify_timestamp
from rempart.cli.common import (
    ConfigOption,
    console,
    database,
    fail,
    handle_errors,
    settings_from,
    tenant_context,
)
from rempart.errors import RempartError
from rempart.storage import Database

app = typer.Typer(
    help="Tamper-evident audit log: verify, export, checkpoint, prove.", no_args_is_help=True
)

TenantOption = typer.Option(None, "--tenant", "-t", help="Tenant slug or id (its log)")
PlatformOption = typer.Option(False, "--platform", help="The platform's own log")


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {what} {path}: {exc.__class__.__name__}") from None


@app.command("verify")
def verify(
    export: Annotated[Path, typer.Argument(help="Export file (JSON Lines)")],
    trusted: Annotated[Path, typer.Option("--trusted", help="The last checkpoint you trust")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The log's verifier key")],
    save_latest: Annotated[
        Path | None, typer.Option("--save-latest", help="Write the newest verified checkpoint")
    ] = None,
    tsa_ca: Annotated[
        Path | None, typer.Option("--tsa-ca", help="Also check RFC 3161 tokens against this CA")
    ] = None,
) -> None:
    """Recompute an export offline; exit 1 and name the first inconsistency if any."""
    try:
        verifier = NoteVerifier.from_vkey(_read(public_key, "public key"))
    except CheckpointError as exc:
        raise fail(f"public key: {exc.detail}") from None
    if not export.is_file():
        raise fail(f"export not found: {export}")
    check = None
    if tsa_ca is not None:
        ca_file = tsa_ca

        def check(token: bytes, note: bytes) -> None:
            verify_timestamp(token, note, ca_file=ca_file)

    report = verify_export(
        export, _read(trusted, "trusted checkpoint"), verifier, check_timestamp=check
    )
    if not report.ok:
        raise fail(f"NOT VERIFIED: {report.problem}")
    root = report.root.hex() if report.root else "-"
    pruned = f" ({report.pruned} pruned by retention: hash only)" if report.pruned else ""
    console.print(
        f"verified: {report.entries} entries{pruned}, {report.checkpoints} signed checkpoints, "
        f"log {report.origin}, size {report.verified_size}, root {root}",
        markup=False,
        highlight=False,
    )
    if save_latest is not None and report.latest_checkpoint is not None:
        save_latest.write_text(report.latest_checkpoint, encoding="utf-8")


@app.command("verify-proof")
def verify_proof(
    proof: Annotated[Path, typer.Argument(help="Proof document from `rempart audit prove`")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The log's verifier key")],
) -> None:
    """Check an inclusion or consistency proof offline; exit 1 if it does not hold."""
    try:
        verifier = NoteVerifier.from_vkey(_read(public_key, "public key"))
        doc = json.loads(_read(proof, "proof"))
        if isinstance(doc, dict) and "entry" in doc:
            inclusion = InclusionProof.from_json(doc)
            inclusion.verify(verifier)
            what = f"entry {inclusion.index} is in the signed tree of size {inclusion.tree_size}"
        else:
            consistency = ConsistencyProof.from_json(doc)
            consistency.verify(verifier)
            what = "the older signed tree is a prefix of the newer one"
    except ValueError as exc:
        raise fail(f"NOT VERIFIED: proof is not JSON ({exc})") from None
    except RempartError as exc:
        raise fail(f"NOT VERIFIED: {exc.detail}") from None
    console.print(f"verified: {what}", markup=False, highlight=False)


@contextmanager
def _log_session(db: Database, tenant: str | None, platform: bool) -> Iterator[Session]:
    if platform == (tenant is not None):
        raise fail("choose exactly one of --tenant and --platform")
    if tenant is None:
        with db.platform_session() as session:
            yield session
    else:
        ctx = tenant_context(db, tenant)
        with db.tenant_session(ctx) as session:
            yield session


def _anchors(anchor_dir: Path | None) -> list[Anchor]:
    return [DirectoryAnchor(anchor_dir)] if anchor_dir is not None else []


@app.command("public-key")
@handle_errors
def public_key_cmd(config: Path | None = ConfigOption) -> None:
    """Print the verifier key auditors need (created with the signing key on first use)."""
    settings = settings_from(config)
    console.print(verifier_key(checkpoint_signer(settings)), markup=False)


@app.command("checkpoint")
@handle_errors
def checkpoint(
    tenant: str | None = TenantOption,
    platform: bool = PlatformOption,
    due: Annotated[bool, typer.Option("--due", help="Every due log (for a scheduler)")] = False,
    interval: Annotated[int, typer.Option("--interval", help="Seconds between checkpoints")] = 300,
    anchor_dir: Annotated[
        Path | None, typer.Option("--anchor-dir", help="Also write them here")
    ] = None,
    config: Path | None = ConfigOption,
) -> None:
    """Sign the current state of a log (or of every due log) and print the note."""
    settings = settings_from(config)
    signer = checkpoint_signer(settings)
    with database(settings) as db:
        if due:
            run = issue_due_checkpoints(
                db, signer, interval=timedelta(seconds=interval), anchors=_anchors(anchor_dir)
            )
            for cp in run.issued:
                console.print(f"{cp.origin} size {cp.size}", markup=False, highlight=False)
            for log, error in run.refused:
                console.print(f"REFUSED {log}: {error.detail}", markup=False, highlight=False)
            if run.refused:
                raise typer.Exit(1)
            return
        with _log_session(db, tenant, platform) as session:
            cp = issue_checkpoint(session, signer, anchors=_anchors(anchor_dir))
    typer.echo(cp.note, nl=False)


@app.command("export")
@handle_errors
def export_cmd(
    output: Annotated[Path, typer.Argument(help="File to write (JSON Lines)")],
    tenant: str | None = TenantOption,
    platform: bool = PlatformOption,
    config: Path | None = ConfigOption,
) -> None:
    """Sign a fresh checkpoint, then export the log's entries and checkpoints."""
    settings = settings_from(config)
    signer = checkpoint_signer(settings)
    with database(settings) as db:
        with _log_session(db, tenant, platform) as session:
            issue_checkpoint(session, signer)
        with _log_session(db, tenant, platform) as session, output.open("w") as out:
            count = export_log(session, out)
    console.print(f"exported {count} entries to {output}", markup=False, highlight=False)


@app.command("prove")
@handle_errors
def prove(
    tenant: str | None = TenantOption,
    platform: bool = PlatformOption,
    uid: Annotated[str | None, typer.Option("--uid", help="Prove this entry id")] = None,
    seq: Annotated[int | None, typer.Option("--seq", help="Prove this entry index")] = None,
    size: Annotated[int | None, typer.Option("--size", help="Checkpoint size (latest)")] = None,
    old_size: Annotated[
        int | None, typer.Option("--from", help="Consistency proof from this size to --size")
    ] = None,
    config: Path | None = ConfigOption,
) -> None:
    """Print an inclusion proof (--uid/--seq) or a consistency proof (--from) as JSON."""
    settings = settings_from(config)
    with database(settings) as db, _log_session(db, tenant, platform) as session:
        if old_size is not None:
            doc = prove_consistency(session, old_size, size).to_json()
        elif uid is not None or seq is not None:
            doc = prove_inclusion(session, uid=uid, seq=seq, tree_size=size).to_json()
        else:
            raise fail("give --uid or --seq (inclusion) or --from (consistency)")
    typer.echo(json.dumps(doc, indent=2))


__all__ = ["app"]
