"""Compile a pySigma rule into a Python predicate over :class:`EventView`.

pySigma parses the rule, applies modifiers (base64, windash, utf16...) and expands the
condition (``1 of sel*``, ``all of them``, ``_``-prefixed identifiers...) into a tree
of field/value leaves; this module maps each leaf to a primitive test:

- strings compare case-folded (Unicode ``casefold``) unless ``cased``; ``*`` and ``?``
  are wildcards, backslash-escaped ones are literal. A pattern with only ``*`` becomes an
  equality, prefix, suffix, substring or ordered-substring test; only ``?`` needs a regex.
- ``re`` searches (unanchored) with flags i/m/s on the bounded ``regex`` engine; a regex
  that is a plain literal (optionally anchored) is turned into the equivalent string test.
- numbers match their textual form (``EventID: 4688`` matches 4688 and "4688");
  lt/lte/gt/gte compare numerically; ``null`` means absent or null; ``exists`` checks
  presence; ``cidr`` parses the value as an IP address; ``fieldref`` compares two
  fields; time modifiers (minute, hour, day, week, month, year) read a timestamp.
- keywords (no field) search every scalar of the event for the value as a substring.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import regex
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaQueryExpression,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
    TimestampPart,
)

from rempart.detection.codegen import Predicate, generate
from rempart.detection.errors import Location, RuleError
from rempart.detection.ir import And, Const, Node, Not, Or, Test, simplify, walk_tests
from rempart.detection.matchers import BoundedRegex

MAX_CONDITION_DEPTH = 80
"""Deepest boolean nesting a rule may have once compiled (Python's parser limit is ~200)."""

_OPS = {
    CompareOperators.LT: "lt",
    CompareOperators.LTE: "lte",
    CompareOperators.GT: "gt",
    CompareOperators.GTE: "gte",
}
_PARTS = {
    TimestampPart.MINUTE: "minute",
    TimestampPart.HOUR: "hour",
    TimestampPart.DAY: "day",
    TimestampPart.WEEK: "week",
    TimestampPart.MONTH: "month",
    TimestampPart.YEAR: "year",
}
_REGEX_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: regex.IGNORECASE,
    SigmaRegularExpressionFlag.MULTILINE: regex.MULTILINE,
    SigmaRegularExpressionFlag.DOTALL: regex.DOTALL,
}
# Regex escapes of punctuation stand for the character itself.
_LITERAL_RE = re.compile(r"(?:[^\\.^$*+?{}\[\]|()]|\\[^A-Za-z0-9])*")


@dataclass(eq=False)
class CompiledRule:
    """A rule ready to run: metadata, its tree, and the generated predicate."""

    id: str
    title: str
    name: str | None
    level: str | None
    tags: tuple[str, ...]
    logsource: tuple[str | None, str | None, str | None]
    location: Location
    tree: Node
    source: str
    predicate: Predicate
    fields: frozenset[str] = field(default_factory=frozenset)


class _Unsupported(Exception):
    pass


def _string_test(value: SigmaString, fld: str | None, *, keyword: bool = False) -> Node:
    cased = isinstance(value, SigmaCasedString)
    parts: list[str | SpecialChars] = []
    for part in value.s:
        if isinstance(part, Placeholder):
            raise _Unsupported(
                f"placeholder %{part.name}% has no value (the expand modifier needs "
                "values from the pipeline)"
            )
        if isinstance(part, str):
            text = part if cased else part.casefold()
            if parts and isinstance(parts[-1], str):
                parts[-1] += text
            else:
                parts.append(text)
        else:
            parts.append(part)
    if keyword:
        if not parts or parts[0] is not SpecialChars.WILDCARD_MULTI:
            parts.insert(0, SpecialChars.WILDCARD_MULTI)
        if parts[-1] is not SpecialChars.WILDCARD_MULTI:
            parts.append(SpecialChars.WILDCARD_MULTI)
    return pattern_test(parts, fld, cased)


