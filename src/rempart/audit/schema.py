"""The OCSF-aligned shape of an audit entry, and its RFC 8785 canonical encoding.

Each entry is one JSON object whose canonical bytes (RFC 8785, JCS) are the
Merkle leaf. The object follows the Open Cybersecurity Schema Framework
(classes, ``activity_id``, ``status_id``, ``actor``, ``src_endpoint``,
``metadata``...), and binds the entry to its place: ``metadata.log_name`` is
the log's origin and ``metadata.sequence`` its index, so an entry copied to
another position or another log no longer verifies. See ``docs/audit.md``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import IntEnum
from itertools import repeat
from typing import Any

import orjson
import rfc8785

from rempart.audit.errors import ExportError
from rempart.audit.events import AuditEvent
from rempart.audit.masking import mask_text, mask_value, unmasked_json

SCHEMA_VERSION = "1.3.0"
"""The OCSF version the entries align with."""
PRODUCT = {"name": "Rempart", "vendor_name": "Rempart", "feature": {"name": "audit"}}


class OcsfClass(IntEnum):
    """The OCSF event classes audit entries use."""

    DETECTION_FINDING = 2004
    ACCOUNT_CHANGE = 3001
    AUTHENTICATION = 3002
    ENTITY_MANAGEMENT = 3004
    USER_ACCESS_MANAGEMENT = 3005
    API_ACTIVITY = 6003
    DATASTORE_ACTIVITY = 6005


# activity_id per class, keyed by the verb (the part of the action after its last dot).
ACTIVITIES: dict[OcsfClass, dict[str, int]] = {
    OcsfClass.DETECTION_FINDING: {"create": 1, "update": 2, "close": 3},
    OcsfClass.ACCOUNT_CHANGE: {
        "create": 1,
        "enable": 2,
        "password_change": 3,
        "password_reset": 4,
        "disable": 5,
        "delete": 6,
        "attach_policy": 7,
        "detach_policy": 8,
        "lock": 9,
        "mfa_enable": 10,
        "mfa_disable": 11,
        "unlock": 12,
    },
    OcsfClass.AUTHENTICATION: {"logon": 1, "login": 1, "logoff": 2, "logout": 2, "step_up": 99},
    OcsfClass.ENTITY_MANAGEMENT: {
        "create": 1,
        "read": 2,
        "update": 3,
        "delete": 4,
        "move": 5,
        "enroll": 6,
        "unenroll": 7,
        "enable": 8,
        "disable": 9,
        "activate": 10,
        "deactivate": 11,
        "suspend": 12,
        "resume": 13,
        "revoke": 9,
        "rotate": 3,
    },
    OcsfClass.USER_ACCESS_MANAGEMENT: {"assign": 1, "grant": 1, "revoke": 2},
    OcsfClass.API_ACTIVITY: {"create": 1, "read": 2, "list": 2, "update": 3, "delete": 4},
    OcsfClass.DATASTORE_ACTIVITY: {
        "read": 1,
        "get": 1,
        "update": 2,
        "connect": 3,
        "query": 4,
        "search": 4,
        "write": 5,
        "create": 6,
        "delete": 7,
        "list": 8,
        "export": 8,
        "encrypt": 9,
        "decrypt": 10,
        "unmask": 10,
    },
}
OTHER_ACTIVITY = 99

# Resource types that hold customer data: their accesses are Datastore Activity.
_DATA_RESOURCES = {
    "interaction",
    "customer",
    "recording",
    "transcript",
    "transcript_segment",
    "payment",
    "contact",
}
_CLASS_BY_RESOURCE = {
    "session": OcsfClass.AUTHENTICATION,
    "login": OcsfClass.AUTHENTICATION,
    "user": OcsfClass.ACCOUNT_CHANGE,
    "account": OcsfClass.ACCOUNT_CHANGE,
    "role": OcsfClass.USER_ACCESS_MANAGEMENT,
    "permission": OcsfClass.USER_ACCESS_MANAGEMENT,
    "grant": OcsfClass.USER_ACCESS_MANAGEMENT,
    "alert": OcsfClass.DETECTION_FINDING,
    "finding": OcsfClass.DETECTION_FINDING,
    "tenant": OcsfClass.ENTITY_MANAGEMENT,
    "token": OcsfClass.ENTITY_MANAGEMENT,
    "machine_token": OcsfClass.ENTITY_MANAGEMENT,
    "key": OcsfClass.ENTITY_MANAGEMENT,
    "setting": OcsfClass.ENTITY_MANAGEMENT,
    "policy": OcsfClass.ENTITY_MANAGEMENT,
    "team": OcsfClass.ENTITY_MANAGEMENT,
    "queue": OcsfClass.ENTITY_MANAGEMENT,
}


def classify(event: AuditEvent) -> OcsfClass:
    """The OCSF class of an event: explicit, else by resource type, else API Activity."""
    return _classify(event.class_uid, event.resource_type)


@functools.lru_cache(maxsize=1024)
def _classify(class_uid: int | None, resource_type: str) -> OcsfClass:
    if class_uid is not None:
        try:
            return OcsfClass(class_uid)
        except ValueError as exc:
            raise ValueError(f"unsupported OCSF class_uid {class_uid}") from exc
    if resource_type in _DATA_RESOURCES:
        return OcsfClass.DATASTORE_ACTIVITY
    return _CLASS_BY_RESOURCE.get(resource_type, OcsfClass.API_ACTIVITY)


@functools.lru_cache(maxsize=1024)
def activity_id(cls: OcsfClass, action: str) -> int:
    """The OCSF activity of ``action`` (its verb after the last dot) in class ``cls``."""
    verb = action.rsplit(".", 1)[-1].lower()
    return ACTIVITIES[cls].get(verb, OTHER_ACTIVITY)


def _time_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("audit event time must be timezone-aware")
    return int(value.timestamp() * 1000)


def _time_dt(value: datetime) -> str:
    return utc_iso(value)[:26] + "Z"


def to_ocsf(event: AuditEvent, *, log_name: str, sequence: int, uid: str) -> dict[str, Any]:
    """The OCSF-aligned object of one event at position ``sequence`` of log ``log_name``."""
    cls = classify(event)
    act = activity_id(cls, event.action)
    failed = event.outcome != "success"
    entry: dict[str, Any] = {
        "class_uid": int(cls),
        "category_uid": int(cls) // 1000,
        "activity_id": act,
        "type_uid": int(cls) * 100 + act,
        "severity_id": 1,
        "time": _time_ms(event.time),
        "time_dt": _time_dt(event.time),
        "status_id": 2 if failed else 1,
        "status": "Failure" if failed else "Success",
        "actor": {"user": {"type": event.actor.type, "uid": event.actor.id}},
        "api": {"operation": event.action},
        "resources": [{"type": event.resource_type}],
        "metadata": {
            "version": SCHEMA_VERSION,
            "product": PRODUCT,
            "uid": uid,
            "log_name": log_name,
            "sequence": sequence,
        },
    }
    if event.resource_id is not None:
        entry["resources"][0]["uid"] = event.resource_id
    if event.tenant_id:
        entry["metadata"]["tenant_uid"] = str(event.tenant_id)
    if event.request_id:
        entry["metadata"]["correlation_uid"] = event.request_id
    if failed and event.reason:
        entry["status_detail"] = mask_text(event.reason)
    if event.source_ip:
        entry["src_endpoint"] = {"ip": event.source_ip}
    if event.user_agent:
        entry["http_request"] = {"user_agent": mask_text(event.user_agent[:300])}
    unmapped: dict[str, Any] = {}
    if event.details:
        unmapped["details"] = mask_value(event.details)
    if event.before is not None or event.after is not None:
        unmapped["change"] = {
            "before": mask_value(event.before),
            "after": mask_value(event.after),
        }
    if unmapped:
        entry["unmapped"] = unmapped
    return entry


_MAX_SAFE_INT = 2**53 - 1
# Lead bytes of 4-byte UTF-8 sequences: characters outside the Basic Multilingual Plane.
_ASTRAL = re.compile(rb"[\xf0-\xf4]")
_FAST_DUMPS = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


def _plain(value: Any) -> bool:
    """True when the standard library's JSON writer yields RFC 8785 bytes for ``value``.

    That holds for strings without lone surrogates, safe integers, booleans,
    null, lists and objects whose keys sort the same by code point as by
    UTF-16 code unit (no key outside the Basic Multilingual Plane). Floats
    and the rest take the general path.
    """
    kind = type(value)
    if kind is str:
        return value.isascii() or _encodable(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or _bmp(key)):
                return False
            if not _plain(item):
                return False
        return True
    if kind is list:
        return all(_plain(item) for item in value)
    if kind is int:
        return bool(-_MAX_SAFE_INT <= value <= _MAX_SAFE_INT)
    return value is None or kind is bool


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _bmp(key: str) -> bool:
    return _encodable(key) and max(key) <= "\uffff"


def canonical(obj: Mapping[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON object: the exact bytes hashed into the log.

    Entries are almost always plain (no floats, BMP keys), for which the C
    JSON encoder with sorted keys and no whitespace already writes the JCS
    form, about 20 times faster than the general implementation; the
    property tests check both paths agree.
    """
    value = dict(obj)
    if _plain(value):
        return _FAST_DUMPS(value).encode("utf-8")
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"audit entry cannot be canonicalized: {exc}") from exc


