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

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from rempart.detection.errors import EventError
from rempart.detection.matchers import parse_utc, time_part

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


Gram = tuple[str, str, str]
"""A trigram as its three characters (``set(zip(v, v[1:], v[2:]))`` builds them in C)."""


def trigrams(value: str) -> set[Gram]:
    """Every 3-character substring of ``value``, as a tuple of its characters."""
    return set(zip(value, value[1:], value[2:], strict=False))


def gram_of(text: str, j: int) -> Gram:
    return (text[j], text[j + 1], text[j + 2])


Trie = dict[str, tuple[str | None, "Trie | None"]]
"""Key -> (the field name ending here or None, the keys below or None)."""


def build_trie(fields: Iterable[str]) -> Trie:
    """The nested keys of dotted field names, for :meth:`EventView.present_fields`."""
    trie: Trie = {}
    for name in fields:
        parts = name.split(".")
        node = trie
        for i, part in enumerate(parts):
            here, below = node.get(part, (None, None))
            if i == len(parts) - 1:
                node[part] = (name, below)
            else:
                if below is None:
                    below = {}
                node[part] = (here, below)
                node = below
    return trie


_SCALAR_TYPES: Final = (str, int, float, bool)


def _trie_walk(obj: dict[Any, Any], trie: Trie, values: dict[str, Any], out: list[str]) -> bool:
    """Record the scalars of the trie's fields found in ``obj`` by plain keys; False when
    the event needs the general resolution (a dotted key, a list or an odd object on
    the way), in which case nothing recorded is wrong, only incomplete."""
    for key, value in obj.items():
        node = trie.get(key)
        if node is None:
            if type(key) is not str or "." in key:
                return False  # a dotted key could spell one of the trie's paths
            continue
        name, below = node
        t = type(value)
        if name is not None:
            if t is str or t is int or t is float or t is bool:
                values[name] = [value]
                out.append(name)
            elif value is None or t is dict:
                values[name] = []  # null, or an object: present without scalars
            else:
                out.append(name)  # a list or another type: resolved the general way
        if below is not None:
            if t is dict:
                if not _trie_walk(value, below, values, out):
                    return False
            elif value is not None and t not in _SCALAR_TYPES:
                return False  # a list of objects (or a mapping that is not a dict)
    return True


def _collect_text(obj: Any, out: list[str], depth: int) -> None:
    """Every scalar under ``obj`` as text (``flatten``'s values, without the paths).

    The plain JSON types are told apart by ``type`` first: ``isinstance(x, Mapping)``
    is an abstract-class check, which cost more than the rest of the step for each
    number and each list of an event."""
    if depth > MAX_DEPTH:
        raise EventError(f"event nested deeper than {MAX_DEPTH} levels")
    t = type(obj)
    items = obj.values() if t is dict or (t is not list and isinstance(obj, Mapping)) else obj
    for value in items:
        t = type(value)
        if t is str:
            out.append(value)
        elif t is dict or t is list or t is tuple:
            _collect_text(value, out, depth + 1)
        elif t is int:
            out.append(str(value))  # ``to_text`` of an int
        elif value is None:
            continue
        elif t is not bool and t is not float and isinstance(value, Mapping):
            _collect_text(value, out, depth + 1)
        else:
            out.append(to_text(value))
    # Counted once per object (was per value): an event over the bound fails the same
    # way, after the object that crosses it has been read.
    if len(out) > MAX_VALUES:
        raise EventError(f"event holds more than {MAX_VALUES} values")


_ABSENT: Final = object()
_GETTERS: dict[str, Callable[[dict[str, Any]], Any]] = {}


