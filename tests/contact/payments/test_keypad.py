"""The keypad state machine and the card checks, without storage."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rempart.contact.payments import CardSecret, Entry, Rejection, apply_keys, mask_pan
from rempart.contact.payments.card import check_expiry, cvv_length, luhn_ok
from rempart.contact.payments.errors import (
    CardExpired,
    CardNumberInvalid,
    CvvInvalid,
    ExpiryInvalid,
    KeypadRejected,
    TooManyDigits,
)
from tests.contact.payments.conftest import AMEX, CVV, PAN

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
FULL = PAN + "#" + "1229" + CVV


def _entry(keys: str, entry: Entry | None = None) -> Entry:
    result = apply_keys(entry or Entry(), keys, NOW)
    assert isinstance(result, Entry)
    return result


@pytest.mark.parametrize(
    ("pan", "ok"),
    # Known-answer vectors: test card numbers published by the networks.
    [
        ("4111111111111111", True),
        ("5555555555554444", True),
        ("378282246310005", True),
        ("6011111111111117", True),
        ("4111111111111112", False),
        ("79927398713", True),  # the Luhn example of ISO/IEC 7812-1
        ("79927398710", False),
    ],
)
def test_luhn_known_answers(pan: str, ok: bool) -> None:
    assert luhn_ok(pan) is ok


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_exactly_one_check_digit_completes_any_number(body: str) -> None:
    assert sum(luhn_ok(body + d) for d in "0123456789") == 1


def test_a_whole_card_fills_every_field() -> None:
    entry = _entry(FULL)
    assert entry.complete
    assert (entry.pan, entry.expiry, entry.cvv) == (PAN, "1229", CVV)


@given(st.lists(st.integers(min_value=1, max_value=len(FULL) - 1), unique=True, max_size=8))
def test_splitting_the_keys_across_requests_changes_nothing(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(FULL)]
    entry = Entry()
    for start, end in itertools.pairwise(bounds):
        entry = _entry(FULL[start:end], entry)
    assert entry == _entry(FULL)


@given(st.text(alphabet="0123456789", max_size=18))
def test_star_always_empties_the_field(typed: str) -> None:
    entry = _entry(typed + "*") if typed else _entry("*")
    assert entry.pan == ""
    assert entry.field == "pan"


def test_the_entry_repr_shows_counts_not_digits() -> None:
    entry = _entry(FULL)
    assert PAN not in repr(entry)
    assert CVV not in repr(entry)
    assert "1229" not in repr(entry)
    assert Entry.from_bytes(entry.to_bytes()) == entry


def test_a_card_secret_never_shows_itself() -> None:
    secret = CardSecret(PAN)
    assert PAN not in repr(secret)
    assert PAN not in str(secret)
    assert PAN not in f"{secret}"
    assert secret.reveal() == PAN


@pytest.mark.parametrize("keys", ["4a", "#x", " ", "٣", "", "1" * 33])
def test_keys_outside_the_keypad_raise(keys: str) -> None:
    with pytest.raises(KeypadRejected):
        apply_keys(Entry(), keys, NOW)


@pytest.mark.parametrize(
    ("keys", "error"),
    [
        (PAN[:-1] + "0#", CardNumberInvalid),
        ("4111#", CardNumberInvalid),
        ("4" * 19, CardNumberInvalid),  # ends by itself at nineteen digits
        (PAN + "#0125", CardExpired),
        (PAN + "#1326", ExpiryInvalid),
        (PAN + "#0026", ExpiryInvalid),
        (PAN + "#1299", ExpiryInvalid),  # more than twenty years away
        (PAN + "#122912#", CvvInvalid),
        (AMEX + "#1229123#", CvvInvalid),
    ],
)
def test_a_field_failing_its_check_is_rejected_and_cleared(
    keys: str, error: type[Exception]
) -> None:
    result = apply_keys(Entry(), keys, NOW)
    assert isinstance(result, Rejection)
    assert isinstance(result.error, error)
    failed = result.entry.field
    assert failed is not None
    assert getattr(result.entry, failed) == ""
    assert PAN not in str(result.error)
    assert "1229" not in str(result.error)


def test_the_current_month_is_still_valid_and_last_month_is_not() -> None:
    assert check_expiry("1126", NOW).day == 30
    with pytest.raises(CardExpired):
        check_expiry("1026", NOW)


def test_keys_after_the_last_field_are_too_many() -> None:
    with pytest.raises(TooManyDigits):
        apply_keys(Entry(), FULL + "1", NOW)


def test_keys_for_a_named_field_must_end_within_it() -> None:
    after_pan = _entry(PAN + "#")
    with pytest.raises(TooManyDigits):
        apply_keys(after_pan, "12291", NOW, field="expiry")
    with pytest.raises(TooManyDigits):
        apply_keys(after_pan, "12#3", NOW, field="expiry")
    with pytest.raises(KeypadRejected):
        apply_keys(after_pan, "1", NOW, field="cvv")
    assert apply_keys(after_pan, "1*1229", NOW, field="expiry") == _entry("1229", after_pan)


def test_security_code_length_follows_the_brand() -> None:
    assert cvv_length(AMEX) == 4
    assert cvv_length(PAN) == 3


@pytest.mark.parametrize(
    ("digits", "last_four", "shown"),
    [
        (16, "7893", "**** **** **** 7893"),
        (15, "0005", "**** **** *** 0005"),
        (6, None, "**** **"),
        (0, None, ""),
    ],
)
def test_the_mask_shows_only_the_last_four(digits: int, last_four: str | None, shown: str) -> None:
    assert mask_pan(digits, last_four) == shown