def encode_ocsf(entry: Mapping[str, Any]) -> bytes:
    """Canonical bytes of an object made by ``to_ocsf``, in one pass of the C encoder.

    ``to_ocsf`` writes only strings, lists, objects with string keys and
    integers well inside the safe range (masking turns floats into strings
    and long integers into marks), so the C encoder's sorted, compact output
    is already RFC 8785 unless an object key lies outside the Basic
    Multilingual Plane (code-point and UTF-16 orders differ there). Such
    characters are the only 4-byte UTF-8 sequences, so the bytes are checked
    for them (a C-level scan) instead of walking the object first; a hit
    takes the general path. A lone surrogate fails the UTF-8 encoding.
    """
    try:
        data = _FAST_DUMPS(entry).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("audit entry cannot be canonicalized: lone surrogate") from exc
    if data.isascii() or _ASTRAL.search(data) is None:
        return data
    return canonical(entry)


_str = json.encoder.encode_basestring
"""The C string writer the sorted compact encoder itself uses (``ensure_ascii=False``)."""
_PRODUCT_JSON = _FAST_DUMPS(PRODUCT)


def _part(value: Any) -> str:
    """Canonical text of a masked value (``details``, ``before``, ``after``).

    Masked values hold only strings, safe integers, booleans, null, lists and
    objects with string keys, for which orjson's sorted compact output is the
    standard library's (same escapes, same code-point key order), about four
    times faster; what orjson refuses (a lone surrogate, an odd type) takes the
    standard library's writer as before.
    """
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        text: str = _FAST_DUMPS(value)
    else:
        if data.isascii() or not data.translate(None, _NOT_ASTRAL_LEAD):
            return data.decode("utf-8")
        text = data.decode("utf-8")
    if text.isascii() or max(text) <= "\uffff":
        return text
    # A key outside the Basic Multilingual Plane: the general path (RFC 8785
    # serialises nested values independently, so a part can be done alone).
    return canonical({"v": value}).decode("utf-8")[5:-1]


