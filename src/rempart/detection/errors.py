"""Errors of the detection engine, each with the place it comes from.

RempartError
└── DetectionError                any detection failure
    ├── RuleError                 a rule that cannot be parsed or compiled (file:line)
    ├── EventError                an event that cannot be evaluated (not an object, too deep)
    └── RegexTimeout              a regular expression ran past its time budget
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rempart.errors import BadRequest


@dataclass(frozen=True)
class Location:
    """Where a rule or an event comes from: a file and, when known, a 1-based line."""

    path: Path | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = str(self.path) if self.path is not None else "<input>"
        return f"{where}:{self.line}" if self.line is not None else where


class DetectionError(BadRequest):
    title = "Detection error"
    slug = "detection-error"


class RuleError(DetectionError):
    """A rule that cannot be loaded; ``str()`` reads ``file:line: reason``."""

    title = "Invalid detection rule"
    slug = "invalid-detection-rule"

    def __init__(
        self,
        reason: str,
        location: Location | None = None,
        rule_id: str | None = None,
        *,
        phase: str = "compile",
    ) -> None:
        self.reason = reason
        self.location = location or Location()
        self.rule_id = rule_id
        self.phase = phase  # "parse" (YAML, pySigma) or "compile" (pipeline, compiler)
        super().__init__(f"{self.location}: {reason}")


class EventError(DetectionError):
    """An event that cannot be evaluated (not an object, nested too deeply...)."""

    title = "Invalid event"
    slug = "invalid-event"


class RegexTimeout(DetectionError):
    """A regular expression exceeded its time budget on one value."""

    title = "Regular expression timed out"
    slug = "regex-timeout"


__all__ = ["DetectionError", "EventError", "Location", "RegexTimeout", "RuleError"]