def pattern_test(parts: list[str | SpecialChars], fld: str | None, cased: bool) -> Node:
    """The cheapest exact test for a wildcard pattern (literal parts already folded)."""
    # Consecutive '*' are one '*'.
    norm: list[str | SpecialChars] = []
    for p in parts:
        if p is SpecialChars.WILDCARD_MULTI and norm and norm[-1] is SpecialChars.WILDCARD_MULTI:
            continue
        norm.append(p)
    if not norm:
        return Test("eq", fld, frozenset({""}), cased)
    if SpecialChars.WILDCARD_SINGLE in norm:
        pattern = "".join(
            ".*"
            if p is SpecialChars.WILDCARD_MULTI
            else "."
            if p is SpecialChars.WILDCARD_SINGLE
            else regex.escape(p)
            for p in norm
        )
        return Test("glob", fld, (BoundedRegex(pattern, regex.DOTALL),), cased)
    literals = [p for p in norm if isinstance(p, str)]
    star_first = norm[0] is SpecialChars.WILDCARD_MULTI
    star_last = norm[-1] is SpecialChars.WILDCARD_MULTI
    if not literals:
        return Test("any", fld, None, cased)
    if len(literals) == 1:
        lit = literals[0]
        if star_first and star_last:
            return Test("contains", fld, (lit,), cased)
        if star_first:
            return Test("suffix", fld, (lit,), cased)
        if star_last:
            return Test("prefix", fld, (lit,), cased)
        return Test("eq", fld, frozenset({lit}), cased)
    head = "" if star_first else literals[0]
    tail = "" if star_last else literals[-1]
    mids = literals[(0 if star_first else 1) : len(literals) - (0 if star_last else 1)]
    return Test("seq", fld, ((head, tuple(mids), tail),), cased)


def _regex_test(value: SigmaRegularExpression, fld: str | None) -> Node:
    for part in value.regexp.s:
        if isinstance(part, Placeholder):
            raise _Unsupported(f"placeholder %{part.name}% has no value in regular expression")
    pattern = str(value.regexp)
    flags = 0
    for flag in value.flags:
        flags |= _REGEX_FLAGS[flag]
    literal = _literal_regex(pattern, value.flags)
    if literal is not None:
        return literal(fld)
    try:
        rx = BoundedRegex(pattern, flags)
    except regex.error as exc:
        raise _Unsupported(f"regular expression {pattern!r} is invalid: {exc}") from exc
    return Test("re", fld, rx)


def _literal_regex(
    pattern: str, flags: set[SigmaRegularExpressionFlag]
) -> Callable[[str | None], Node] | None:
    """A plain string test equivalent to the regex, when the regex is a plain literal."""
    if SigmaRegularExpressionFlag.MULTILINE in flags:
        return None
    anchored_start = pattern.startswith("^")
    body = pattern[1:] if anchored_start else pattern
    anchored_end = body.endswith("$") and not body.endswith("\\$")
    if anchored_end:
        body = body[:-1]
    if not body or not _LITERAL_RE.fullmatch(body):
        return None
    lit = re.sub(r"\\(.)", r"\1", body)
    ignore_case = SigmaRegularExpressionFlag.IGNORECASE in flags
    if ignore_case and lit.casefold() != lit.lower():
        return None  # casefold and regex IGNORECASE disagree on this text: keep the regex
    cased = not ignore_case
    text = lit if cased else lit.casefold()

    def build(fld: str | None) -> Node:
        if anchored_start and anchored_end:
            # '$' also matches before a final newline.
            return Test("eq", fld, frozenset({text, text + "\n"}), cased)
        if anchored_start:
            return Test("prefix", fld, (text,), cased)
        if anchored_end:
            return Test("suffix", fld, (text, text + "\n"), cased)
        return Test("contains", fld, (text,), cased)

    return build


def _number_text(number: int | float) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _value_test(fld: str | None, value: Any) -> Node:
    if isinstance(value, SigmaExpansion):
        return Or(tuple(_value_test(fld, v) for v in value.values))
    if isinstance(value, SigmaString):
        return _string_test(value, fld, keyword=fld is None)
    if isinstance(value, SigmaRegularExpression):
        return _regex_test(value, fld)
    if fld is None:
        if isinstance(value, SigmaNumber):
            return Test("contains", None, (_number_text(value.number),))
        raise _Unsupported(f"{type(value).__name__} values need a field")
    if isinstance(value, SigmaNull):
        return Test("null", fld)
    if isinstance(value, SigmaExists):
        return Test("exists", fld, bool(value.exists))
    if isinstance(value, SigmaBool):
        return Test("eq", fld, frozenset({"true" if value.boolean else "false"}))
    if isinstance(value, SigmaCompareExpression):
        number = value.number
        if isinstance(number, SigmaTimestampPart):
            return Test(
                "timepart", fld, (_PARTS[number.timestamp_part], _OPS[value.op], number.number)
            )
        if value.op is CompareOperators.NEQ:
            return Not(Test("eq", fld, frozenset({_number_text(number.number)})))
        return Test("cmp", fld, (_OPS[value.op], number.number))
    if isinstance(value, SigmaTimestampPart):
        return Test("timepart", fld, (_PARTS[value.timestamp_part], "eq", value.number))
    if isinstance(value, SigmaNumber):
        return Test("eq", fld, frozenset({_number_text(value.number)}))
    if isinstance(value, SigmaCIDRExpression):
        return Test("cidr", fld, (ipaddress.ip_network(value.network, strict=False),))
    if isinstance(value, SigmaFieldReference):
        mode = {
            (False, False): "eq",
            (True, False): "prefix",
            (False, True): "suffix",
            (True, True): "contains",
        }[(value.starts_with, value.ends_with)]
        return Test("fieldref", fld, (value.field, mode))
    if isinstance(value, SigmaQueryExpression):
        raise _Unsupported("query expressions (backend-specific placeholders) cannot be evaluated")
    raise _Unsupported(f"value type {type(value).__name__} is not supported")


