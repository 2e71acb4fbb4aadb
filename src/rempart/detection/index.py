"""Which rules can possibly match an event: an index over exact-value field tests.

For each rule we look for an *anchor*: a set of field tests at least one of which must
hold for the rule to match (a conjunct of its condition, or the union of anchors of
all branches of an ``or``). Tests on equality, prefix, suffix and substring are
indexed on the case-folded value: equality by value, substrings, prefixes and suffixes
each in one Aho-Corasick automaton per field (``pyahocorasick``, C). Of
all the anchors a rule has, the one whose keys are shared by the fewest other rules is
chosen. An event then
reads only the indexed fields and gathers the candidate rules; the others are not
tried. Rules without an anchor are tried on every event (``always``). The index only
ever narrows by a necessary condition, so it never changes what matches.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick  # type: ignore[import-not-found]  # C wheel from PyPI, no stubs

from rempart.detection.errors import EventError
from rempart.detection.event import (
    EventView,
    StringReader,
    Trie,
    build_trie,
    string_reader,
)
from rempart.detection.ir import And, Node, Not, Or, Test
from rempart.detection.matchers import regex_literal

GRAM = 3  # shortest substring indexed
AFFIX = 16  # prefixes/suffixes are indexed on at most this many characters

Key = tuple[str, str, str]  # (field, kind, text) with kind in eq/prefix/suffix/contains
MEMO_SIZE = 4096
"""Distinct values remembered per indexed field (0: none); the memo starts over when full."""
MEMO_VALUE_CHARS = 512
"""Values longer than this (in total, per field) are not remembered."""
WHOLE_FIELDS_MAX = 8
"""Up to this many indexed fields, an event's candidates are remembered for the values
of all of them at once (one read, one lookup: the contact-center pack reads two)."""

_WEIGHT = {"eq": 1.0, "prefix": 1.2, "suffix": 1.2, "contains": 2.0}

WORD = re.compile("[0-9a-z]+")
"""A word: a maximal run of ASCII letters and digits (in case-folded text)."""
WORD_KEY = 8
"""Characters of a word a substring is keyed on."""
WORDS_MIN = 8
"""Fields with fewer substrings keep them in the automaton only."""
_KEYED_WORD = re.compile(f"[^0-9a-z]([0-9a-z]{{{WORD_KEY},}})")


def word_key(text: str) -> str | None:
    """The first ``WORD_KEY`` characters of the first word of ``text`` that follows a
    separator inside ``text`` and is at least that long, or None. Any value containing
    ``text`` has a separator there too, so one of its words starts with this key."""
    m = _KEYED_WORD.search(text)
    return m.group(1)[:WORD_KEY] if m else None


def _seq_key(fld: str, head: str, mids: tuple[str, ...], tail: str) -> Key | None:
    if head:
        return (fld, "prefix", head)
    if tail:
        return (fld, "suffix", tail)
    best = max(mids, key=len, default="")
    return (fld, "contains", best) if len(best) >= GRAM else None


def test_keys(t: Test) -> list[Key] | None:
    """Index keys of which one must hold for the test to pass, or None."""
    if t.field is None:
        return None
    fld = t.field

    def fold(s: str) -> str:
        return s.casefold() if t.cased else s

    if t.kind == "eq":
        return [(fld, "eq", fold(v)) for v in t.arg]
    if t.kind in ("prefix", "suffix"):
        if any(not p for p in t.arg):
            return None
        return [(fld, t.kind, fold(p)) for p in t.arg]
    if t.kind == "contains":
        if any(len(n) < GRAM for n in t.arg):
            return None
        return [(fld, "contains", fold(n)) for n in t.arg]
    if t.kind == "re":
        literal = regex_literal(t.arg.pattern)
        return [(fld, "contains", literal)] if literal else None
    if t.kind == "seq":
        keys = []
        for head, mids, tail in t.arg:
            k = _seq_key(fld, fold(head), tuple(fold(m) for m in mids), fold(tail))
            if k is None:
                return None
            keys.append(k)
        return keys
    return None


def _cost(key: Key, freq: Counter[Key]) -> float:
    """Expected work a key brings: rules sharing it, times, for substrings and affixes,
    how common the text is likely to be in events (``.exe`` is everywhere). A whole
    value is as selective whatever its length (``EventID: 1``)."""
    common = 1.0 if key[1] == "eq" else 1 + 8 / max(len(key[2]), 1)
    return _WEIGHT[key[1]] * freq[key] * common


def positive_keys(node: Node) -> set[Key]:
    """Every key that appears outside a ``not``, for frequency counting."""
    out: set[Key] = set()
    if isinstance(node, Test):
        out.update(test_keys(node) or ())
    elif isinstance(node, And | Or):
        for item in node.items:
            out |= positive_keys(item)
    return out


def best_anchor(node: Node, freq: Counter[Key]) -> tuple[float, frozenset[Key]] | None:
    """The cheapest necessary key set of ``node`` (cost: rules sharing its keys)."""
    if isinstance(node, Test):
        keys = test_keys(node)
        if not keys:
            return None
        return sum(_cost(k, freq) for k in keys), frozenset(keys)
    if isinstance(node, And):
        options = [a for a in (best_anchor(i, freq) for i in node.items) if a is not None]
        return min(options, key=lambda a: a[0]) if options else None
    if isinstance(node, Or):
        cost, union = 0.0, set[Key]()
        for item in node.items:
            a = best_anchor(item, freq)
            if a is None:
                return None
            cost += a[0]
            union |= a[1]
        return cost, frozenset(union)
    if isinstance(node, Not):
        return None
    return None


@dataclass
class _FieldIndex:
    eq: dict[str, list[int]] = field(default_factory=dict)
    prefix: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    suffix: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    needles: dict[str, list[int]] = field(default_factory=dict)  # substring -> rules
    words: dict[str, list[tuple[int, str]]] = field(
        default_factory=dict
    )  # word key -> (rule, text)
    automaton: Any = None  # the needles in one Aho-Corasick automaton: text -> rules
    prefix_automaton: Any = None  # prefixes: text -> (length, rules)
    suffix_automaton: Any = None  # suffixes reversed: text -> (length, rules)


def _affix_automaton(tables: dict[int, dict[str, list[int]]], *, reverse: bool) -> Any:
    """The keys of per-length affix tables in one automaton (reversed for suffixes),
    each giving its length and rules."""
    automaton = ahocorasick.Automaton()
    for n, table in tables.items():
        for text, rules in table.items():
            automaton.add_word(text[::-1] if reverse else text, (n, tuple(rules)))
    automaton.make_automaton()
    return automaton


class CandidateIndex:
    """Maps an event to the rules worth evaluating on it."""

    def __init__(self, trees: Sequence[Node], *, memo_size: int = MEMO_SIZE) -> None:
        freq: Counter[Key] = Counter()
        for tree in trees:
            freq.update(positive_keys(tree))
        self.anchors: list[frozenset[Key] | None] = []
        always: list[int] = []
        fields: dict[str, _FieldIndex] = {}
        contains: list[tuple[int, Key]] = []
        for i, tree in enumerate(trees):
            anchor = best_anchor(tree, freq)
            keys = anchor[1] if anchor else None
            self.anchors.append(keys)
            if keys is None:
                always.append(i)
                continue
            for key in keys:
                fld, kind, text = key
                fi = fields.setdefault(fld, _FieldIndex())
                if kind == "eq":
                    fi.eq.setdefault(text, []).append(i)
                elif kind == "prefix":
                    n = min(len(text), AFFIX)
                    fi.prefix.setdefault(n, {}).setdefault(text[:n], []).append(i)
                elif kind == "suffix":
                    n = min(len(text), AFFIX)
                    fi.suffix.setdefault(n, {}).setdefault(text[-n:], []).append(i)
                else:
                    contains.append((i, key))
        # A field all of whose substrings hold a long word after a separator (hashes:
        # ``imphash=f26d0b11...``) is indexed on those words' first characters: a value
        # holding the substring holds a word starting with them (one lookup per word of
        # the value, where trigrams of a hash value find many others' trigrams).
        by_field: dict[str, list[tuple[int, str]]] = {}
        for i, (fld, _, text) in contains:
            by_field.setdefault(fld, []).append((i, text))
        words = {
            fld: [(i, text, w) for i, text in items if (w := word_key(text)) is not None]
            for fld, items in by_field.items()
        }
        for fld, keyed in words.items():
            if len(keyed) == len(by_field[fld]) and len(keyed) >= WORDS_MIN:
                for i, text, w in keyed:
                    fields[fld].words.setdefault(w, []).append((i, text))
        contains = [c for c in contains if not fields[c[1][0]].words]
        for i, (fld, _, text) in contains:
            fields[fld].needles.setdefault(text, []).append(i)
        # Each field's substrings in one Aho-Corasick automaton (one pass over a value
        # finds every substring it holds, in C); prefixes (suffixes) of all lengths in
        # another, run over the value's first (last, reversed) AFFIX characters, where
        # each length cost a slice, its hash and a lookup.
        for fi in fields.values():
            if fi.needles:
                fi.automaton = ahocorasick.Automaton()
                for text, rules in fi.needles.items():
                    fi.automaton.add_word(text, tuple(rules))
                fi.automaton.make_automaton()
            if fi.prefix:
                fi.prefix_automaton = _affix_automaton(fi.prefix, reverse=False)
            if fi.suffix:
                fi.suffix_automaton = _affix_automaton(fi.suffix, reverse=True)
        # Fields indexed on whole values only (EventID, Channel...): one dictionary read
        # per value gives their candidates, already sorted (rules are added in order).
        self._exact = {
            fld: {text: tuple(rules) for text, rules in fi.eq.items()}
            for fld, fi in fields.items()
            if not (fi.prefix or fi.suffix or fi.needles or fi.words)
        }
        self.always = tuple(always)
        self.fields = fields
        self._field_names = frozenset(fields)
        self._trie: Trie = build_trie(fields)
        self.size = len(trees)
        self.memo_size = memo_size
        self._memos: dict[str, dict[tuple[str, ...], tuple[int, ...]]] = {f: {} for f in fields}
        self._unions: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[int, ...]] = {}
        # Few indexed fields: candidates per combination of their (string) values, with
        # the folded values the rules then read (the event's fold cache is filled).
        self._names = tuple(fields)
        self._reader: StringReader | None = None
        if memo_size and 0 < len(fields) <= WHOLE_FIELDS_MAX:
            self._reader = string_reader(self._names)
        # Per combination, a list: its candidates, the folded values, and a place for
        # what the engine derives from the combination alone (its plan; None until then).
        self._whole: dict[tuple[str | None, ...], list[Any]] = {}

    @property
    def combined_fields(self) -> frozenset[str]:
        """The fields whose values together key the remembered combinations (empty when
        combinations are not remembered)."""
        return frozenset(self._names) if self._reader is not None else frozenset()

    def candidates(self, ev: EventView) -> Sequence[int]:
        """Sorted positions of the rules that may match ``ev``."""
        return self.lookup(ev)[0]

    def lookup(self, ev: EventView) -> list[Any] | tuple[Sequence[int], None, None]:
        """``(candidates, _, place)``: :meth:`candidates`, and when the event's values of
        :attr:`combined_fields` are remembered as a combination, the combination's
        entry, whose third item is None until the caller stores there something that
        depends on that combination only (forgotten with it); else a tuple whose third
        item is None."""
        reader = self._reader
        if reader is None or ev._slow or ev._fallbacks is not None:
            return self._candidates(ev), None, None
        values = reader(ev.data)  # type: ignore[arg-type]
        if values is None:  # a number, a list, a dotted key...: the general way
            return self._candidates(ev), None, None
        whole = self._whole
        known = whole.get(values)
        if known is not None:
            ev._fold.update(known[1])
            return known
        found = tuple(self._candidates(ev))
        if sum(len(v) for v in values if v is not None) <= MEMO_VALUE_CHARS:
            if len(whole) >= self.memo_size:
                whole.clear()
            folded = {
                n: (v.casefold(),)
                for n, v in zip(self._names, values, strict=True)
                if v is not None
            }
            entry = whole[values] = [found, folded, None]
            return entry
        return found, None, None

    def _candidates(self, ev: EventView) -> Sequence[int]:
        parts: list[tuple[int, ...]] = []
        fields = self.fields
        memos = self._memos
        names: Iterable[str] = self._field_names
        if len(fields) > 32:
            # Many indexed fields: walk the event's own keys along the indexed paths
            # (their values are resolved on the way) instead of asking each field.
            present = ev.present_fields(self._trie)
            if present is not None:
                names = present
            else:
                # Dotted keys, lists of objects, fallbacks: the flattened event tells.
                # Too big or deep to flatten: ask field by field (errors stay per rule).
                with contextlib.suppress(EventError):
                    names = self._field_names.intersection(ev.paths)
        exact = self._exact
        for fld in names:
            vals = ev.fold(fld)
            if not vals:
                continue
            table = exact.get(fld)
            if table is not None and len(vals) == 1:
                rules = table.get(vals[0])
                if rules:
                    parts.append(rules)
                continue
            memo = memos[fld]
            hits = memo.get(vals)
            if hits is None:
                hits = self._field_hits(fields[fld], vals)
                if self.memo_size and sum(map(len, vals)) <= MEMO_VALUE_CHARS:
                    if len(memo) >= self.memo_size:
                        memo.clear()
                    memo[vals] = hits
            if hits:
                parts.append(hits)
        if not self.always and len(parts) == 1:
            return parts[0]  # one field gave them all: already sorted, nothing to merge
        if self.memo_size and len(parts) == 2:
            # Two fields (``action`` and ``outcome``): their union, remembered too.
            pair = (parts[0], parts[1])
            merged = self._unions.get(pair)
            if merged is None:
                if len(self._unions) >= self.memo_size:
                    self._unions.clear()
                merged = self._unions[pair] = tuple(sorted({*self.always, *parts[0], *parts[1]}))
            return merged
        found: set[int] = set(self.always)
        for hits in parts:
            found.update(hits)
        return sorted(found)

    @staticmethod
    def _field_hits(fi: _FieldIndex, vals: tuple[str, ...]) -> tuple[int, ...]:
        """The rules one field's (case-folded) values make candidates: a function of the
        values alone, so it can be remembered per value."""
        out: set[int] = set()
        if fi.words:
            keyed = fi.words
            for v in vals:
                for word in WORD.findall(v):
                    pairs = keyed.get(word[:WORD_KEY])
                    if pairs:
                        out.update(i for i, text in pairs if text in v)
        automaton = fi.automaton
        prefixes, suffixes, eq = fi.prefix_automaton, fi.suffix_automaton, fi.eq
        for v in vals:
            if automaton is not None:  # the substrings the value holds
                for _, rules in automaton.iter(v):
                    out.update(rules)
            if eq:
                hit = eq.get(v)
                if hit:
                    out.update(hit)
            if prefixes is not None:
                for end, (n, rules) in prefixes.iter(v[:AFFIX]):
                    if end == n - 1:  # found at the start
                        out.update(rules)
            if suffixes is not None:
                for end, (n, rules) in suffixes.iter(v[: -AFFIX - 1 : -1]):
                    if end == n - 1:  # found at the end
                        out.update(rules)
        return tuple(sorted(out))

    def memo_entries(self) -> int:
        """Field values (and combinations of values) whose candidates are remembered."""
        return sum(len(memo) for memo in self._memos.values()) + len(self._whole)

    def describe(self) -> dict[str, int]:
        """How the rules are indexed: counts by anchor kind."""
        out: Counter[str] = Counter()
        for keys in self.anchors:
            if keys is None:
                out["always"] += 1
            else:
                kinds = {k[1] for k in keys}
                out["+".join(sorted(kinds))] += 1
        return dict(out)


__all__ = ["CandidateIndex", "Key", "best_anchor", "positive_keys", "regex_literal", "test_keys"]
