"""Scan streams of JSON events with an engine: matches out, problems reported, nothing lost.

Events are numbered from 0 across all inputs, in order, counting every JSON value (a
value that is not an object, or cannot be decoded, still takes its number, so the
numbers always point at the input). Each problem (invalid JSON, not an object, nested too
deeply, a regex over its budget) is yielded with that number. Audit exports are read
entry by entry (``audit_export``): the contact-center pack runs on what an auditor holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from rempart.detection.engine import Detection, DetectionEngine
from rempart.detection.errors import DetectionError
from rempart.detection.jsonstream import iter_json


@dataclass(frozen=True)
class ScanMatch:
    index: int
    detection: Detection


@dataclass(frozen=True)
class ScanProblem:
    index: int
    source: str
    message: str


class NotAnEntry(ValueError):
    """A line of an audit export that cannot be read as an entry."""


def audit_export_entry(line: dict[str, Any]) -> dict[str, Any] | None:
    """The audit entry an audit export line carries (``rempart audit export``, format
    ``rempart-audit-export`` version 1: ``docs/audit.md``), or None for the lines that
    carry none (the header, checkpoints, entries pruned by retention)."""
    # Imported here: the audit package (SQLAlchemy, its models) is not needed to scan
    # plain events, and importing it made ``import rempart.detection`` 0.75 s slower.
    from rempart.audit.export import EXPORT_FORMAT, EXPORT_VERSION

    kind = line.get("type")
    if kind == "entry":
        text = line.get("entry")
        if not isinstance(text, str):
            raise NotAnEntry("an export entry line must carry its entry as a JSON string")
        try:
            entry = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NotAnEntry(f"the entry is not valid JSON: {exc.msg}") from None
        if not isinstance(entry, dict):
            raise NotAnEntry("the entry is not a JSON object")
        return entry
    if kind in ("checkpoint", "pruned") or (kind is None and line.get("format") == EXPORT_FORMAT):
        return None
    raise NotAnEntry(f"not a line of an audit export ({EXPORT_FORMAT} version {EXPORT_VERSION})")


def scan_streams(
    engine: DetectionEngine,
    streams: Iterable[tuple[str, IO[str]]],
    *,
    audit_export: bool = False,
) -> Iterator[ScanMatch | ScanProblem]:
    """Run ``engine.process`` over every JSON value of every (name, stream); with
    ``audit_export``, over the entries the lines of audit exports carry (the other
    lines keep their number and are passed over)."""
    offset = 0
    for name, stream in streams:
        last = -1
        for item in iter_json(stream):
            index = offset + item.index
            last = item.index
            if item.error is not None:
                yield ScanProblem(index, name, item.error)
                continue
            if not isinstance(item.value, dict):
                yield ScanProblem(
                    index,
                    name,
                    f"line {item.line}: an event must be a JSON object, "
                    f"not {type(item.value).__name__}",
                )
                continue
            event: dict[str, Any] = item.value
            if audit_export:
                try:
                    entry = audit_export_entry(item.value)
                except NotAnEntry as exc:
                    yield ScanProblem(index, name, f"line {item.line}: {exc}")
                    continue
                if entry is None:
                    continue
                event = entry
            seen = engine.problem_count
            try:
                detections = engine.process(event, index)
            except DetectionError as exc:
                yield ScanProblem(index, name, f"line {item.line}: {exc}")
                continue
            for detection in detections:
                yield ScanMatch(index, detection)
            if engine.problem_count != seen:
                for problem in list(engine.problems)[seen - engine.problem_count :]:
                    yield ScanProblem(
                        index, name, f"line {item.line}: rule {problem.rule_id}: {problem.message}"
                    )
        offset += last + 1


__all__ = ["NotAnEntry", "ScanMatch", "ScanProblem", "audit_export_entry", "scan_streams"]
