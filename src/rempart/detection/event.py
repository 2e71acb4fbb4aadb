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

from collections.abc import Iterable, Mapping
from typing import Any, Final

from rempart.detection.errors import EventError

MAX_DEPTH: Final = 64
"""Deepest nesting accepted in an event; deeper is an :class:`EventError`."""

MAX_VALUES: Final = 100_000
"""Most scalar values accepted in one event; more is an :class:`EventError`."""

Fallbacks = Mapping[str, tuple[str, ...]]

JOIN: Final = "\x00"
"""Separator of :meth:`EventView.all_fold_joined`."""


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
    count = _flatten_into(flat, containers, "", data, 0, 0)
    if count > MAX_VALUES:
        raise EventError(f"event holds more than {MAX_VALUES} values")
    return flat, containers


def _flatten_into(
    flat: dict[str, list[Any]],
    containers: set[str],
    prefix: str,
    obj: Mapping[str, Any],
    depth: int,
    count: int,
) -> int:
    """Recursive walk of one object; returns the running count of scalar values."""
    if depth > MAX_DEPTH:
        raise EventError(f"event nested deeper than {MAX_DEPTH} levels")
    for key, value in obj.items():
        path = prefix + key if type(key) is str else prefix + str(key)
        t = type(value)
        if t is str or t is int or t is float or t is bool:
            slot = flat.get(path)
            if slot is None:
                flat[path] = [value]
            else:
                slot.append(value)
            count += 1
        elif t is dict or (t is not list and isinstance(value, Mapping)):
            containers.add(path)
            flat.setdefault(path, [])
            count = _flatten_into(flat, containers, path + ".", value, depth + 1, count)
        elif t is list or t is tuple:
            flat.setdefault(path, [])
            count = _flatten_list(flat, containers, path, value, depth + 1, count)
        elif value is None:
            flat.setdefault(path, [])
        else:
            flat.setdefault(path, []).append(value)
            count += 1
        if count > MAX_VALUES:
            raise EventError(f"event holds more than {MAX_VALUES} values")
    return count


def _flatten_list(
    flat: dict[str, list[Any]],
    containers: set[str],
    path: str,
    items: Any,
    depth: int,
    count: int,
) -> int:
    if depth > MAX_DEPTH:
        raise EventError(f"event nested deeper than {MAX_DEPTH} levels")
    slot = flat[path]
    for item in items:
        t = type(item)
        if t is dict or (t is not list and t is not tuple and isinstance(item, Mapping)):
            containers.add(path)
            count = _flatten_into(flat, containers, path + ".", item, depth + 1, count)
        elif t is list or t is tuple:
            count = _flatten_list(flat, containers, path, item, depth + 1, count)
        elif item is not None:
            slot.append(item)
            count += 1
        if count > MAX_VALUES:
            raise EventError(f"event holds more than {MAX_VALUES} values")
    return count


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


_MISSING: Final = object()
_PLANS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}


