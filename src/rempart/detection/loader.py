"""Read Sigma rule files into pySigma rule objects, each with its file and line.

One file may hold several YAML documents (rules, correlation rules, ``action: global``
collections). A file that cannot be read or parsed becomes a :class:`RuleError` with
its line; the other files still load.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.filters import SigmaFilter
from sigma.modifiers import SigmaWideModifier, modifier_mapping
from sigma.rule import SigmaRule
from sigma.rule.base import SigmaYAMLLoader

from rempart.detection.errors import Location, RuleError

RULE_SUFFIXES = (".yml", ".yaml")
MAX_RULE_FILE_BYTES = 4 * 1024 * 1024

AnyRule = SigmaRule | SigmaCorrelationRule


@dataclass
class RuleFile:
    """The documents of one rule file and the line each starts on."""

    path: Path
    text: str
    docs: list[dict[str, Any]]
    lines: list[int]

    def locate(self, index: int, *needles: str) -> Location:
        """Line of the first needle found in document ``index``, else where it starts."""
        start = self.lines[index] if index < len(self.lines) else 1
        end = self.lines[index + 1] if index + 1 < len(self.lines) else None
        text_lines = self.text.splitlines()[start - 1 : (end - 1) if end else None]
        for needle in needles:
            if not needle:
                continue
            for offset, line in enumerate(text_lines):
                if needle in line:
                    return Location(self.path, start + offset)
        return Location(self.path, start)


def discover(paths: Iterable[Path | str]) -> list[Path]:
    """Rule files under the given files and directories, sorted, each once."""
    found: dict[Path, None] = {}
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix in RULE_SUFFIXES and f.is_file():
                    found[f] = None
        else:
            found[p] = None
    return list(found)


def _doc_lines(text: str) -> list[int]:
    """1-based first line of each YAML document (split on ``---`` lines)."""
    lines = [1]
    for n, line in enumerate(text.splitlines(), start=1):
        if line.rstrip() == "---" and n > 1:
            lines.append(n + 1)
    return lines


def read_rule_file(path: Path) -> RuleFile:
    """Parse one file's YAML; raises :class:`RuleError` with the line of a syntax error."""
    try:
        size = path.stat().st_size
        if size > MAX_RULE_FILE_BYTES:
            raise RuleError(
                f"rule file is {size} bytes, over {MAX_RULE_FILE_BYTES}",
                Location(path),
                phase="parse",
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RuleError(f"not UTF-8 text: {exc.reason}", Location(path), phase="parse") from exc
    except OSError as exc:
        raise RuleError(
            f"cannot read: {exc.strerror or exc}", Location(path), phase="parse"
        ) from exc
    return parse_rule_text(text, path)


def parse_rule_text(text: str, path: Path | None = None) -> RuleFile:
    try:
        raw_docs = list(yaml.load_all(text, Loader=SigmaYAMLLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RuleError(f"invalid YAML: {problem}", Location(path, line), phase="parse") from exc
    except RecursionError as exc:
        raise RuleError("invalid YAML: nested too deeply", Location(path), phase="parse") from exc
    lines = _doc_lines(text)
    docs: list[dict[str, Any]] = []
    doc_lines: list[int] = []
    for i, doc in enumerate(raw_docs):
        if doc is None:
            continue
        line = lines[i] if i < len(lines) else 1
        if not isinstance(doc, dict):
            raise RuleError(
                f"a rule must be a YAML mapping, not {type(doc).__name__}",
                Location(path, line),
                phase="parse",
            )
        docs.append(doc)
        doc_lines.append(line)
    return RuleFile(path or Path("<input>"), text, docs, doc_lines)


def ensure_modifier_aliases() -> None:
    """Teach pySigma the modifier names of the Sigma specification it lacks.

    ``utf16le`` is the specification's other name for ``wide``. pySigma keeps its
    modifiers in a module-level table; the alias is added there on first load (never
    at import), and never replaces an existing entry.
    """
    modifier_mapping.setdefault("utf16le", SigmaWideModifier)


_QUOTED = re.compile(r"'([^']{1,200})'|\"([^\"]{1,200})\"")


def error_needles(message: str) -> list[str]:
    """Words of an error message worth searching for in the rule text (quoted names)."""
    needles = [a or b for a, b in _QUOTED.findall(message)]
    m = re.search(r"%(\w+)%", message)
    if m:
        needles.insert(0, m.group(0))
    return needles


def sigma_rules(
    rule_file: RuleFile,
) -> Iterator[tuple[AnyRule | SigmaFilter | None, Location, RuleError | None]]:
    """pySigma rules (and filters) of one file with their locations; a broken rule yields
    its error. Filters are yielded, not applied: they may name rules of other files."""
    ensure_modifier_aliases()
    uses_actions = any("action" in d for d in rule_file.docs)
    batches: list[tuple[list[dict[str, Any]], int]]
    if uses_actions:
        batches = [(rule_file.docs, 0)]
    else:
        batches = [([d], i) for i, d in enumerate(rule_file.docs)]
    for docs, first in batches:
        try:
            collection = SigmaCollection.from_dicts(
                docs, collect_errors=True, resolve_references=False, collect_filters=True
            )
        except (SigmaError, ValueError, TypeError, KeyError, AttributeError) as exc:
            msg = _message(exc)
            loc = rule_file.locate(first, *error_needles(msg), "detection:")
            yield None, loc, RuleError(msg, loc, phase="parse")
            continue
        found: list[AnyRule | SigmaFilter] = [*collection.rules, *collection.filters]
        for offset, rule in enumerate(found):
            index = first if not uses_actions else _doc_index(rule_file, rule, offset)
            rule_id = str(rule.id) if rule.id is not None else None
            if rule.errors:
                msg = "; ".join(_message(e) for e in rule.errors)
                loc = rule_file.locate(index, *error_needles(msg), "detection:")
                yield rule, loc, RuleError(msg, loc, rule_id, phase="parse")
            else:
                yield rule, rule_file.locate(index, "title:"), None


def _doc_index(rule_file: RuleFile, rule: AnyRule | SigmaFilter, fallback: int) -> int:
    for i, doc in enumerate(rule_file.docs):
        if rule.id is not None and str(doc.get("id")) == str(rule.id):
            return i
    return min(fallback, len(rule_file.docs) - 1)


def _message(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else ""
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, SigmaError) else str(text)


__all__ = [
    "AnyRule",
    "RuleFile",
    "discover",
    "ensure_modifier_aliases",
    "error_needles",
    "parse_rule_text",
    "read_rule_file",
    "sigma_rules",
]