def _getter(field: str) -> Callable[[dict[str, Any]], Any]:
    """A function reading ``field`` from a dict event by plain keys, written out level
    by level (no loop): the raw value, ``_ABSENT``, or ``_MISSING`` when only the
    general resolution can tell (a dotted key that could also match, a list on the
    way). Field names are written with ``repr``, which is safe for any string."""
    getter = _GETTERS.get(field)
    if getter is not None:
        return getter
    plan = _plan(field)
    lines = ["def get(d):"]
    obj = "d"
    for i, (key, dotted) in enumerate(plan):
        if dotted:
            test = " or ".join(f"{d!r} in {obj}" for d in dotted)
            lines.append(f"    if {test}: return M")
        lines.append(f"    o{i} = {obj}.get({key!r}, A)")
        if i < len(plan) - 1:
            lines.append(f"    if type(o{i}) is not dict:")
            # absent, null or a scalar on the way: the field is absent; a list: general
            lines.append(f"        return A if o{i} is A or o{i} is None or type(o{i}) in S else M")
        obj = f"o{i}"
    lines.append(f"    return {obj}")
    namespace: dict[str, Any] = {"A": _ABSENT, "M": _MISSING, "S": frozenset(_SCALAR_TYPES)}
    exec(compile("\n".join(lines) + "\n", f"<field {field!r}>", "exec"), namespace)  # noqa: S102
    getter = namespace["get"]
    if len(_GETTERS) < 100_000:
        _GETTERS[field] = getter
    return getter  # type: ignore[no-any-return]


_BAIL: Final = -1


def _gather(
    obj: dict[Any, Any], plan: tuple[tuple[str, tuple[str, ...]], ...], i: int, out: list[Any]
) -> int:
    """``flatten``'s scalars at ``plan[i:]`` below ``obj``, through lists of objects,
    appended to ``out``, without flattening the rest of the event. Returns 1 when the
    path exists, 0 when it does not, ``_BAIL`` when only the general resolution can
    tell (a dotted key that could also spell the path, a type JSON does not have, an
    event deeper or larger than the bounds, whose error the general path raises)."""
    if i >= MAX_DEPTH or len(out) > MAX_VALUES:
        return _BAIL
    key, dotted = plan[i]
    for d in dotted:
        if d in obj:
            return _BAIL
    v = obj.get(key, _ABSENT)
    if v is _ABSENT:
        return 0
    t = type(v)
    if i == len(plan) - 1:  # the path ends here
        if t is str or t is int or t is float or t is bool:
            out.append(v)
        elif t is list or t is tuple:
            return _gather_leaf(v, out, i + 1)
        elif v is not None and t is not dict:
            return _BAIL
        return 1
    if t is dict:
        return _gather(v, plan, i + 1, out)
    if t is list or t is tuple:
        return _gather_items(v, plan, i + 1, out, i + 1)
    return 0 if v is None or t in _SCALAR_TYPES else _BAIL


def _gather_items(
    items: list[Any],
    plan: tuple[tuple[str, tuple[str, ...]], ...],
    i: int,
    out: list[Any],
    depth: int,
) -> int:
    """The path's rest in each object of a list (lists inside lists are one list, as
    ``flatten`` reads them; scalars there belong to the list's own path)."""
    if depth >= MAX_DEPTH:
        return _BAIL
    seen = 0
    for item in items:
        t = type(item)
        if t is dict:
            found = _gather(item, plan, i, out)
        elif t is list or t is tuple:
            found = _gather_items(item, plan, i, out, depth + 1)
        elif item is None or t in _SCALAR_TYPES:
            continue
        else:
            return _BAIL
        if found == _BAIL:
            return _BAIL
        seen |= found
    return seen


def _gather_leaf(items: list[Any], out: list[Any], depth: int) -> int:
    """The scalars of a list at the end of the path (objects in it add none)."""
    if depth >= MAX_DEPTH:
        return _BAIL
    for item in items:
        t = type(item)
        if t is str or t is int or t is float or t is bool:
            out.append(item)
        elif t is list or t is tuple:
            if _gather_leaf(item, out, depth + 1) == _BAIL:
                return _BAIL
        elif item is not None and t is not dict:
            return _BAIL
    return 1 if len(out) <= MAX_VALUES else _BAIL


def _single_text(data: dict[str, Any], field: str) -> Any:
    """The field's one string read through lists (None when it has no value), or
    ``_MISSING`` when it has several values, another type, or needs the general way."""
    out: list[Any] = []
    if _gather(data, _PLANS.get(field) or _plan(field), 0, out) == _BAIL:
        return _MISSING
    if not out:
        return None
    if len(out) == 1 and type(out[0]) is str:
        return out[0]
    return _MISSING


