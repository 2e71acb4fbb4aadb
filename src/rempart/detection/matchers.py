"""The primitive tests compiled rules call: plain string tests first, bounded regexes last.

Every function takes the values of one field (a tuple, empty when the field is absent)
and answers whether any of them passes. Patterns arrive already case-folded when the
comparison is case-insensitive. Regular expressions run on the third-party ``regex``
engine with a per-call time budget, so that a catastrophically backtracking pattern
raises :class:`RegexTimeout` instead of hanging the engine.
"""

from __future__ import annotations

import ipaddress
import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import regex

from rempart.detection.errors import RegexTimeout

REGEX_TIMEOUT_SECONDS: Final = 0.05
"""Time budget of one regular-expression search over one value."""

Values = tuple[str, ...]

# The helpers below spell out their loops: on this hot path a plain ``for`` is
# measurably faster than ``any(<generator>)``.


def eq_any(vals: Values, wanted: frozenset[str]) -> bool:
    for v in vals:  # noqa: SIM110
        if v in wanted:
            return True
    return False


def prefix_any(vals: Values, prefixes: tuple[str, ...]) -> bool:
    for v in vals:  # noqa: SIM110
        if v.startswith(prefixes):
            return True
    return False


def suffix_any(vals: Values, suffixes: tuple[str, ...]) -> bool:
    for v in vals:  # noqa: SIM110
        if v.endswith(suffixes):
            return True
    return False


def contains_any(vals: Values, needles: tuple[str, ...]) -> bool:
    for v in vals:
        for n in needles:
            if n in v:
                return True
    return False


def contains_text(text: str, needles: tuple[str, ...]) -> bool:
    """Substring test on one (joined) string."""
    for n in needles:  # noqa: SIM110
        if n in text:
            return True
    return False


def chars_any(vals: Values, chars: frozenset[str]) -> bool:
    """Substring test for one-character needles (emoji...): a set test in C."""
    for v in vals:  # noqa: SIM110
        if not chars.isdisjoint(v):
            return True
    return False


def chars_nonascii(vals: Values, chars: frozenset[str]) -> bool:
    """:func:`chars_any` for non-ASCII characters: ASCII values cannot hold them."""
    for v in vals:  # noqa: SIM110
        if not v.isascii() and not chars.isdisjoint(v):
            return True
    return False


def contains_nonascii(vals: Values, needles: tuple[str, ...]) -> bool:
    """:func:`contains_any` for needles that each hold a non-ASCII character."""
    for v in vals:
        if v.isascii():
            continue
        for n in needles:
            if n in v:
                return True
    return False


GramTable = dict[tuple[str, str, str], tuple[str, ...]]


def gram_table(needles: tuple[str, ...]) -> GramTable:
    """Needles (3+ characters) grouped by one of their trigrams, the one fewest other
    needles share (hashes all start ``imphash=``: each is keyed on a trigram of its own)."""
    grams = [set(zip(n, n[1:], n[2:], strict=False)) for n in needles]
    freq: dict[tuple[str, str, str], int] = {}
    for gs in grams:
        for g in gs:
            freq[g] = freq.get(g, 0) + 1
    table: dict[tuple[str, str, str], list[str]] = {}
    for n, gs in zip(needles, grams, strict=True):
        table.setdefault(min(sorted(gs), key=freq.__getitem__), []).append(n)
    return {g: tuple(ns) for g, ns in table.items()}


def contains_grams(
    vals: Values,
    grams: set[tuple[str, str, str]] | frozenset[tuple[str, str, str]],
    table: GramTable,
) -> bool:
    """Substring test for many needles: only those whose key trigram occurs in the
    value are tried (the value's trigrams are computed once per event and field)."""
    for g in grams.intersection(table):
        for n in table[g]:
            for v in vals:
                if n in v:
                    return True
    return False


def _seq_match(v: str, head: str, mids: tuple[str, ...], tail: str) -> bool:
    """``head*mid1*mid2*...*tail`` without ``?``: leftmost finds are exact for ``*``."""
    if not v.startswith(head):
        return False
    pos, end = len(head), len(v) - len(tail)
    if end < pos or not v.endswith(tail):
        return False
    for m in mids:
        i = v.find(m, pos, end)
        if i < 0:
            return False
        pos = i + len(m)
    return True


Seq = tuple[str, tuple[str, ...], str]