_AS_GIVEN = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
"""orjson options under which it refuses what ``mask_value`` would rewrite by type
(dates, dataclasses, subclasses of str/int/dict/list) instead of encoding it."""


def masked_part(value: Any) -> tuple[Any, str]:
    """(``mask_value(value)``, its canonical text), skipping the walk when nothing is masked.

    A dictionary is first written by orjson as given; when that text shows
    nothing ``mask_value`` would change (``unmasked_json``) the value is its
    own masked form and the text is already canonical (ASCII, so no key
    outside the Basic Multilingual Plane); the value is then returned as
    given (a tuple in it stays a tuple: equal to the walk's result as JSON).
    Anything else takes the walk. A property test checks both ways agree.
    """
    if type(value) is dict:
        try:
            data = orjson.dumps(value, option=_AS_GIVEN)
        except orjson.JSONEncodeError:
            pass
        else:
            if unmasked_json(data):
                return value, data.decode("ascii")
    masked = mask_value(value)
    return masked, _part(masked)


def utc_iso(value: datetime) -> str:
    """``value`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (aware datetimes only)."""
    zone = value.tzinfo
    if zone is UTC:  # the usual case: no conversion to make
        return value.isoformat(timespec="microseconds")
    if zone is None:
        raise ValueError("audit event time must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


@functools.lru_cache(maxsize=256)
def _header(class_uid: int | None, resource_type: str, action: str) -> tuple[int, str, str, str]:
    """(class, and the fixed texts around the actor and at the end) for a kind of event."""
    cls = _classify(class_uid, resource_type)
    act = activity_id(cls, action)
    head = f'{{"activity_id":{act},"actor":{{"user":{{"type":'
    middle = (
        f',"api":{{"operation":{_str(action)}}},"category_uid":{int(cls) // 1000},'
        f'"class_uid":{int(cls)}'
    )
    tail = f',"type_uid":{int(cls) * 100 + act}'
    return int(cls), head, middle, tail


def encode_event_fast(
    event: AuditEvent,
    *,
    log_name: str,
    sequence: int,
    uid: str,
    iso: str | None = None,
    tenant: str | None = None,
) -> tuple[bytes, int, Any, str | None]:
    """``encode_ocsf(to_ocsf(...))`` written directly: (leaf data, class, masked details,
    and their canonical JSON text, or None without details).

    The entry's keys are fixed and known in sorted order, so its canonical text
    is assembled from pieces, each string written by the C encoder's own string
    writer and each free-form part (details, change) by the C encoder, without
    building and then sorting the whole object. A property test checks the bytes
    equal ``encode_ocsf(to_ocsf(...))`` on arbitrary events. ``iso`` and
    ``tenant`` are ``utc_iso(event.time)`` and ``str(event.tenant_id)`` when the
    caller has them already.
    """
    cls, head, middle, type_tail = _header(event.class_uid, event.resource_type, event.action)
    failed = event.outcome != "success"
    time = event.time
    actor = event.actor
    user_agent = event.user_agent
    agent = ""
    if user_agent:
        agent = f',"http_request":{{"user_agent":{_str(mask_text(user_agent[:300]))}}}'
    request_id = event.request_id
    correlation = f'"correlation_uid":{_str(request_id)},' if request_id else ""
    tenant_id = event.tenant_id
    tenant = f',"tenant_uid":{_str(tenant or str(tenant_id))}' if tenant_id else ""
    resource_id = event.resource_id
    resource = "" if resource_id is None else f',"uid":{_str(resource_id)}'
    source_ip = event.source_ip
    source = f',"src_endpoint":{{"ip":{_str(source_ip)}}}' if source_ip else ""
    if failed:
        reason = event.reason
        status = (
            f',"status":"Failure","status_detail":{_str(mask_text(reason))},"status_id":2'
            if reason
            else ',"status":"Failure","status_id":2'
        )
    else:
        status = ',"status":"Success","status_id":1'
    millis = _time_ms(time)  # refuses a naive time first
    details: Any = None
    details_text: str | None = None
    unmapped = ""
    change = event.before is not None or event.after is not None
    if event.details or change:
        if event.details:
            details, details_text = masked_part(event.details)
        if change:
            after, before = masked_part(event.after)[1], masked_part(event.before)[1]
            changed = f'"change":{{"after":{after},"before":{before}}}'
            inner = f'{changed},"details":{details_text}' if details_text else changed
        else:
            inner = f'"details":{details_text}'
        unmapped = f',"unmapped":{{{inner}}}'
    text = (
        f'{head}{_str(actor.type)},"uid":{_str(actor.id)}}}}}{middle}{agent}'
        f',"metadata":{{{correlation}"log_name":{_str(log_name)},"product":{_PRODUCT_JSON}'
        f',"sequence":{sequence}{tenant},"uid":{_str(uid)},"version":"{SCHEMA_VERSION}"}}'
        f',"resources":[{{"type":{_str(event.resource_type)}{resource}}}],"severity_id":1'
        f'{source}{status},"time":{millis},"time_dt":"{(iso or utc_iso(time))[:26]}Z"'
        f"{type_tail}{unmapped}}}"
    )
    try:
        return text.encode("utf-8"), cls, details, details_text
    except UnicodeEncodeError as exc:
        raise ValueError("audit entry cannot be canonicalized: lone surrogate") from exc


def encode_event(event: AuditEvent, *, log_name: str, sequence: int, uid: str) -> bytes:
    """The canonical leaf data of an event."""
    return encode_ocsf(to_ocsf(event, log_name=log_name, sequence=sequence, uid=uid))


class _NeedsGeneralPath(Exception):
    """Raised by the fast parser at the first number RFC 8785 writes differently."""


def _flag_number(text: str) -> float:
    raise _NeedsGeneralPath(text)


def _number(text: str) -> int | float:
    """General path: RFC 8785 numbers are IEEE doubles (a large integer means its double)."""
    if any(c in text for c in ".eE"):
        return float(text)
    value = int(text)
    if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return value
    try:
        return float(value)
    except OverflowError as exc:
        raise ValueError("number out of range") from exc


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _fast_int(text: str) -> int:
    """Fast path: integers of up to 15 characters are safe (2**53 has 16 digits)."""
    if len(text) > 15:
        raise _NeedsGeneralPath(text)
    return int(text)


# Fast: floats and long integers abort to the general path (a parse hook per
# number is cheaper than scanning the text for long digit runs first, and has no
# false alarm on digits inside strings).
_FAST_DECODER = json.JSONDecoder(
    parse_float=_flag_number, parse_int=_fast_int, parse_constant=_refuse_constant
)
_GENERAL_DECODER = json.JSONDecoder(
    parse_float=_number, parse_int=_number, parse_constant=_refuse_constant
)


def _loads(decoder: json.JSONDecoder, text: str) -> Any:
    try:
        return decoder.decode(text)
    except ValueError as exc:  # JSONDecodeError
        raise ExportError("entry is not valid JSON") from exc


def decode_entry_text(text: str) -> dict[str, Any]:
    """Parse leaf data given as text, refusing anything that is not its own canonical form.

    The leaf bytes are ``text`` in UTF-8 (a lone surrogate is refused). Without
    floats, integers of 16 characters or more, or characters outside the Basic
    Multilingual Plane, the C encoder's sorted compact output is the canonical
    form (as in ``canonical``), so such entries are checked by one C parse and
    one C encode compared as text (UTF-8 encoding is one-to-one, so equal texts
    are equal bytes).
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ExportError("entry is not valid UTF-8 text (lone surrogate)") from exc
        general = max(text) > "\uffff"
    else:
        general = False
    if not general:
        try:
            obj = _loads(_FAST_DECODER, text)
        except _NeedsGeneralPath:
            general = True
    if general:
        obj = _loads(_GENERAL_DECODER, text)
    if not isinstance(obj, dict):
        raise ExportError("entry is not a JSON object")
    try:
        same = canonical(obj) == text.encode("utf-8") if general else _FAST_DUMPS(obj) == text
    except (ValueError, UnicodeEncodeError) as exc:
        raise ExportError("entry holds values RFC 8785 cannot encode") from exc
    if not same:
        raise ExportError("entry is not in RFC 8785 canonical form")
    return obj


_ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
# Floats are found outside strings without a per-byte regular expression (slow
# in CPython): "true" and "false" are removed (their "e" is not an exponent),
# then everything but quotes, ".", "e", "E" and backslashes is deleted; without
# a backslash every quote delimits a string, so the even pieces between quotes
# are the text outside strings, where a ".", "e" or "E" can only be a float's.
_NOT_ASTRAL_LEAD = bytes(c for c in range(256) if not 0xF0 <= c <= 0xF4)
"""Deleting these leaves the lead bytes of 4-byte UTF-8 sequences (characters beyond the BMP)."""
_SKELETON_DELETE = bytes(c for c in range(256) if c not in b'".eE\\')


def _has_float_token(joined: bytes) -> bool | None:
    """Whether compact JSON text holds a number with a fraction or exponent (None: unsure)."""
    skeleton = joined.replace(b"true", b"").replace(b"false", b"").translate(None, _SKELETON_DELETE)
    if b"\\" in skeleton:
        return None
    return any(skeleton.split(b'"')[::2])


def canonical_objects(datas: list[bytes]) -> list[Any] | None:
    """The parsed values of ``datas`` if each is provably its own RFC 8785 form, else None.

    The fast test (orjson, one C call per item): parse, re-encode with sorted
    keys and compare the bytes. Its output is RFC 8785 except for floats
    (another number format: any number with a fraction or an exponent, found
    outside strings, answers None), integers beyond 2**53 (refused by
    ``OPT_STRICT_INTEGER``; larger ones parse as floats) and keys outside the
    Basic Multilingual Plane (code-point and UTF-16 orders differ): any of
    these, and any mismatch, answers None, and the caller decides with
    ``decode_entry_text``, which names the problem. None is "undecided", never
    "invalid"; a property test checks that whatever this accepts,
    ``decode_entry_text`` accepts with the same value.
    """
    try:
        objs = list(map(orjson.loads, datas))
        again = list(map(orjson.dumps, objs, repeat(None), repeat(_ORJSON_CANONICAL)))
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    if again != datas:
        return None
    joined = b"\n".join(datas)
    if not joined.isascii() and joined.translate(None, _NOT_ASTRAL_LEAD):
        return None
    if _has_float_token(joined) is not False:
        return None
    return objs


def decode_entry(data: bytes) -> dict[str, Any]:
    """Parse leaf data (bytes), refusing anything that is not exactly its own canonical form."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportError("entry is not valid JSON") from exc
    return decode_entry_text(text)


__all__ = [
    "ACTIVITIES",
    "SCHEMA_VERSION",
    "OcsfClass",
    "activity_id",
    "canonical",
    "canonical_objects",
    "classify",
    "decode_entry",
    "decode_entry_text",
    "encode_event",
    "encode_event_fast",
    "encode_ocsf",
    "masked_part",
    "to_ocsf",
    "utc_iso",
]
