"""The national phone check builds numbers directly; it must agree with ``phonenumbers.parse``."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rempart.redaction.recognizers.phone import _nsn_valid, _region_rules, _rules_valid, is_phone

_REGIONS = {"fr": ("FR", "GB", "US"), "en": ("GB", "US", "FR")}


def reference(digits: str, lang: str) -> bool:
    """The national-form check as written before, with ``phonenumbers.parse``."""
    n = len(digits)
    if not 9 <= n <= 11:
        return False
    for region in _REGIONS[lang]:
        if region in ("FR", "GB") and digits[0] != "0":
            continue
        if region == "FR" and n != 10:
            continue
        if region == "US" and not (
            (n == 10 and digits[0] in "23456789") or (n == 11 and digits[0] == "1")
        ):
            continue
        try:
            num = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number_for_region(num, region) or (
            region != "FR" and phonenumbers.is_valid_number(num)
        ):
            return True
    return False


@pytest.mark.parametrize(
    ("digits", "lang", "valid"),
    [
        ("0612345678", "fr", True),  # French mobile
        ("0142685300", "fr", True),  # Paris landline
        ("02079460000", "en", True),  # London
        ("07911123456", "en", True),  # UK mobile
        ("07700900123", "en", False),  # Ofcom drama range: not a real number
        ("2125550123", "en", True),  # New York
        ("12125550123", "en", True),  # US with its trunk 1
        ("0012345678", "fr", False),  # international prefix, not a national form
        ("0000000000", "fr", False),
        ("1234567890", "en", False),  # ten digits starting with 1: no US area code
        ("0612345", "fr", False),  # too short
    ],
)
def test_known_national_numbers(digits: str, lang: str, valid: bool) -> None:
    assert is_phone.__wrapped__(digits, False, lang) is valid
    assert reference(digits, lang) is valid


_PREFIXES = st.sampled_from(
    ["0", "01", "02", "06", "07", "07700", "020", "0800", "00", "1", "12", "2", "5", "8", "9"]
)


@settings(max_examples=300, deadline=None)
@given(
    prefix=_PREFIXES,
    rest=st.text(alphabet="0123456789", min_size=9, max_size=11),
    length=st.integers(min_value=9, max_value=11),
    lang=st.sampled_from(["fr", "en"]),
)
def test_same_verdict_as_phonenumbers_parse(prefix: str, rest: str, length: int, lang: str) -> None:
    digits = (prefix + rest)[:length]
    assert is_phone.__wrapped__(digits, False, lang) == reference(digits, lang)


_SHARED_REGIONS = sorted(
    {r for code in (1, 44) for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]} | {"FR"}
)


@settings(max_examples=800, deadline=None)
@given(
    region=st.sampled_from(_SHARED_REGIONS),
    nsn=st.text(alphabet="0123456789", min_size=1, max_size=13),
)
def test_one_pattern_per_length_gives_the_per_type_verdict(region: str, nsn: str) -> None:
    rules = _region_rules(region)
    expected = rules is not None and _rules_valid(nsn, rules)
    assert _nsn_valid(nsn, region) == expected


def test_one_pattern_per_length_known_numbers() -> None:
    assert _nsn_valid("612345678", "FR")
    assert _nsn_valid("2079460000", "GB")
    assert not _nsn_valid("7700900123", "GB")  # drama range
    assert _nsn_valid("2125550123", "US")
    assert not _nsn_valid("1234567890", "US")