def seq_any(vals: Values, seqs: tuple[Seq, ...]) -> bool:
    for v in vals:
        for head, mids, tail in seqs:
            if _seq_match(v, head, mids, tail):
                return True
    return False


def nonempty(vals: Values) -> bool:
    """``field: '*'``: any scalar value, the empty string included."""
    return bool(vals)


_REGEX_BREAK = set(".^$")
_QUANT = set("*?{")


def regex_runs(pattern: str) -> list[str] | None:
    """ASCII literal runs, as written, that every match of ``pattern`` must contain.

    Conservative: any top-level alternation, verbose mode or oddity gives None. Groups
    and classes are skipped (they only end a literal run); a quantifier that allows
    zero occurrences drops the character it applies to.
    """
    if "(?x" in pattern:
        return None
    runs: list[str] = []
    run: list[str] = []
    i, n = 0, len(pattern)

    def cut() -> None:
        if run:
            runs.append("".join(run))
            run.clear()

    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return None
            nxt = pattern[i + 1]
            if nxt in "xuUNpP0123456789":  # escapes with an argument: give up
                return None
            if nxt.isascii() and not nxt.isalnum() and nxt.isprintable():
                run.append(nxt)
            else:
                cut()
            i += 2
            continue
        if c == "|":
            return None
        if c in "([":
            cut()
            close = ")" if c == "(" else "]"
            depth, i = 1, i + 1
            while i < n and depth:
                if pattern[i] == "\\":
                    i += 2
                    continue
                if c == "(" and pattern[i] == "(":
                    depth += 1
                elif pattern[i] == close:
                    depth -= 1
                i += 1
            continue
        if c in _QUANT:
            if run:
                run.pop()
            cut()
            if c == "{":
                end = pattern.find("}", i)
                i = end + 1 if end >= 0 else n
                continue
            i += 1
            continue
        if c == "+":
            cut()
            i += 1
            continue
        if c in _REGEX_BREAK or not c.isascii() or not c.isprintable():
            cut()
            i += 1
            continue
        run.append(c)
        i += 1
    cut()
    return runs


def regex_literal(pattern: str, min_len: int = 3) -> str | None:
    """The longest ASCII literal every match of ``pattern`` must contain, case-folded,
    if it has at least ``min_len`` characters (the index keys on its trigrams)."""
    best = max(regex_runs(pattern) or (), key=len, default="")
    return best.casefold() if len(best) >= min_len else None


_INLINE_IGNORECASE = re.compile(r"\(\?[a-zA-Z]*i")


def regex_required(pattern: str, ignore_case: bool) -> str | None:
    """A text every match of ``pattern`` holds as is, for a cheap ``in`` test before
    the search; under case-insensitive matching only a run without letters qualifies
    (ASCII punctuation and digits have no other case)."""
    runs = regex_runs(pattern)
    if not runs:
        return None
    if ignore_case or _INLINE_IGNORECASE.search(pattern):
        runs = [part for run in runs for part in re.split("[A-Za-z]+", run)]
    best = max(runs, key=len, default="")
    return best or None


class BoundedRegex:
    """A compiled regular expression whose every search has a time budget."""

    __slots__ = ("_rx", "pattern", "required", "timeout")

    def __init__(
        self, pattern: str, flags: int = 0, *, timeout: float = REGEX_TIMEOUT_SECONDS
    ) -> None:
        self.pattern = pattern
        self.timeout = timeout
        self._rx = regex.compile(pattern, flags | regex.VERSION0)
        # A text every match holds: values without it are answered without searching
        # (a search under a time budget costs several microseconds even when it fails).
        self.required = regex_required(pattern, bool(flags & regex.IGNORECASE))

    def search(self, value: str) -> bool:
        if self.required is not None and self.required not in value:
            return False
        try:
            return self._rx.search(value, timeout=self.timeout) is not None
        except TimeoutError as exc:
            raise RegexTimeout(
                f"regular expression {self.pattern[:80]!r} exceeded {self.timeout}s "
                f"on a {len(value)}-character value"
            ) from exc

    def fullmatch(self, value: str) -> bool:
        try:
            return self._rx.fullmatch(value, timeout=self.timeout) is not None
        except TimeoutError as exc:
            raise RegexTimeout(
                f"pattern {self.pattern[:80]!r} exceeded {self.timeout}s "
                f"on a {len(value)}-character value"
            ) from exc

    def __repr__(self) -> str:
        return f"BoundedRegex({self.pattern!r})"