StringReader = Callable[[dict[str, Any]], "tuple[str | None, ...] | None"]
_READERS: dict[tuple[str, ...], StringReader] = {}


def string_reader(fields: tuple[str, ...]) -> StringReader:
    """A function reading several fields of a dict event at once, by plain keys, in one
    call (no loop, no per-field call): the tuple of their values when each one is a
    string, absent or null (None), else None, meaning "ask :class:`EventView`" (a
    number, a list, an object, or a dotted key that could also spell the field).

    Where it answers, ``(v,)`` is exactly ``EventView.text(field)`` and
    ``(v.casefold(),)`` ``EventView.fold(field)`` (``()`` for None), for an event
    without pipeline fallbacks. Field names are written with ``repr``."""
    reader = _READERS.get(fields)
    if reader is not None:
        return reader
    lines = ["def read(d):"]

    def level(
        k: int, plan: tuple[tuple[str, tuple[str, ...]], ...], i: int, obj: str, indent: int
    ) -> None:
        """Lines reading ``plan[i:]`` below ``obj``, indented ``indent`` levels."""
        pad = "    " * indent
        key, dotted = plan[i]
        if dotted:
            lines.append(f"{pad}if {' or '.join(f'{d!r} in {obj}' for d in dotted)}: return None")
        var = f"x{k}_{i}"
        lines.append(f"{pad}{var} = {obj}.get({key!r}, A)")
        if i == len(plan) - 1:
            lines.append(f"{pad}if type({var}) is str: v{k} = {var}")
            lines.append(f"{pad}elif {var} is A or {var} is None: v{k} = None")
            lines.append(f"{pad}else: return None")
            return
        lines.append(f"{pad}if type({var}) is dict:")
        level(k, plan, i + 1, var, indent + 1)
        # a list of objects on the way (OCSF ``resources[]``): read through it, written
        # out for the common list of one object (tested before the rarer cases below)
        lines.append(f"{pad}elif type({var}) is list:")
        lines.append(f"{pad}    if len({var}) == 1 and type({var}[0]) is dict:")
        level(k, plan, i + 1, f"{var}[0]", indent + 2)
        lines.append(f"{pad}    else:")
        lines.append(f"{pad}        v{k} = L(d, {fields[k]!r})")
        lines.append(f"{pad}        if v{k} is M: return None")
        # absent, null or a scalar on the way: the field is absent
        lines.append(f"{pad}elif {var} is A or {var} is None or type({var}) in S: v{k} = None")
        lines.append(f"{pad}else: return None")

    for k, name in enumerate(fields):
        level(k, _plan(name), 0, "d", 1)
    lines.append(f"    return ({''.join(f'v{k}, ' for k in range(len(fields)))})")
    namespace: dict[str, Any] = {
        "A": _ABSENT,
        "M": _MISSING,
        "L": _single_text,
        "S": frozenset(_SCALAR_TYPES),
    }
    exec(compile("\n".join(lines) + "\n", f"<fields {fields!r}>", "exec"), namespace)  # noqa: S102
    made: StringReader = namespace["read"]
    if len(_READERS) < 10_000:
        _READERS[fields] = made
    return made


EPOCH_MS_LOW: Final = 10**11 + 1
"""Smallest integer :meth:`EventView.moments` reads as epoch milliseconds (above 1e11)."""
EPOCH_MS_HIGH: Final = 253_402_300_800_000
"""10000-01-01T00:00:00Z in epoch milliseconds: from there on, not a time."""
_PART_MS: Final = {"hour": (3_600_000, 24), "minute": (60_000, 60)}
"""Time part -> (milliseconds per unit, units per next unit), for epoch arithmetic."""


