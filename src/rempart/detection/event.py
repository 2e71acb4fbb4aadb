"""A read-only view of one event that resolves Sigma field names.

The event is flattened once into dotted paths: ``{"Event": {"EventData": {"Image": x}}}``
gives ``Event.EventData.Image``, and a key that itself contains dots
(``{"src_endpoint.ip": x}``) gives the same path as the nested form. Lists are
transparent: a path collects the scalars of every element, so a field whose value is a
list matches when any element matches. Values are compared as text: numbers and
booleans are rendered the way Sigma writes them (``4688``, ``true``). A pipeline may
give *fallbacks*: a path prefix with a ``*`` segment whose matches are also visible
under a canonical prefix (Windows: ``Event.UserData.*.`` as ``Event.EventData.``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from rempart.detection.errors import EventError

MAX_DEPTH: Final = 64
"""Deepest nesting accepted in an event; deeper is an :class:`EventError`."""

MAX_VALUES: Final = 100_000
"""Most scalar values accepted in one event; more is an :class:`EventError`."""

Fallbacks = Mapping[str, tuple[str, ...]]


def to_text(value: Any) -> str:
    """Render a scalar the way a Sigma value is written (``true``, ``4688``, ``1.5``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def flatten(data: Mapping[str, Any]) -> tuple[dict[str, list[Any]], set[str]]:
    """Dotted path -> scalars under it (nulls give an empty list), and the paths of objects."""
    flat: dict[str, list[Any]] = {}
    containers: set[str] = set()
    count = 0
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise EventError(f"event nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, Mapping):
            if path:
                containers.add(path)
                flat.setdefault(path, [])
            prefix = path + "." if path else ""
            for key, item in value.items():
                stack.append((prefix + str(key), item, depth + 1))
        elif isinstance(value, list | tuple):
            if path not in flat:
                flat[path] = []
            for item in reversed(value):
                stack.append((path, item, depth + 1))
        else:
            slot = flat.get(path)
            if slot is None:
                slot = flat[path] = []
            if value is not None:
                count += 1
                if count > MAX_VALUES:
                    raise EventError(f"event holds more than {MAX_VALUES} values")
                slot.append(value)
    return flat, containers


def _apply_fallbacks(
    flat: dict[str, list[Any]], containers: set[str], fallbacks: Fallbacks
) -> None:
    for canonical, alternatives in fallbacks.items():
        for alt in alternatives:
            head, _, tail = alt.partition("*.")
            for path in list(flat):
                if not path.startswith(head):
                    continue
                rest = path[len(head) :]
                dot = rest.find(".")
                if dot < 0 or not rest[dot + 1 :].startswith(tail):
                    continue
                target = canonical + rest[dot + 1 + len(tail) :]
                if target not in flat:
                    flat[target] = flat[path]
                    if path in containers:
                        containers.add(target)


class EventView:
    """Cached field access over one event (a JSON object)."""

    __slots__ = ("_containers", "_flat", "_fold", "_text", "_words", "data")

    def __init__(self, data: Mapping[str, Any], fallbacks: Fallbacks | None = None) -> None:
        if not isinstance(data, Mapping):
            raise EventError(f"an event must be a JSON object, not {type(data).__name__}")
        self.data = data
        self._flat, self._containers = flatten(data)
        if fallbacks:
            _apply_fallbacks(self._flat, self._containers, fallbacks)
        self._fold: dict[str, tuple[str, ...]] = {}
        self._text: dict[str, tuple[str, ...]] = {}
        self._words: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    @property
    def paths(self) -> Mapping[str, list[Any]]:
        """Every dotted path of the event and its scalar values."""
        return self._flat

    def present(self, field: str) -> bool:
        """True when the field exists with a non-null value (an object counts)."""
        values = self._flat.get(field)
        if values is None:
            return False
        return bool(values) or field in self._containers

    def scalars(self, field: str) -> tuple[Any, ...]:
        """Scalar values of the field, empty when absent or null."""
        values = self._flat.get(field)
        return tuple(values) if values else ()

    def text(self, field: str) -> tuple[str, ...]:
        """Scalar values rendered as text, case preserved."""
        try:
            return self._text[field]
        except KeyError:
            values = self._flat.get(field)
            result = tuple(map(to_text, values)) if values else ()
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
            seen: set[int] = set()
            text: list[str] = []
            for values in self._flat.values():
                if id(values) in seen:  # a fallback alias shares its list
                    continue
                seen.add(id(values))
                text.extend(map(to_text, values))
            self._words = (tuple(text), tuple(t.casefold() for t in text))
        return self._words

    def all_text(self) -> tuple[str, ...]:
        """Every scalar of the event as text, for keyword (field-less) search."""
        return self._all_words()[0]

    def all_fold(self) -> tuple[str, ...]:
        """Every scalar of the event as case-folded text."""
        return self._all_words()[1]


__all__ = ["MAX_DEPTH", "MAX_VALUES", "EventView", "flatten", "to_text"]
