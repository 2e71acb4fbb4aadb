"""The keypad state machine: DTMF keys in, card fields out.

Fields are entered in order: card number, expiry (MMYY), security code.
``#`` ends the current field, ``*`` clears it. The expiry ends by itself at
four digits, the security code at the length the card needs, the card number
at nineteen. Applying keys is pure: it returns a new ``Entry`` or raises,
so a rejected batch of keys changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from rempart.contact.payments.card import (
    EXPIRY_LEN,
    PAN_MAX,
    check_cvv,
    check_expiry,
    check_pan,
    cvv_length,
)
from rempart.contact.payments.errors import FieldRejected, KeypadRejected, TooManyDigits

Field = Literal["pan", "expiry", "cvv"]
FIELDS: tuple[Field, ...] = ("pan", "expiry", "cvv")
KEYS = frozenset("0123456789#*")
MAX_KEYS_PER_REQUEST = 32


@dataclass(frozen=True, slots=True)
class Entry:
    """What the caller has typed so far; ``field`` is None once every field is complete."""

    pan: str = ""
    expiry: str = ""
    cvv: str = ""
    field: Field | None = "pan"

    def __repr__(self) -> str:
        # Digits never show: only how many of each were typed.
        return (
            f"Entry(pan={len(self.pan)} digits, expiry={len(self.expiry)} digits, "
            f"cvv={len(self.cvv)} digits, field={self.field!r})"
        )

    def to_bytes(self) -> bytes:
        doc = {"pan": self.pan, "expiry": self.expiry, "cvv": self.cvv, "field": self.field}
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Entry:
        doc = json.loads(raw)
        return cls(pan=doc["pan"], expiry=doc["expiry"], cvv=doc["cvv"], field=doc["field"])

    @property
    def complete(self) -> bool:
        return self.field is None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A field that failed its check: the entry with that field cleared, and why."""

    entry: Entry
    error: FieldRejected


def _with(entry: Entry, field: Field, value: str) -> Entry:
    if field == "pan":
        return replace(entry, pan=value)
    if field == "expiry":
        return replace(entry, expiry=value)
    return replace(entry, cvv=value)


def _max_len(entry: Entry, field: Field) -> int:
    if field == "pan":
        return PAN_MAX
    if field == "expiry":
        return EXPIRY_LEN
    return cvv_length(entry.pan)


def _close_field(entry: Entry, field: Field, now: datetime) -> Entry:
    """Check the field just ended and move to the next one (raises ``FieldRejected``)."""
    if field == "pan":
        check_pan(entry.pan)
    elif field == "expiry":
        check_expiry(entry.expiry, now)
    else:
        check_cvv(entry.pan, entry.cvv)
    index = FIELDS.index(field)
    return replace(entry, field=FIELDS[index + 1] if index + 1 < len(FIELDS) else None)


def check_keys(keys: str) -> None:
    if not keys or len(keys) > MAX_KEYS_PER_REQUEST:
        raise KeypadRejected(f"send 1 to {MAX_KEYS_PER_REQUEST} keys per request")
    if not all(k in KEYS for k in keys):
        raise KeypadRejected("keys must be the digits 0-9, '#' (end of field) or '*' (clear)")


def _check_confined(entry: Entry, keys: str, field: Field) -> None:
    """Keys sent for a named field must end within it: no spill into the next field."""
    length, limit, last = len(getattr(entry, field)), _max_len(entry, field), len(keys) - 1
    for i, key in enumerate(keys):
        if key == "*":
            length = 0
        elif (key == "#" or (length := length + 1) >= limit) and i != last:
            raise TooManyDigits(f"too many digits for the {field} field")


def apply_keys(
    entry: Entry, keys: str, now: datetime, *, field: Field | None = None
) -> Entry | Rejection:
    """The entry after ``keys``, or the rejection of a field they completed.

    Raises ``KeypadRejected`` (nothing changes) for characters outside the
    keypad, for digits after the last field, and, when the caller names the
    ``field`` the keys are for, for keys beyond that field's end. Without a
    named field, digits past a field's end flow into the next field (callers
    type ahead). A field that ends but fails its check yields a ``Rejection``:
    that field is cleared and the keys after it are ignored.
    """
    check_keys(keys)
    if field is not None:
        if field != entry.field:
            raise KeypadRejected(f"the entry expects the {entry.field or 'no'} field")
        _check_confined(entry, keys, field)
    for key in keys:
        current = entry.field
        if current is None:
            raise TooManyDigits("every field is already complete")
        value: str = getattr(entry, current)
        if key == "*":
            entry = _with(entry, current, "")
            continue
        if key != "#":
            value += key
            entry = _with(entry, current, value)
            if len(value) < _max_len(entry, current):
                continue
        try:
            entry = _close_field(entry, current, now)
        except FieldRejected as exc:
            return Rejection(_with(entry, current, ""), exc)
    return entry


__all__ = [
    "FIELDS",
    "MAX_KEYS_PER_REQUEST",
    "Entry",
    "Field",
    "Rejection",
    "apply_keys",
    "check_keys",
]