class EventView:
    """Cached field access over one event (a JSON object).

    Fields are resolved on demand: a plain walk down nested objects first, the whole
    flattened event (dotted keys, lists of objects, fallbacks) only when that walk
    cannot answer. Each field is resolved at most once per event.
    """

    __slots__ = (
        "_fallback_live",
        "_fallbacks",
        "_flat",
        "_fold",
        "_grams",
        "_joined",
        "_moments",
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
        self._fallbacks = fallbacks or None
        self._fallback_live: bool | None = None
        self._flat: tuple[dict[str, list[Any]], set[str]] | None = None
        self._slow = type(data) is not dict
        self._values: dict[str, list[Any] | None] = {}
        self._fold: dict[str, tuple[str, ...]] = {}
        self._text: dict[str, tuple[str, ...]] = {}
        self._grams: dict[str, set[Gram]] | None = None
        self._words: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._joined: str | None = None
        self._moments: dict[str, tuple[datetime | None, ...]] | None = None

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

    def _walk(self, field: str) -> Any:
        """The field by plain keys: its scalars, None when absent, or ``_MISSING`` when
        a dotted key that could also match, or a list, is on the way."""
        v = (_GETTERS.get(field) or _getter(field))(self.data)  # type: ignore[arg-type]
        t = type(v)
        if t is str or t is int or t is float or t is bool:
            return [v]
        if v is _ABSENT:
            return None
        if v is None or t is dict:
            return []
        if v is _MISSING or t is list or t is tuple:
            # A list on the way, or at the end: read through it, else the general way.
            out: list[Any] = []
            found = _gather(self.data, _PLANS.get(field) or _plan(field), 0, out)  # type: ignore[arg-type]
            return _MISSING if found == _BAIL else (out if found else None)
        # Another type (an enum, a mapping that is not a dict...): the general way.
        return _MISSING

    def _fallback_is_live(self) -> bool:
        """Whether the event holds a path a pipeline fallback reads (Windows:
        ``Event.UserData``); computed once per event."""
        if self._fallback_live is None:
            self._fallback_live = any(
                self._walk(alt.partition("*.")[0].rstrip(".")) is not None
                for alts in (self._fallbacks or {}).values()
                for alt in alts
            )
        return self._fallback_live

    def _fallback_applies(self, field: str) -> bool:
        """Whether a fallback could give ``field`` values the plain walk missed."""
        if not any(field.startswith(canonical) for canonical in self._fallbacks or ()):
            return False
        return self._fallback_is_live()

    def _lookup(self, field: str) -> list[Any] | None:
        """Scalars at ``field`` ([] for null or an object), None when absent."""
        values = self._values
        if field in values:  # a membership test: a missed try/except costs more
            return values[field]
        if not self._slow:
            result = self._walk(field)
            if result is None and self._fallbacks is not None and self._fallback_applies(field):
                result = _MISSING
            if result is not _MISSING:
                values[field] = result
                return result  # type: ignore[no-any-return]
        found = self._flattened()[0].get(field)
        values[field] = found
        return found

    def present_fields(self, trie: Trie) -> list[str] | None:
        """The trie's fields the event may hold, their scalars resolved on the way (one
        walk over the event's own keys); None when only the flattened event can tell."""
        if self._slow or (self._fallbacks is not None and self._fallback_is_live()):
            return None
        out: list[str] = []
        values: dict[str, Any] = {}
        if not _trie_walk(self.data, trie, values, out):  # type: ignore[arg-type]
            return None
        for name, found in values.items():
            self._values.setdefault(name, found)
        return out

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
        values = self._values.get(field) if field in self._values else self._lookup(field)
        return tuple(values) if values else ()

    def moments(self, field: str) -> tuple[datetime | None, ...]:
        """The field's values read as timestamps, in UTC (None for a value that is not
        one), parsed once per event whatever the number of rules reading them."""
        cache = self._moments
        if cache is None:  # the first time read this event (the common case)
            cache = self._moments = {}
            result = None
        else:
            result = cache.get(field)
        if result is None:
            if not self._slow and field not in self._values:
                # A top-level name (``time``) is one read; its getter does only that.
                v = (
                    self.data.get(field, _ABSENT)
                    if "." not in field
                    else (_GETTERS.get(field) or _getter(field))(self.data)  # type: ignore[arg-type]
                )
                t = type(v)
                if t is str:  # the common case: one ISO 8601 text, parsed here
                    try:
                        moment = datetime.fromisoformat(v.strip())
                    except ValueError:
                        result = cache[field] = (None,)
                        return result
                    if moment.tzinfo is None:
                        moment = moment.replace(tzinfo=UTC)
                    result = cache[field] = (moment.astimezone(UTC),)
                    return result
                if t is int or t is float:  # epoch seconds or milliseconds (OCSF ``time``)
                    result = cache[field] = (parse_utc(v),)
                    return result
            values = self._lookup(field)
            result = cache[field] = tuple(map(parse_utc, values)) if values else ()
        return result

    def timeparts(self, field: str, part: str) -> tuple[int | None, ...]:
        """``part`` (hour, minute, day, week, month, year) of each of the field's values
        read as a timestamp, in UTC (None for a value that is not one): what
        :meth:`moments` gives, taken apart. A top-level epoch-milliseconds integer
        (OCSF ``time``) gives its hour or minute by integer arithmetic, without making
        the datetime: the same number, since every such integer is a whole number of
        milliseconds that ``datetime.fromtimestamp`` renders exactly."""
        if not self._slow and "." not in field and field not in self._values:
            v = self.data.get(field)
            if type(v) is int and EPOCH_MS_LOW <= v < EPOCH_MS_HIGH:
                unit = _PART_MS.get(part)
                if unit is not None:
                    return ((v // unit[0]) % unit[1],)
        return tuple([None if m is None else time_part(m, part) for m in self.moments(field)])

    def timestamp(self, field: str) -> float | None:
        """The field's first value read as a timestamp, in epoch seconds (None when
        absent or not a time): ``moments(field)[0].timestamp()``. A top-level
        epoch-milliseconds integer gives ``v / 1000`` directly, the same float (the
        datetime holds exactly ``v`` milliseconds, and both divisions are correctly
        rounded)."""
        if not self._slow and "." not in field and field not in self._values:
            v = self.data.get(field)
            if type(v) is int and EPOCH_MS_LOW <= v < EPOCH_MS_HIGH:
                return v / 1000
        moments = self.moments(field)
        return moments[0].timestamp() if moments and moments[0] is not None else None

    def text(self, field: str) -> tuple[str, ...]:
        """Scalar values rendered as text, case preserved."""
        result = self._text.get(field)
        if result is None:
            if not self._slow and field not in self._values:
                v = (_GETTERS.get(field) or _getter(field))(self.data)  # type: ignore[arg-type]
                if type(v) is str:  # the common case: one string, read directly
                    result = self._text[field] = (v,)
                    return result
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
            if not self._slow and field not in self._values:
                v = (_GETTERS.get(field) or _getter(field))(self.data)  # type: ignore[arg-type]
                if type(v) is str:  # the common case: one string, read directly
                    result = self._fold[field] = (v.casefold(),)
                    return result
            values = self._lookup(field)
            if not values:
                result = ()
            elif len(values) == 1:
                v = values[0]
                result = ((v if type(v) is str else to_text(v)).casefold(),)
            else:
                result = tuple([to_text(v).casefold() for v in values])
            self._fold[field] = result
        return result

    def grams(self, field: str) -> set[Gram]:
        """Every trigram of the field's case-folded values (shared by all the rules that
        look for substrings in this field)."""
        cache = self._grams
        if cache is None:
            cache = self._grams = {}
        result = cache.get(field)
        if result is None:
            vals = self.fold(field)
            if len(vals) == 1:
                result = trigrams(vals[0])
            else:
                result = set()
                for v in vals:
                    result |= trigrams(v)
            cache[field] = result
        return result

    def _all_words(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self._words is None:
            text: list[str] = []
            _collect_text(self.data, text, 0)
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
                text: list[str] | tuple[str, ...] = self._words[0]
            else:
                text = []
                _collect_text(self.data, text, 0)
            self._joined = JOIN.join(text).casefold()
        return self._joined


__all__ = [
    "EPOCH_MS_HIGH",
    "EPOCH_MS_LOW",
    "JOIN",
    "MAX_DEPTH",
    "MAX_VALUES",
    "EventView",
    "Gram",
    "Trie",
    "build_trie",
    "flatten",
    "gram_of",
    "to_text",
    "trigrams",
]