def _plan(field: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per level of ``field``: the plain key, and the dotted keys that could also match
    from there (``a.b.c`` at the top: ``a.b``, ``a.b.c``). Cached per field name."""
    plan = _PLANS.get(field)
    if plan is None:
        parts = field.split(".")
        plan = tuple(
            (parts[i], tuple(".".join(parts[i:j]) for j in range(i + 2, len(parts) + 1)))
            for i in range(len(parts))
        )
        if len(_PLANS) < 100_000:
            _PLANS[field] = plan
    return plan


class EventView:
    """Cached field access over one event (a JSON object).

    Fields are resolved on demand: a plain walk down nested objects first, the whole
    flattened event (dotted keys, lists of objects, fallbacks) only when that walk
    cannot answer. Each field is resolved at most once per event.
    """

    __slots__ = (
        "_fallbacks",
        "_flat",
        "_fold",
        "_grams",
        "_joined",
        "_scalars",
        "_slow",
        "_text",
        "_values",
        "_words",
        "data",
    )

    def __init__(self, data: Mapping[str, Any], fallbacks: Fallbacks | None = None) -> None:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise EventError(f"an event must be a JSON object, not {type(data).__name__}")
        self.data = data
        self._fallbacks = fallbacks
        self._flat: tuple[dict[str, list[Any]], set[str]] | None = None
        # With fallbacks (Windows UserData) events are read through the flat form.
        self._slow = bool(fallbacks) or type(data) is not dict
        self._values: dict[str, list[Any] | None] = {}
        self._fold: dict[str, tuple[str, ...]] = {}
        self._grams: dict[str, set[str]] = {}
        self._scalars: dict[str, tuple[Any, ...]] = {}
        self._text: dict[str, tuple[str, ...]] = {}
        self._words: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._joined: str | None = None

    def _flattened(self) -> tuple[dict[str, list[Any]], set[str]]:
        if self._flat is None:
            flat, containers = flatten(self.data)
            if self._fallbacks:
                _apply_fallbacks(flat, containers, self._fallbacks)
            self._flat = (flat, containers)
        return self._flat

    @property
    def paths(self) -> Mapping[str, list[Any]]:
        """Every dotted path of the event and its scalar values."""
        return self._flattened()[0]

    def _lookup(self, field: str) -> list[Any] | None:
        """Scalars at ``field`` ([] for null or an object), None when absent."""
        if field in self._values:  # a membership test: a missed try/except costs more
            return self._values[field]
        result: list[Any] | None = None
        if not self._slow:
            # Walk down plain keys; a dotted key that could also match sends us to the
            # general path, as does a list on the way.
            obj: Any = self.data
            for key, dotted in _PLANS.get(field) or _plan(field):
                if type(obj) is not dict:
                    if obj is None:  # a null on the way: the field is absent
                        self._values[field] = None
                        return None
                    obj = _MISSING  # a list (or a scalar) on the way
                    break
                if dotted:
                    for d in dotted:  # a loop: cheaper than any(<generator>) here
                        if d in obj:
                            break
                    else:
                        d = ""
                    if d:
                        obj = _MISSING
                        break
                obj = obj.get(key, _MISSING)
                if obj is _MISSING:
                    self._values[field] = None
                    return None
            if obj is not _MISSING and type(obj) is not list:
                result = [] if obj is None or type(obj) is dict else [obj]
                self._values[field] = result
                return result
        flat = self._flattened()[0]
        result = flat.get(field)
        self._values[field] = result
        return result

    def present(self, field: str) -> bool:
        """True when the field exists with a non-null value (an object counts)."""
        values = self._lookup(field)
        if values is None:
            return False
        if values:
            return True
        if not self._slow:
            obj: Any = self.data
            for key, _ in _PLANS.get(field) or _plan(field):
                obj = obj.get(key) if type(obj) is dict else None
            if type(obj) is dict:
                return True
        return field in self._flattened()[1]

    def scalars(self, field: str) -> tuple[Any, ...]:
        """Scalar values of the field, empty when absent or null."""
        result = self._scalars.get(field)
        if result is None:
            values = self._lookup(field)
            result = self._scalars[field] = tuple(values) if values else ()
        return result

    def text(self, field: str) -> tuple[str, ...]:
        """Scalar values rendered as text, case preserved."""
        result = self._text.get(field)
        if result is None:
            values = self._lookup(field)
            if not values:
                result = ()
            elif len(values) == 1 and type(values[0]) is str:
                result = (values[0],)
            else:
                result = tuple(map(to_text, values))
            self._text[field] = result
        return result

    def fold(self, field: str) -> tuple[str, ...]:
        """Scalar values as text, Unicode case-folded (the default Sigma comparison)."""
        result = self._fold.get(field)
        if result is None:
            text = self._text.get(field)
            if text is None:
                text = self.text(field)
            if not text:
                result = ()
            elif len(text) == 1:
                result = (text[0].casefold(),)
            else:
                result = tuple([t.casefold() for t in text])
            self._fold[field] = result
        return result

    def grams(self, field: str) -> set[str]:
        """Every 3-character substring of the field's case-folded values (shared by all
        the rules that look for substrings in this field)."""
        result = self._grams.get(field)
        if result is None:
            result = self._grams[field] = {
                v[j : j + 3] for v in self.fold(field) for j in range(len(v) - 2)
            }
        return result

    def _all_words(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self._words is None:
            seen: set[int] = set()
            text: list[str] = []
            for values in self._flattened()[0].values():
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

    def all_fold_joined(self) -> str:
        """Every scalar as case-folded text, joined by NUL characters: one string in
        which a needle without a NUL is found exactly when one value holds it (case
        folding maps each character on its own, so folding the whole is folding each)."""
        if self._joined is None:
            if self._words is not None:
                text: Iterable[str] = self._words[0]
            else:
                seen: set[int] = set()
                parts: list[str] = []
                for values in self._flattened()[0].values():
                    if id(values) not in seen:  # a fallback alias shares its list
                        seen.add(id(values))
                        parts.extend(map(to_text, values))
                text = parts
            self._joined = JOIN.join(text).casefold()
        return self._joined


__all__ = ["JOIN", "MAX_DEPTH", "MAX_VALUES", "EventView", "flatten", "to_text"]
