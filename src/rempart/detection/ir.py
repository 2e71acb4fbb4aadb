"""The intermediate form of a compiled rule: boolean nodes over primitive field tests.

The compiler turns pySigma's condition tree into these nodes; :func:`simplify` flattens
them and merges sibling string tests on one field into a single set or tuple test (one
field read, one ``str.endswith(tuple)`` call), then :mod:`codegen` turns the result into
Python source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

TestKind = Literal[
    "eq",  # arg: frozenset of strings
    "prefix",  # arg: tuple of strings
    "suffix",  # arg: tuple of strings
    "contains",  # arg: tuple of strings
    "seq",  # arg: tuple of (head, mids, tail) wildcard sequences
    "glob",  # arg: tuple of BoundedRegex (patterns with ``?``)
    "any",  # field has a scalar value (``field: '*'``)
    "null",  # field absent or null
    "exists",  # arg: bool
    "re",  # arg: BoundedRegex
    "cmp",  # arg: (op name, number)
    "timepart",  # arg: (part, op name, number)
    "cidr",  # arg: tuple of networks
    "fieldref",  # arg: (other field, mode)
]

MERGEABLE: frozenset[str] = frozenset({"eq", "prefix", "suffix", "contains", "seq", "glob", "cidr"})


@dataclass(frozen=True)
class Test:
    """One primitive test on one field (``field`` None: any value of the event, a keyword)."""

    kind: TestKind
    field: str | None
    arg: Any = None
    cased: bool = False


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Const:
    value: bool


Node: TypeAlias = Test | And | Or | Not | Const


def _merge_args(kind: str, args: Iterable[Any]) -> Any:
    if kind == "eq":
        out: set[Any] = set()
        for a in args:
            out |= a
        return frozenset(out)
    merged: list[Any] = list(dict.fromkeys(item for a in args for item in a))
    if kind in ("prefix", "suffix", "contains"):
        # A shorter needle subsumes longer ones it is part of; test it alone.
        merged.sort(key=len)
        kept: list[str] = []
        seen: set[str] = set()
        for item in merged:
            if kind == "prefix" and any(item[:i] in seen for i in range(1, len(item) + 1)):
                continue
            if kind == "suffix" and any(item[-i:] in seen for i in range(1, len(item) + 1)):
                continue
            # Substrings: quadratic, so only for lists of a reasonable size.
            if kind == "contains" and len(merged) <= 64 and any(k in item for k in kept):
                continue
            kept.append(item)
            seen.add(item)
        return tuple(kept)
    return tuple(merged)


def simplify(node: Node) -> Node:
    """Flatten nested and/or, fold constants, merge same-field string tests under ``or``."""
    if isinstance(node, Test | Const):
        return node
    if isinstance(node, Not):
        inner = simplify(node.item)
        if isinstance(inner, Const):
            return Const(not inner.value)
        if isinstance(inner, Not):
            return inner.item
        return Not(inner)
    is_and = isinstance(node, And)
    flat: list[Node] = []
    for child in node.items:
        s = simplify(child)
        if isinstance(s, Const):
            if s.value is (not is_and):  # True in an or, False in an and: decides it all
                return s
            continue
        if isinstance(s, And if is_and else Or):
            flat.extend(s.items)
        else:
            flat.append(s)
    if not is_and:
        flat = _merge_tests(flat)
    if not flat:
        return Const(is_and)
    if len(flat) == 1:
        return flat[0]
    return And(tuple(flat)) if is_and else Or(tuple(flat))


def _merge_tests(items: list[Node]) -> list[Node]:
    groups: dict[tuple[str, str | None, bool], list[Test]] = {}
    out: list[Node] = []
    for item in items:
        if isinstance(item, Test) and item.kind in MERGEABLE:
            key = (item.kind, item.field, item.cased)
            if key not in groups:
                groups[key] = []
                out.append(item)  # placeholder keeps the first position
            groups[key].append(item)
        else:
            out.append(item)
    merged: list[Node] = []
    for item in out:
        if isinstance(item, Test) and item.kind in MERGEABLE:
            group = groups[(item.kind, item.field, item.cased)]
            if group[0] is not item:
                continue
            if len(group) == 1:
                merged.append(item)
            else:
                arg = _merge_args(item.kind, (t.arg for t in group))
                merged.append(Test(item.kind, item.field, arg, item.cased))
        else:
            merged.append(item)
    return merged


def walk_tests(node: Node) -> Iterable[Test]:
    """Every test in the tree, in order."""
    if isinstance(node, Test):
        yield node
    elif isinstance(node, And | Or):
        for child in node.items:
            yield from walk_tests(child)
    elif isinstance(node, Not):
        yield from walk_tests(node.item)


__all__ = ["And", "Const", "Node", "Not", "Or", "Test", "TestKind", "simplify", "walk_tests"]
