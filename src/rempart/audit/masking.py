"""Mask secrets and personal data in the free-form parts of an event before it is hashed.

What enters the log can never be removed from it (that is the point), so
the masking happens before encoding: a value under a key that names a secret
becomes ``"[secret]"``, one under a key that names personal data becomes
``"[personal]"``, and strings that look like an e-mail address or a card or
account number are masked wherever they appear. The rules are deliberately
broad: a false positive costs a detail, a false negative costs a leak that
cannot be undone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

SECRET_MARK = "[secret]"  # noqa: S105 - a placeholder, not a secret
PERSONAL_MARK = "[personal]"

_SECRET_KEY = re.compile(
    r"pass(word|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|authorization"
    r"|cookie|session[_-]?id|otp|pin$|cvv|cvc|signature",
    re.IGNORECASE,
)
_PERSONAL_KEY = re.compile(
    r"e[-_]?mail|phone|mobile|msisdn|address|street|postcode|zip|birth|dob|^name$|first[_-]?name"
    r"|last[_-]?name|full[_-]?name|display[_-]?name|surname|iban|bic|card|pan$|ssn|nir|passport"
    r"|national[_-]?id|tax[_-]?id|transcript|text|body|content",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# 9+ digits, optionally grouped: card numbers, IBAN digit runs, phone numbers, NIR.
_LONG_NUMBER = re.compile(r"\+?\d(?:[ \-.]?\d){8,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")


# Every pattern above needs an "@" or a digit: a string with neither is returned as is.
_MAYBE_SENSITIVE = re.compile(r"[@\d]")


# In a JSON text: what makes ``mask_value`` rewrite a value whatever its key
# (a digit: numbers and long digit runs; "@": e-mail addresses) and a
# backslash (an escaped character, which the key patterns would see unescaped).
_REWRITTEN_JSON = re.compile(rb"[@0-9\\\\]")
# Without backslashes a JSON string holds no quote, and only a key is followed by ":".
_JSON_KEY = re.compile(rb'"([^"]*)":')


@functools.lru_cache(maxsize=4096)
def _key_marks(key: bytes) -> bool:
    return key_mark(key.decode("ascii")) is not None


def unmasked_json(data: bytes) -> bool:
    """True when ``data``, the JSON text of a value, is ASCII and ``mask_value`` keeps it as is.

    A conservative test on the text instead of a walk over the value: no
    digit, "@" or escape (so no string ``mask_text`` changes, no number, no
    float), no ``null`` (None, and what orjson writes for NaN and
    infinities, which ``mask_value`` turns into text) and no key that names a
    secret or personal data. A property test checks the claim against
    ``mask_value``.
    """
    if not data.isascii() or _REWRITTEN_JSON.search(data) is not None or b"null" in data:
        return False
    return not any(map(_key_marks, _JSON_KEY.findall(data)))


def mask_text(value: str) -> str:
    """Mask e-mail addresses, IBANs and long digit runs inside a string."""
    if _MAYBE_SENSITIVE.search(value) is None:
        return value
    value = _EMAIL.sub(PERSONAL_MARK, value)
    value = _IBAN.sub(PERSONAL_MARK, value)
    return _LONG_NUMBER.sub(PERSONAL_MARK, value)


@functools.lru_cache(maxsize=4096)
def key_mark(key: str) -> str | None:
    """The mark a key imposes on its value (secret first, then personal), or None.

    Keys repeat across events, so the decision is made once per distinct key.
    """
    if _SECRET_KEY.search(key):
        return SECRET_MARK
    if _PERSONAL_KEY.search(key):
        return PERSONAL_MARK
    return None


def mask_value(value: Any, key: str = "") -> Any:
    """A JSON-compatible copy of ``value`` with secrets and personal data masked."""
    if key:
        mark = key_mark(key)
        if mark is not None:
            return mark if value is not None else None
    kind = type(value)
    if kind is str:
        return mask_text(value)
    if kind is list:
        return [mask_value(v) for v in value]
    if isinstance(value, Enum):  # its value, as JSON writers give it
        return mask_value(value.value, key)
    if isinstance(value, Mapping):
        return {str(k): mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return PERSONAL_MARK if len(str(abs(value))) >= 9 else value
    if isinstance(value, float):
        # Floats have no single canonical decimal form worth trusting in a log.
        return str(value)
    return mask_text(str(value))


__all__ = [
    "PERSONAL_MARK",
    "SECRET_MARK",
    "key_mark",
    "mask_text",
    "mask_value",
    "unmasked_json",
]
