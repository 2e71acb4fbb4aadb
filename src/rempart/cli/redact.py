"""``rempart redact``: redact or detect over text, JSONL and CSV files (thin: the work is
in :mod:`rempart.redaction.batch`)."""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Annotated, Any, cast

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from rempart.cli.common import database, err_console, fail, handle_errors, settings_from
from rempart.errors import ConfigurationError
from rempart.redaction.batch import (
    Format,
    InvalidUtf8,
    atomic_output,
    detect_jsonl,
    redact_file,
)
from rempart.redaction.keys import create_key_file, load_key_file, tenant_key
from rempart.redaction.operators import OperatorState, Pseudonym, Tokenize
from rempart.redaction.policy import DEFAULT_POLICY, Policy
from rempart.types import TenantId

app = typer.Typer(
    help="Redact personal and payment data.",
    add_completion=False,
    context_settings={"allow_interspersed_args": True},
)


def _policy(path: Path | None, operator: str | None) -> Policy:
    data: dict[str, Any] = {}
    if path is not None:
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8")) if path.suffix == ".toml" else json.loads(raw)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read policy {path}: {exc}") from exc
    if operator:
        data.setdefault("operators", {})["default"] = {"kind": operator}
    return Policy.from_mapping(data) if data else DEFAULT_POLICY


def _uses(policy: Policy, kind: type) -> bool:
    ops = [policy.default_operator, *policy.operators.values()]
    return any(isinstance(op, kind) for op in ops)


@contextmanager
def _operator_state(
    pol: Policy,
    key_file: Path | None,
    new_key: bool,
    tenant: str | None,
    config: Path | None,
    token_days: int,
    workers: int,
) -> Iterator[OperatorState | None]:
    """What the policy's keyed operators need: the pseudonym key, the tenant, the vault."""
    pseudonym, tokenize = _uses(pol, Pseudonym), _uses(pol, Tokenize)
    if new_key and key_file is None:
        raise fail("--new-key needs --key-file")
    if key_file is not None and new_key:
        create_key_file(key_file)
    if not (pseudonym or tokenize):
        yield None
        return
    state = OperatorState()
    if pseudonym:
        if key_file is None:
            raise fail("the pseudonym operator needs --key-file (the tenant's key)")
        key = load_key_file(key_file)
        state.key = tenant_key(key, tenant) if tenant else key
    if not tokenize:
        yield state
        return
    if tenant is None:
        raise fail("the tokenize operator needs --tenant")
    if workers != 1:
        raise fail("the tokenize operator runs in one process (--workers 1)")
    from rempart.redaction.vault_tokens import VaultTokens
    from rempart.storage.tenants import get_tenant
    from rempart.vault import open_vault

    settings = settings_from(config)
    with database(settings) as db:
        with db.platform_session() as session:
            tenant_id = TenantId(get_tenant(session, tenant).id)
        vault = open_vault(settings, db)
        if vault.keys.store.get_tenant(tenant_id) is None:
            raise fail(f"tenant {tenant} has no vault keyring (run `rempart vault init`)")
        state.tenant = tenant_id
        state.vault = VaultTokens(vault, ttl=timedelta(days=token_days))
        yield state


@app.callback(invoke_without_command=True)
@handle_errors
def redact(
    source: Annotated[str, typer.Argument(help="Input file, or - for standard input.")] = "-",
    output: Annotated[str, typer.Option("--output", "-o", help="Output file (- = stdout).")] = "-",
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, jsonl or csv.")] = "text",
    detect: Annotated[
        bool,
        typer.Option(
            "--detect",
            help="Write spans instead of text (JSONL: {id, spans: [[start, end, label]]}).",
        ),
    ] = False,
    lang: Annotated[str | None, typer.Option(help="fr or en (guessed when absent).")] = None,
    columns: Annotated[
        str, typer.Option(help="Fields (JSONL) or columns (CSV) to redact, comma-separated.")
    ] = "text",
    policy: Annotated[Path | None, typer.Option(help="Policy file (TOML or JSON).")] = None,
    operator: Annotated[
        str | None,
        typer.Option(
            help="Default operator: tag, mask, surrogate, keep, pseudonym (--key-file) "
            "or tokenize (--tenant, through the vault)."
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(help="The tenant's pseudonym key file (hex, mode 0600)."),
    ] = None,
    new_key: Annotated[
        bool, typer.Option(help="Create --key-file with a new random key (never replaces one).")
    ] = False,
    tenant: Annotated[
        str | None,
        typer.Option(help="Tenant slug or id: the vault's tenant; mixed into pseudonym keys."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Settings file (for the vault).")
    ] = None,
    token_days: Annotated[
        int, typer.Option(min=1, max=36500, help="Lifetime of new tokens, in days.")
    ] = 365,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    invalid_utf8: Annotated[str, typer.Option(help="error or replace.")] = "error",
    progress: Annotated[bool, typer.Option(help="Progress on stderr.")] = True,
) -> None:
    """Redact SOURCE, or with --detect list the sensitive spans it contains."""
    if fmt not in ("text", "jsonl", "csv"):
        raise fail(f"unknown format {fmt!r} (text, jsonl or csv)")
    if invalid_utf8 not in ("error", "replace"):
        raise fail("--invalid-utf8 is error or replace")
    if detect and fmt != "jsonl":
        raise fail("--detect needs --format jsonl")
    pol = _policy(policy, operator)
    show = progress and err_console.is_terminal
    with ExitStack() as stack:
        state = stack.enter_context(
            _operator_state(pol, key_file, new_key, tenant, config, token_days, workers)
        )
        src: IO[bytes] = (
            sys.stdin.buffer if source == "-" else stack.enter_context(Path(source).open("rb"))
        )
        bar = stack.enter_context(
            Progress(
                SpinnerColumn(),
                TextColumn("{task.completed} records"),
                TimeElapsedColumn(),
                console=err_console,
                disable=not show,
                transient=True,
            )
        )
        task = bar.add_task("redact", total=None)

        def tick(n: int) -> None:
            if n % 1000 == 0:
                bar.update(task, completed=n)

        dst: IO[str] = stack.enter_context(atomic_output(None if output == "-" else output))
        if detect:
            detect_jsonl(
                src,
                dst,
                lang,
                workers,
                cast(InvalidUtf8, invalid_utf8),
                tick,
                pol,
            )
        else:
            redact_file(
                src,
                dst,
                cast(Format, fmt),
                pol,
                lang,
                tuple(c.strip() for c in columns.split(",") if c.strip()),
                workers,
                cast(InvalidUtf8, invalid_utf8),
                tick,
                state,
            )


__all__ = ["app"]