def condition_tree(cond: Any, depth: int = 0) -> Node:
    """Map pySigma's post-processed condition tree to rule nodes."""
    if depth > MAX_CONDITION_DEPTH:
        raise _Unsupported(f"condition nested deeper than {MAX_CONDITION_DEPTH} levels")
    if cond is None:  # a detection emptied by the pipeline
        return Const(False)
    if isinstance(cond, ConditionAND):
        return And(tuple(condition_tree(a, depth + 1) for a in cond.args))
    if isinstance(cond, ConditionOR):
        return Or(tuple(condition_tree(a, depth + 1) for a in cond.args))
    if isinstance(cond, ConditionNOT):
        return Not(condition_tree(cond.args[0], depth + 1))
    if isinstance(cond, ConditionFieldEqualsValueExpression):
        return _value_test(cond.field, cond.value)
    if isinstance(cond, ConditionValueExpression):
        return _value_test(None, cond.value)
    raise _Unsupported(f"condition element {type(cond).__name__} is not supported")


def _depth(node: Node) -> int:
    if isinstance(node, And | Or):
        return 1 + max((_depth(n) for n in node.items), default=0)
    if isinstance(node, Not):
        return 1 + _depth(node.item)
    return 0


def rule_tree(rule: SigmaRule) -> Node:
    """The simplified tree of a rule: the ``or`` of its conditions."""
    conditions = [condition_tree(c.parsed) for c in rule.detection.parsed_condition]
    if not conditions:
        raise _Unsupported("rule has no condition")
    return simplify(Or(tuple(conditions)))


def rule_fields(node: Node) -> frozenset[str]:
    """Every field the rule reads (fieldref targets included)."""
    out: set[str] = set()
    for t in walk_tests(node):
        if t.field is not None:
            out.add(t.field)
        if t.kind == "fieldref":
            out.add(t.arg[0])
    return frozenset(out)


def compile_rule(rule: SigmaRule, location: Location | None = None) -> CompiledRule:
    """Compile one (already pipeline-processed) pySigma rule; raises :class:`RuleError`."""
    loc = location or Location()
    rule_id = str(rule.id) if rule.id is not None else None
    try:
        tree = rule_tree(rule)
        if _depth(tree) > MAX_CONDITION_DEPTH:
            raise _Unsupported(f"condition nested deeper than {MAX_CONDITION_DEPTH} levels")
        name = "rule_" + re.sub(r"\W", "_", rule_id or "anonymous")
        src, predicate = generate(tree, name)
    except _Unsupported as exc:
        raise RuleError(str(exc), loc, rule_id) from exc
    except SigmaError as exc:
        raise RuleError(_sigma_reason(exc), loc, rule_id) from exc
    except (RecursionError, SyntaxError, MemoryError) as exc:
        raise RuleError(f"rule too complex to compile: {type(exc).__name__}", loc, rule_id) from exc
    return CompiledRule(
        id=rule_id or f"{loc}",
        title=rule.title,
        name=rule.name,
        level=str(rule.level) if rule.level is not None else None,
        tags=tuple(str(t) for t in rule.tags),
        logsource=(rule.logsource.product, rule.logsource.category, rule.logsource.service),
        location=loc,
        tree=tree,
        source=src,
        predicate=predicate,
        fields=rule_fields(tree),
    )


def _sigma_reason(exc: SigmaError) -> str:
    """pySigma's message without its own absolute-path suffix (we give file:line)."""
    text = exc.args[0] if exc.args else type(exc).__name__
    return str(text)


__all__ = ["CompiledRule", "compile_rule", "condition_tree", "pattern_test", "rule_tree"]
