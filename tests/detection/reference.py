"""A slow, literal reference interpreter of Sigma detections, for property tests.

It walks pySigma's condition tree directly and implements each value type in the most
obvious way (wildcards become a ``re`` pattern, values are found by walking the event),
sharing no code with the compiler, index or event view it checks.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
    TimestampPart,
)

_MISSING = object()


def _render(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


def _scalars(value: Any) -> list[Any]:
    if value is None or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [x for item in value for x in _scalars(item)]
    return [value]


def _resolve(obj: Any, parts: list[str]) -> list[Any]:
    """Every value found at the dotted path, trying nested and dotted keys."""
    if not parts:
        return [obj]
    if isinstance(obj, list):
        return [v for item in obj for v in _resolve(item, parts)]
    if not isinstance(obj, dict):
        return []
    out: list[Any] = []
    for n in range(1, len(parts) + 1):
        key = ".".join(parts[:n])
        if key in obj:
            out.extend(_resolve(obj[key], parts[n:]))
    return out


def field_values(event: dict[str, Any], field: str) -> tuple[bool, list[Any]]:
    """(present with a non-null value or an object, scalar values)."""
    found = _resolve(event, field.split("."))
    scalars = [s for f in found for s in _scalars(f)]
    present = bool(scalars) or any(isinstance(f, dict) for f in found)
    if not present:
        present = any(isinstance(f, list) and any(isinstance(x, dict) for x in f) for f in found)
    return present, scalars


def _all_scalars(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _all_scalars(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _all_scalars(v)]
    return [] if obj is None else [obj]


def _wildcard_regex(value: SigmaString, keyword: bool) -> tuple[re.Pattern[str], bool]:
    cased = isinstance(value, SigmaCasedString)
    out = []
    for part in value.s:
        if part is SpecialChars.WILDCARD_MULTI:
            out.append(".*")
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append(".")
        elif isinstance(part, str):
            out.append(re.escape(part if cased else part.casefold()))
        else:
            raise NotImplementedError(f"unresolved placeholder {part}")
    pattern = "".join(out)
    if keyword:
        pattern = ".*" + pattern + ".*"
    return re.compile(pattern, re.DOTALL), cased


def _time(v: Any) -> datetime | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return datetime.fromtimestamp(v / 1000 if abs(v) > 1e11 else v, UTC)
    try:
        d = datetime.fromisoformat(str(v).strip())
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _part(d: datetime, part: TimestampPart) -> int:
    d = d.astimezone(UTC)
    return {
        TimestampPart.MINUTE: d.minute,
        TimestampPart.HOUR: d.hour,
        TimestampPart.DAY: d.day,
        TimestampPart.WEEK: d.isocalendar().week,
        TimestampPart.MONTH: d.month,
        TimestampPart.YEAR: d.year,
    }[part]


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        n = float(v)
    except (TypeError, ValueError):
        return None
    return None if n != n else n


_CMP = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _match_value(event: dict[str, Any], field: str | None, value: Any) -> bool:
    if isinstance(value, SigmaExpansion):
        return any(_match_value(event, field, v) for v in value.values)
    if field is None:
        texts = [_render(s) for s in _all_scalars(event)]
        if isinstance(value, SigmaRegularExpression):
            return any(_regex(value).search(t) for t in texts)
        if isinstance(value, SigmaNumber):
            return any(_render(value.number) in t.casefold() for t in texts)
        rx, cased = _wildcard_regex(value, keyword=True)
        return any(rx.fullmatch(t if cased else t.casefold()) for t in texts)
    present, scalars = field_values(event, field)
    texts = [_render(s) for s in scalars]
    if isinstance(value, SigmaNull):
        return not present
    if isinstance(value, SigmaExists):
        return present == value.exists
    if isinstance(value, SigmaString):
        rx, cased = _wildcard_regex(value, keyword=False)
        return any(rx.fullmatch(t if cased else t.casefold()) for t in texts)
    if isinstance(value, SigmaRegularExpression):
        return any(_regex(value).search(t) for t in texts)
    if isinstance(value, SigmaBool):
        return ("true" if value.boolean else "false") in [t.casefold() for t in texts]
    if isinstance(value, SigmaCompareExpression):
        target = value.number
        if isinstance(target, SigmaTimestampPart):
            return any(
                (d := _time(s)) is not None
                and _CMP[value.op](_part(d, target.timestamp_part), target.number)
                for s in scalars
            )
        return any(
            (n := _number(s)) is not None and _CMP[value.op](n, target.number) for s in scalars
        )
    if isinstance(value, SigmaTimestampPart):
        return any(
            (d := _time(s)) is not None and _part(d, value.timestamp_part) == value.number
            for s in scalars
        )
    if isinstance(value, SigmaNumber):
        return _render(value.number) in [t.casefold() for t in texts]
    if isinstance(value, SigmaCIDRExpression):
        net = ipaddress.ip_network(value.cidr, strict=False)
        for t in texts:
            try:
                if ipaddress.ip_address(t.strip()) in net:
                    return True
            except (ValueError, TypeError):
                continue
        return False
    if isinstance(value, SigmaFieldReference):
        _, others = field_values(event, value.field)
        mine = [t.casefold() for t in texts]
        theirs = [_render(o).casefold() for o in others]
        for a in mine:
            for b in theirs:
                if value.starts_with and value.ends_with:
                    ok = b in a
                elif value.starts_with:
                    ok = a.startswith(b)
                elif value.ends_with:
                    ok = a.endswith(b)
                else:
                    ok = a == b
                if ok:
                    return True
        return False
    raise NotImplementedError(type(value).__name__)


def _regex(value: SigmaRegularExpression) -> re.Pattern[str]:
    flags = 0
    for f in value.flags:
        flags |= {
            SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
            SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
            SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
        }[f]
    return re.compile(str(value.regexp), flags)


def _eval(cond: Any, event: dict[str, Any]) -> bool:
    if cond is None:
        return False
    if isinstance(cond, ConditionAND):
        return all(_eval(a, event) for a in cond.args)
    if isinstance(cond, ConditionOR):
        return any(_eval(a, event) for a in cond.args)
    if isinstance(cond, ConditionNOT):
        return not _eval(cond.args[0], event)
    if isinstance(cond, ConditionFieldEqualsValueExpression):
        return _match_value(event, cond.field, cond.value)
    if isinstance(cond, ConditionValueExpression):
        return _match_value(event, None, cond.value)
    raise NotImplementedError(type(cond).__name__)


def reference_match(rule: SigmaRule, event: dict[str, Any]) -> bool:
    """Whether ``rule`` (already processed by its pipeline) matches ``event``."""
    return any(_eval(c.parsed, event) for c in rule.detection.parsed_condition)
