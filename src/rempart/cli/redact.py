"""``rempart redact``: redact or detect over text, JSONL and CSV files (thin: the work is
in :mod:`rempart.redaction.batch`)."""

from __future__ import annotations

import json
import sys
import tomllib
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Annotated, Any, cast

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from rempart.cli.common import err_console, fail, handle_errors
from rempart.errors import ConfigurationError
from rempart.redaction.batch import (
    Format,
    InvalidUtf8,
    atomic_output,
    detect_jsonl,
    redact_file,
)
from rempart.redaction.policy import DEFAULT_POLICY, Policy

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
        str | None, typer.Option(help="Default operator: tag, mask, surrogate.")
    ] = None,
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
            )


__all__ = ["app"]
