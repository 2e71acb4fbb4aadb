"""Turn a simplified rule tree into one Python function ``predicate(ev) -> bool``.

The generated source is a single short-circuit boolean expression; constants (sets,
tuples, compiled regexes, networks) are bound by name rather than written as literals,
so no value from a rule is ever spliced into code. Field names are written with
``repr``, which is safe for any string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rempart.detection import matchers
from rempart.detection.event import JOIN, EventView
from rempart.detection.ir import And, Const, Node, Not, Or, Test

Predicate = Callable[[EventView], bool]

GRAM_LIST_MIN = 8
"""From this many substrings on one field, a trigram table beats trying each."""

_HELPERS: dict[str, Any] = {
    "eq_any": matchers.eq_any,
    "prefix_any": matchers.prefix_any,
    "suffix_any": matchers.suffix_any,
    "contains_any": matchers.contains_any,
    "contains_text": matchers.contains_text,
    "chars_any": matchers.chars_any,
    "chars_nonascii": matchers.chars_nonascii,
    "contains_nonascii": matchers.contains_nonascii,
    "contains_grams": matchers.contains_grams,
    "seq_any": matchers.seq_any,
    "glob_any": matchers.glob_any,
    "nonempty": matchers.nonempty,
    "re_any": matchers.re_any,
    "cmp_any": matchers.cmp_any,
    "parts_any": matchers.parts_any,
    "parts_in": matchers.parts_in,
    "cidr_any": matchers.cidr_any,
    "fieldref_any": matchers.fieldref_any,
}

_STRING_HELPER = {
    "eq": "eq_any",
    "prefix": "prefix_any",
    "suffix": "suffix_any",
    "contains": "contains_any",
    "seq": "seq_any",
    "glob": "glob_any",
    "cidr": "cidr_any",
    "re": "re_any",
}


class _Emitter:
    def __init__(self) -> None:
        self.consts: dict[str, Any] = {}
        self.reads: set[str] = set()  # per-event caches the body reads directly

    def const(self, value: Any) -> str:
        name = f"C{len(self.consts)}"
        self.consts[name] = value
        return name

    def source(self, test: Test) -> str:
        """Expression giving the text values the test reads."""
        folded = not test.cased and test.kind not in ("re", "cidr")
        if test.field is None:
            return "ev.all_fold()" if folded else "ev.all_text()"
        # A value another rule (or the index) already read this event is taken from
        # the event's cache by one C call; otherwise the method computes it.
        method = "fold" if folded else "text"
        cache = "F" if folded else "T"
        self.reads.add(cache)
        return f"({cache}.get({test.field!r}) or ev.{method}({test.field!r}))"

    def contains(self, src: str, needles: tuple[str, ...]) -> str:
        nonascii = all(not n.isascii() for n in needles)
        helper = "contains_nonascii" if nonascii else "contains_any"
        return f"{helper}({src}, {self.const(needles)})"

    def emit(self, node: Node) -> str:
        if isinstance(node, Const):
            return "True" if node.value else "False"
        if isinstance(node, Not):
            return f"(not {self.emit(node.item)})"
        if isinstance(node, Or) and _one_time_part(node.items):
            # ``hour < 7 or hour >= 20``: the time read and its part taken once.
            first = node.items[0]
            assert isinstance(first, Test)  # noqa: S101 - checked by _one_time_part
            tests = tuple(
                (matchers.COMPARATORS[t.arg[1]], t.arg[2])
                for t in node.items
                if isinstance(t, Test)
            )
            return f"parts_in(ev.timeparts({first.field!r}, {first.arg[0]!r}), {self.const(tests)})"
        if isinstance(node, And | Or):
            joiner = " and " if isinstance(node, And) else " or "
            return "(" + joiner.join(self.emit(item) for item in node.items) + ")"
        return self.test(node)

    def test(self, t: Test) -> str:
        f = repr(t.field)
        if (
            t.kind == "contains"
            and t.field is None
            and not t.cased
            and not any(JOIN in n for n in t.arg)
        ):
            # Keywords: each needle searched once in the event's joined folded text.
            return f"contains_text(ev.all_fold_joined(), {self.const(t.arg)})"
        if t.kind == "contains" and any(len(n) == 1 for n in t.arg):
            # One-character needles become one set test; the others stay substrings.
            # Needles that all hold a non-ASCII character (emoji...) skip ASCII values,
            # which cannot contain them (``str.isascii`` costs nothing).
            chars = frozenset(n for n in t.arg if len(n) == 1)
            src = self.source(t)
            helper = "chars_nonascii" if all(not c.isascii() for c in chars) else "chars_any"
            expr = f"{helper}({src}, {self.const(chars)})"
            rest = tuple(n for n in t.arg if len(n) != 1)
            if rest:
                expr = f"({expr} or {self.contains(src, rest)})"
            return expr
        if (
            t.kind == "contains"
            and t.field is not None
            and not t.cased
            and len(t.arg) >= GRAM_LIST_MIN
            and all(len(n) >= 3 for n in t.arg)
        ):
            # Many substrings: try only those whose key trigram the value has.
            table = self.const(matchers.gram_table(t.arg))
            return f"contains_grams({self.source(t)}, ev.grams({f}), {table})"
        if t.kind == "contains":
            return self.contains(self.source(t), t.arg)
        if t.kind == "eq":
            # Set membership in C, no helper call: ``x in values`` for one wanted value.
            if len(t.arg) == 1:
                return f"({self.const(next(iter(t.arg)))} in {self.source(t)})"
            return f"(not {self.const(t.arg)}.isdisjoint({self.source(t)}))"
        if t.kind in _STRING_HELPER:
            return f"{_STRING_HELPER[t.kind]}({self.source(t)}, {self.const(t.arg)})"
        if t.kind == "any":
            return f"nonempty({self.source(t)})"
        if t.kind == "null":
            return f"(not ev.present({f}))"
        if t.kind == "exists":
            return f"ev.present({f})" if t.arg else f"(not ev.present({f}))"
        if t.kind == "cmp":
            op, number = t.arg
            return f"cmp_any(ev.scalars({f}), {self.const(matchers.COMPARATORS[op])}, {number!r})"
        if t.kind == "timepart":
            part, op, number = t.arg
            return (
                f"parts_any(ev.timeparts({f}, {part!r}), "
                f"{self.const(matchers.COMPARATORS[op])}, {number!r})"
            )
        if t.kind == "fieldref":
            other, mode = t.arg
            return f"fieldref_any({self.source(t)}, ev.fold({other!r}), {mode!r})"
        raise ValueError(f"unknown test kind {t.kind!r}")  # pragma: no cover


def _one_time_part(items: tuple[Node, ...]) -> bool:
    """Whether every item tests the same time part of the same field."""
    kinds = {
        (t.field, t.arg[0]) if isinstance(t, Test) and t.kind == "timepart" else None for t in items
    }
    return len(kinds) == 1 and None not in kinds


def generate(node: Node, name: str = "predicate") -> tuple[str, Predicate]:
    """Python source of the predicate and the function itself."""
    emitter = _Emitter()
    body = emitter.emit(node)
    setup = "".join(
        f"    {cache} = ev.{attr}\n"
        for cache, attr in (("F", "_fold"), ("T", "_text"))
        if cache in emitter.reads
    )
    src = f"def {name}(ev):\n{setup}    return {body}\n"
    namespace: dict[str, Any] = dict(_HELPERS)
    namespace.update(emitter.consts)
    code = compile(src, f"<sigma {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - source built from our own templates, values bound by name
    fn: Predicate = namespace[name]
    return src, fn


__all__ = ["Predicate", "generate"]
