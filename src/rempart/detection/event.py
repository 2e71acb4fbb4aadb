"""A read-only view of one event that resolves Sigma field names and caches the result.

Field names are dotted paths: ``Event.EventData.Image`` walks nested objects, and a
key that itself contains dots (``src_endpoint.ip`` stored flat) is found too. Lists
are transparent: a field whose value is a list matches when any element matches, and
``a.b`` over a list of objects collects ``b`` from each. Values are compared as text:
numbers and booleans are rendered the way Sigma writes them (``4688``, ``true``).
Each distinct field is resolved once per event, however many rules read it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from rempart.detection.errors import EventError

MAX_DEPTH: Final = 64
"""Deepest nesting walked for keyword search and list flattening; deeper is an error."""

_MISSING: Final = object()
_SPLIT_CACHE: dict[str, tuple[str, ...]] = {}


def to_text(value: Any) -> str:
    """Render a scalar the way a Sigma value is written (``true``, ``4688``, ``1.5``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parts(field: str) -> tuple[str, ...]:
    parts = _SPLIT_CACHE.get(field)
    if parts is None:
        parts = tuple(field.split("."))
        if len(_SPLIT_CACHE) < 65_536:
            _SPLIT_CACHE[field] = parts
    return parts


def _walk(obj: Any, parts: tuple[str, ...], i: int, out: list[Any], depth: int) -> bool:
    """Append the values at ``parts[i:]`` under ``obj`` to ``out``; True if any was found."""
    if depth > MAX_DEPTH:
        raise EventError(f"event nested deeper than {MAX_DEPTH} levels")
    if i == len(parts):
        out.append(obj)
        return True
    if isinstance(obj, Mapping):
        found = False
        # Longest dotted key first, so {"a.b": 1} and {"a": {"b": 1}} both resolve "a.b".
        for j in range(len(parts), i, -1):
            key = parts[i] if j == i + 1 else ".".join(parts[i:j])
            if key in obj and _walk(obj[key], parts, j, out, depth + 1):
                found = True
                break
        return found
    if isinstance(obj, list):
        found = False
        for item in obj:
            if isinstance(item, (Mapping, list)) and _walk(item, parts, i, out, depth + 1):
                found = True
        return found
    return False


def _leaves(value: Any, out: list[Any], depth: int = 0) -> None:
    """Scalar values under ``value``, lists flattened; objects and nulls are not scalars."""
    if depth > MAX_DEPTH:
        raise EventError(f"event nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, Mapping):
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _leaves(item, out, depth + 1)
        return
    out.append(value)


def iter_leaves(obj: Any) -> Iterator[Any]:
    """Every scalar anywhere in ``obj`` (for keyword search), iteratively and depth-bounded."""
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise EventError(f"event nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, Mapping):
            stack.extend((v, depth + 1) for v in reversed(list(item.values())))
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in reversed(item))
        elif item is not None:
            yield item


class EventView:
    """Cached field access over one event (a JSON object)."""

    __slots__ = ("_fold", "_raw", "_text", "_words", "data")

    def __init__(self, data: Mapping[str, Any]) -> None:
        if not isinstance(data, Mapping):
            raise EventError(f"an event must be a JSON object, not {type(data).__name__}")
        self.data = data
        self._raw: dict[str, tuple[Any, ...] | None] = {}
        self._fold: dict[str, tuple[str, ...]] = {}
        self._text: dict[str, tuple[str, ...]] = {}
        self._words: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    def lookup(self, field: str) -> tuple[Any, ...] | None:
        """The values found at ``field`` (objects included, nulls dropped), None if absent."""
        try:
            return self._raw[field]
        except KeyError:
            pass
        data = self.data
        found: list[Any] = []
        value = data.get(field, _MISSING)
        if value is not _MISSING:
            found.append(value)
            ok = True
        else:
            ok = "." in field and _walk(data, _parts(field), 0, found, 0)
        result: tuple[Any, ...] | None = None
        if ok:
            flat: list[Any] = []
            for item in found:
                if isinstance(item, (list, tuple)):
                    _leaves(item, flat)
                elif item is not None:
                    flat.append(item)
            result = tuple(flat)
        self._raw[field] = result
        return result

    def present(self, field: str) -> bool:
        """True when the field exists with a non-null value."""
        values = self.lookup(field)
        return bool(values)

    def scalars(self, field: str) -> tuple[Any, ...]:
        """Scalar values of the field (no objects), empty when absent or null."""
        values = self.lookup(field)
        if not values:
            return ()
        return tuple(v for v in values if not isinstance(v, Mapping))

    def text(self, field: str) -> tuple[str, ...]:
        """Scalar values rendered as text, case preserved."""
        try:
            return self._text[field]
        except KeyError:
            result = tuple(to_text(v) for v in self.scalars(field))
            self._text[field] = result
            return result

    def fold(self, field: str) -> tuple[str, ...]:
        """Scalar values as text, Unicode case-folded (the default Sigma comparison)."""
        try:
            return self._fold[field]
        except KeyError:
            result = tuple(t.casefold() for t in self.text(field))
            self._fold[field] = result
            return result

    def _all_words(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self._words is None:
            text = tuple(to_text(v) for v in iter_leaves(self.data))
            self._words = (text, tuple(t.casefold() for t in text))
        return self._words

    def all_text(self) -> tuple[str, ...]:
        """Every scalar of the event as text, for keyword (field-less) search."""
        return self._all_words()[0]

    def all_fold(self) -> tuple[str, ...]:
        """Every scalar of the event as case-folded text."""
        return self._all_words()[1]


__all__ = ["MAX_DEPTH", "EventView", "iter_leaves", "to_text"]