def re_any(vals: Values, rx: BoundedRegex) -> bool:
    for v in vals:  # noqa: SIM110
        if rx.search(v):
            return True
    return False


def glob_any(vals: Values, rxs: tuple[BoundedRegex, ...]) -> bool:
    for v in vals:
        for rx in rxs:
            if rx.fullmatch(v):
                return True
    return False


def to_number(value: Any) -> float | int | None:
    """A number from an int, float or numeric string; None otherwise (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return None
            return number if number == number else None  # NaN compares false with everything
    return None


COMPARATORS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "eq": operator.eq,
}


def cmp_any(vals: tuple[Any, ...], op: Callable[[Any, Any], bool], number: float) -> bool:
    for v in vals:
        n = to_number(v)
        if n is not None and op(n, number):
            return True
    return False


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 text or epoch seconds/milliseconds; naive means UTC."""
    if isinstance(value, str):  # first: the common case
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return None


def time_part(moment: datetime, part: str) -> int:
    """minute, hour, day (of month), week (ISO), month or year of an aware UTC datetime."""
    moment = moment.astimezone(UTC)
    if part == "week":
        return moment.isocalendar().week
    return int(getattr(moment, part))


def parts_any(parts: tuple[int | None, ...], op: Callable[[Any, Any], bool], number: float) -> bool:
    """Any of the time parts (``EventView.timeparts``) compares to ``number``."""
    return any(value is not None and op(value, number) for value in parts)


def parts_in(
    parts: tuple[int | None, ...], tests: tuple[tuple[Callable[[Any, Any], bool], float], ...]
) -> bool:
    """Any of several comparisons (``or``) on any of the time parts."""
    for value in parts:
        if value is not None:
            for op, number in tests:
                if op(value, number):
                    return True
    return False


def parse_utc(value: Any) -> datetime | None:
    """:func:`parse_time`, in UTC."""
    moment = parse_time(value)
    return moment.astimezone(UTC) if moment is not None else None


_TIME_CACHE: dict[tuple[type, Any], datetime | None] = {}
_TIME_TEXT_CACHE: dict[str, datetime | None] = {}


def parse_time_cached(value: Any) -> datetime | None:
    """:func:`parse_time`, in UTC, memoised over the last few thousand distinct values (rules
    often read the same timestamp several times: hour ranges, minute, correlation).
    Keyed by type too: ``True == 1`` in Python, but only 1 is a timestamp."""
    if type(value) is str:  # the common case: one lookup, no key tuple
        try:
            return _TIME_TEXT_CACHE[value]
        except KeyError:
            if len(_TIME_TEXT_CACHE) > 4096:
                _TIME_TEXT_CACHE.clear()
            moment = _TIME_TEXT_CACHE[value] = parse_utc(value)
            return moment
    key = (type(value), value)
    try:
        return _TIME_CACHE[key]
    except KeyError:
        pass
    except TypeError:  # unhashable
        return parse_utc(value)
    if len(_TIME_CACHE) > 4096:
        _TIME_CACHE.clear()
    moment = _TIME_CACHE[key] = parse_utc(value)
    return moment


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def cidr_any(vals: Values, networks: tuple[Network, ...]) -> bool:
    for v in vals:
        try:
            address = ipaddress.ip_address(v.strip())
        except ValueError:
            continue
        for net in networks:
            if address.version == net.version and address in net:
                return True
    return False


def fieldref_any(vals: Values, others: Values, mode: str) -> bool:
    for v in vals:
        for o in others:
            if mode == "eq":
                if v == o:
                    return True
            elif mode == "prefix":
                if v.startswith(o):
                    return True
            elif mode == "suffix":
                if v.endswith(o):
                    return True
            elif o in v:
                return True
    return False


__all__ = [
    "COMPARATORS",
    "REGEX_TIMEOUT_SECONDS",
    "BoundedRegex",
    "chars_any",
    "chars_nonascii",
    "cidr_any",
    "cmp_any",
    "contains_any",
    "contains_grams",
    "contains_nonascii",
    "contains_text",
    "eq_any",
    "fieldref_any",
    "glob_any",
    "gram_table",
    "nonempty",
    "parse_time",
    "parse_time_cached",
    "parse_utc",
    "parts_any",
    "parts_in",
    "prefix_any",
    "re_any",
    "regex_literal",
    "regex_required",
    "regex_runs",
    "seq_any",
    "suffix_any",
    "time_part",
    "to_number",
]
