"""Checks on card fields as typed on a keypad, and a wrapper that hides them.

Pure functions of digits and a date: no storage, no logging. Failures raise
the precise ``FieldRejected`` subclass without ever quoting the digits.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from rempart.contact.payments.errors import (
    CardExpired,
    CardNumberInvalid,
    CvvInvalid,
    ExpiryInvalid,
)

PAN_MIN, PAN_MAX = 12, 19
EXPIRY_LEN = 4
MAX_EXPIRY_YEARS = 20


class CardSecret:
    """A card value (PAN or CVV) that never shows itself in a repr, str or log."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "CardSecret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CardSecret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("CardSecret", len(self._value)))


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def check_pan(digits: str) -> None:
    if not PAN_MIN <= len(digits) <= PAN_MAX or not luhn_ok(digits):
        raise CardNumberInvalid(f"the card number must be {PAN_MIN}-{PAN_MAX} digits passing Luhn")


def cvv_length(pan: str) -> int:
    """Four digits for American Express (34, 37), three for the other brands."""
    return 4 if pan[:2] in ("34", "37") else 3


def check_cvv(pan: str, cvv: str) -> None:
    expected = cvv_length(pan)
    if len(cvv) != expected:
        raise CvvInvalid(f"the security code of this card has {expected} digits")


def expiry_end(mmyy: str) -> datetime:
    """The first instant after the card's last valid day (cards run to the month's end)."""
    if len(mmyy) != EXPIRY_LEN or not mmyy.isdigit():
        raise ExpiryInvalid("the expiry date must be four digits, MMYY")
    month, year = int(mmyy[:2]), 2000 + int(mmyy[2:])
    if not 1 <= month <= 12:
        raise ExpiryInvalid("the expiry month must be 01 to 12")
    last_day = calendar.monthrange(year, month)[1]
    return datetime(year, month, last_day, 23, 59, 59, tzinfo=UTC).replace(microsecond=999999)


def check_expiry(mmyy: str, now: datetime) -> datetime:
    """The card's end of validity; raises if the date is malformed, past or implausible."""
    end = expiry_end(mmyy)
    if end <= now:
        raise CardExpired("the card has expired")
    if end.year > now.year + MAX_EXPIRY_YEARS:
        raise ExpiryInvalid(f"the expiry date is more than {MAX_EXPIRY_YEARS} years away")
    return end


def mask_pan(digits_entered: int, last_four: str | None) -> str:
    """``**** **** **** 1234``: stars for hidden digits in groups of four, then the last four."""
    hidden = digits_entered - len(last_four) if last_four else digits_entered
    stars = "*" * max(hidden, 0)
    groups = [stars[i : i + 4] for i in range(0, len(stars), 4)]
    return " ".join([*groups, last_four] if last_four else groups)


__all__ = [
    "CardSecret",
    "check_cvv",
    "check_expiry",
    "check_pan",
    "cvv_length",
    "expiry_end",
    "luhn_ok",
    "mask_pan",
]
