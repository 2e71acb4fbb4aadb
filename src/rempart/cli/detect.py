"""``rempart detect``: check Sigma rules, scan JSON events, run regression data.

Thin: the work is in :mod:`rempart.detection`. ``scan`` prints exactly one JSON line
per match on stdout, ``{"rule_id", "rule_title", "event"}`` (other tools read it);
everything else goes to stderr.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Annotated

import typer

from rempart.cli.common import fail, handle_errors
from rempart.detection import (
    DetectionEngine,
    ScanMatch,
    get_pipeline,
    load_rules,
    run_regression,
    scan_streams,
)

app = typer.Typer(
    help="Sigma detection: check rules, scan events, run regression data.",
    no_args_is_help=True,
    add_completion=False,
)

PipelineOption = Annotated[
    str | None,
    typer.Option("--pipeline", "-p", help="Field mapping: windows, rempart (default: none)"),
]


def _echo_err(text: str) -> None:
    typer.echo(text, err=True)


@app.command("check")
@handle_errors
def check(
    rules: Annotated[list[Path], typer.Argument(help="Rule files or directories")],
    pipeline: PipelineOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List skipped rules")] = False,
) -> None:
    """Parse and compile rules; list each failure with file:line and why."""
    ruleset = load_rules(rules, get_pipeline(pipeline))
    for err in ruleset.failed:
        _echo_err(f"FAIL {err}")
    if verbose:
        for s in ruleset.skipped:
            _echo_err(f"SKIP {s.location}: {s.reason}")
    typer.echo(ruleset.summary())
    if ruleset.failed:
        raise typer.Exit(1)


@app.command("scan")
@handle_errors
def scan(
    events: Annotated[list[Path], typer.Argument(help="Event files ('-' reads stdin)")],
    rules: Annotated[list[Path], typer.Option("--rules", "-r", help="Rule files or directories")],
    pipeline: PipelineOption = None,
    stats: Annotated[bool, typer.Option("--stats", help="Per-rule counters on stderr")] = False,
    audit_export: Annotated[
        bool,
        typer.Option(
            "--audit-export",
            help="Inputs are audit exports (rempart audit export): scan their entries",
        ),
    ] = False,
) -> None:
    """Print one JSON line per match: {"rule_id", "rule_title", "event"}."""
    ruleset = load_rules(rules, get_pipeline(pipeline))
    for err in ruleset.failed:
        _echo_err(f"rule not loaded: {err}")
    _echo_err(ruleset.summary())
    engine = DetectionEngine(ruleset, timing=stats)
    problems = 0
    out = sys.stdout
    with ExitStack() as stack:
        streams: list[tuple[str, IO[str]]] = []
        for path in events:
            if str(path) == "-":
                streams.append(("<stdin>", sys.stdin))
                continue
            try:
                streams.append((str(path), stack.enter_context(path.open(encoding="utf-8"))))
            except OSError as exc:
                raise fail(f"cannot read {path}: {exc.strerror or exc}") from None
        for item in scan_streams(engine, streams, audit_export=audit_export):
            if isinstance(item, ScanMatch):
                out.write(json.dumps(item.detection.as_dict(item.index), ensure_ascii=False))
                out.write("\n")
            else:
                problems += 1
                _echo_err(f"{item.source}: event {item.index}: {item.message}")
    out.flush()
    if stats:
        for s in sorted(engine.stats(), key=lambda s: -s.seconds):
            if s.evaluations:
                _echo_err(
                    f"{s.rule_id} evaluations={s.evaluations} matches={s.matches} "
                    f"errors={s.errors} seconds={s.seconds:.6f} {s.title}"
                )
    _echo_err(f"{engine.events} events scanned, {problems} problems")
    if problems:
        raise typer.Exit(1)


@app.command("regress")
@handle_errors
def regress(
    directory: Annotated[Path, typer.Argument(help="A regression_data folder")],
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Rule folders (default: rules* beside DIR)"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show notes")] = False,
) -> None:
    """Check that every rule with regression data matches its own events."""
    if not directory.is_dir():
        raise fail(f"not a directory: {directory}")
    results = run_regression(directory, rules)
    failed = [r for r in results if not r.ok]
    for r in failed:
        typer.echo(f"FAIL {r.case.rule_id} {r.case.title}: {r.reason}")
    if verbose:
        for r in results:
            if r.note:
                _echo_err(f"note {r.case.rule_id} {r.case.title}: {r.note}")
    typer.echo(f"{len(results) - len(failed)} of {len(results)} rules match their own events")
    if failed:
        raise typer.Exit(1)


__all__ = ["app"]
