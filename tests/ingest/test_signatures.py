"""The Rempart-Signature header: parsing refuses anything odd, MACs bind timestamp and body."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rempart.ingest.errors import SignatureMalformed, SignatureMissing
from rempart.ingest.signatures import (
    MAX_SIGNATURES,
    delivery_digest,
    header_value,
    matches,
    new_secret,
    parse_header,
    sign,
)

SECRET = "whsec_" + "k" * 43
OTHER = "whsec_" + "o" * 43
BODY = b'{"external_id":"chat-1"}'
T = 1_796_000_000


def test_a_signature_made_with_the_secret_matches() -> None:
    header = parse_header(header_value(T, [sign(SECRET, T, BODY)]))
    assert header.timestamp == T
    assert matches(SECRET, header, BODY)


def test_another_secret_does_not_match() -> None:
    header = parse_header(header_value(T, [sign(OTHER, T, BODY)]))
    assert not matches(SECRET, header, BODY)


def test_a_tampered_body_does_not_match() -> None:
    header = parse_header(header_value(T, [sign(SECRET, T, BODY)]))
    assert not matches(SECRET, header, BODY.replace(b"1", b"2"))
    assert not matches(SECRET, header, BODY + b" ")


def test_the_timestamp_is_signed_too() -> None:
    moved = header_value(T + 1, [sign(SECRET, T, BODY)])
    assert not matches(SECRET, parse_header(moved), BODY)


def test_any_of_several_v1_values_may_match_during_a_rotation() -> None:
    header = parse_header(header_value(T, [sign(OTHER, T, BODY), sign(SECRET, T, BODY)]))
    assert matches(SECRET, header, BODY)
    assert matches(OTHER, header, BODY)


def test_unknown_schemes_are_ignored() -> None:
    value = f"t={T},v0=abc,v2=zzz,v1={sign(SECRET, T, BODY)}"
    assert matches(SECRET, parse_header(value), BODY)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_header_is_refused(value: str | None) -> None:
    with pytest.raises(SignatureMissing):
        parse_header(value)


@pytest.mark.parametrize(
    "value",
    [
        f"v1={'a' * 64}",  # no timestamp
        f"t={T}",  # no signature
        f"t={T},t={T},v1={'a' * 64}",  # two timestamps
        f"t=-5,v1={'a' * 64}",
        f"t=12.5,v1={'a' * 64}",
        f"t=1234567890123,v1={'a' * 64}",  # 13 digits
        f"t={T},v1={'A' * 64}",  # upper-case hex
        f"t={T},v1={'a' * 63}",
        f"t={T},v1=zz{'a' * 62}",
        f"t={T};v1={'a' * 64}",
        "garbage",
        f"t={T}," + ",".join([f"v1={'a' * 64}"] * (MAX_SIGNATURES + 1)),
        f"t={T},v1={'a' * 64}," + "x=" + "y" * 3000,
    ],
)
def test_a_malformed_header_is_refused(value: str) -> None:
    with pytest.raises(SignatureMalformed):
        parse_header(value)


def test_secrets_are_fresh_and_prefixed() -> None:
    a, b = new_secret(), new_secret()
    assert a != b
    assert a.startswith("whsec_")
    assert len(a) >= 6 + 43


def test_the_delivery_digest_names_timestamp_and_body_not_the_secret() -> None:
    one = parse_header(header_value(T, [sign(SECRET, T, BODY)]))
    two = parse_header(header_value(T, [sign(OTHER, T, BODY)]))
    assert delivery_digest(one, BODY) == delivery_digest(two, BODY)
    later = parse_header(header_value(T + 1, [sign(SECRET, T + 1, BODY)]))
    assert delivery_digest(later, BODY) != delivery_digest(one, BODY)
    assert delivery_digest(one, BODY + b"x") != delivery_digest(one, BODY)


@given(body=st.binary(max_size=256), t=st.integers(0, 10**12 - 1), flip=st.integers(0, 255))
def test_signatures_verify_and_any_changed_byte_breaks_them(body: bytes, t: int, flip: int) -> None:
    header = parse_header(header_value(t, [sign(SECRET, t, body)]))
    assert matches(SECRET, header, body)
    if body:
        i = flip % len(body)
        changed = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        assert not matches(SECRET, header, changed)
