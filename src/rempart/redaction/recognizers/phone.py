"""Telephone numbers validated by ``phonenumbers`` (FR, GB, US, and any +CC number)."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Final

import phonenumbers
from phonenumbers import PhoneMetadata

_REGIONS: Final[dict[str, tuple[str, ...]]] = {
    "fr": ("FR", "GB", "US"),
    "en": ("GB", "US", "FR"),
}


_MAIN_REGION: Final[dict[int, str]] = {33: "FR", 44: "GB", 1: "US"}


_CODES: Final[dict[str, int]] = {"FR": 33, "GB": 44, "US": 1}


def _national(digits: str, region: str) -> phonenumbers.PhoneNumber | None:
    """``digits`` in national form (trunk prefix first, or US 10 digits) as a number.

    Builds the number directly (the trunk ``0``, or the US ``1``, dropped): what
    ``phonenumbers.parse`` gives for these forms, at a fraction of its cost. A
    national number starting with 0 goes through ``parse`` (leading zeros).
    """
    nsn = digits if region == "US" and len(digits) == 10 else digits[1:]
    if nsn[:1] in ("0", "") or not nsn.isascii() or not nsn.isdigit():
        try:
            return phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            return None
    return phonenumbers.PhoneNumber(country_code=_CODES[region], national_number=int(nsn))


_Desc = tuple[frozenset[int] | None, re.Pattern[str]]


def _desc(desc: object) -> _Desc | None:
    """A number description as (possible lengths or None for any, compiled pattern)."""
    pattern = getattr(desc, "national_number_pattern", None) if desc is not None else None
    if not pattern:
        return None
    lengths = tuple(getattr(desc, "possible_length", None) or ())
    return (frozenset(lengths) if lengths else None, re.compile(pattern))


@cache
def _region_rules(region: str) -> tuple[_Desc | None, tuple[_Desc, ...]] | None:
    """The region's general description and its number-type descriptions, compiled once.

    ``is_valid_number_for_region`` asks ``_number_type_helper`` for a type other
    than UNKNOWN: the general description must match, then any of the types
    (premium rate, toll free, shared cost, VoIP, personal, pager, UAN, voicemail,
    fixed line, and mobile when its pattern differs from the fixed line's).
    """
    md = PhoneMetadata.metadata_for_region(region, None)
    if md is None:
        return None
    kinds = [
        md.premium_rate,
        md.toll_free,
        md.shared_cost,
        md.voip,
        md.personal_number,
        md.pager,
        md.uan,
        md.voicemail,
        md.fixed_line,
    ]
    if not md.same_mobile_and_fixed_line_pattern:
        kinds.append(md.mobile)
    types = tuple(d for d in (_desc(k) for k in kinds) if d is not None)
    return _desc(md.general_desc), types


def _matches(nsn: str, desc: _Desc) -> bool:
    lengths, rx = desc
    return (lengths is None or len(nsn) in lengths) and rx.fullmatch(nsn) is not None


_Rules = tuple[_Desc | None, tuple[_Desc, ...]]


def _rules_valid(nsn: str, rules: _Rules) -> bool:
    """``_number_type_helper(nsn, metadata) != UNKNOWN`` on the compiled rules."""
    general, types = rules
    if general is None or not _matches(nsn, general):
        return False
    return any(_matches(nsn, d) for d in types)


@cache
def _length_rules(region: str, length: int) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """The region's rules for national significant numbers of one length: its general
    pattern and one pattern for the types that allow the length (a full match of the
    alternation is a full match of one of them); None when no number can pass."""
    rules = _region_rules(region)
    if rules is None:
        return None
    general, types = rules
    if general is None or (general[0] is not None and length not in general[0]):
        return None
    alternatives = [rx.pattern for lengths, rx in types if lengths is None or length in lengths]
    if not alternatives:
        return None
    return general[1], re.compile("|".join(f"(?:{a})" for a in alternatives))


def _nsn_valid(nsn: str, region: str) -> bool:
    """``_rules_valid(nsn, _region_rules(region))`` with one pattern per length."""
    rules = _length_rules(region, len(nsn))
    return (
        rules is not None
        and rules[0].fullmatch(nsn) is not None
        and rules[1].fullmatch(nsn) is not None
    )


def _valid_for_region(num: phonenumbers.PhoneNumber, region: str) -> bool:
    """``phonenumbers.is_valid_number_for_region(num, region)`` for FR, GB and US,
    with the region's patterns compiled once instead of looked up per check."""
    rules = _region_rules(region)
    if rules is None or num.country_code != _CODES[region]:
        return False
    return _rules_valid(phonenumbers.national_significant_number(num), rules)


_Shared = tuple[tuple[str, re.Pattern[str] | None, _Rules], ...]


@cache
def _shared_code_regions(country_code: int) -> _Shared | None:
    """The regions of a shared calling code in ``phonenumbers``' order, each with its
    leading-digits pattern (None: found by full validation) and compiled rules."""
    table = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = PhoneMetadata.metadata_for_region(region, None)
        rules = _region_rules(region)
        if metadata is None or rules is None:
            return None
        lead = re.compile(metadata.leading_digits) if metadata.leading_digits else None
        table.append((region, lead, rules))
    return tuple(table) if len(table) > 1 else None


def _valid_in_any_region(num: phonenumbers.PhoneNumber) -> bool:
    """``phonenumbers.is_valid_number`` for +1 and +44 (the codes that GB and US
    numbers share with other regions), on compiled patterns; other codes go to
    ``phonenumbers``.

    ``is_valid_number`` takes the first region (in the code's order) whose leading
    digits match or, for a region without leading digits, whose rules the number
    passes, and validates the number there; this does the same.
    """
    code = num.country_code or 0
    table = _shared_code_regions(code) if code in (1, 44) else None
    if table is None:
        return bool(phonenumbers.is_valid_number(num))
    return _valid_in_shared_regions(table, phonenumbers.national_significant_number(num))


def _valid_in_shared_regions(table: _Shared, nsn: str) -> bool:
    """The region search of ``_valid_in_any_region`` for a national significant number."""
    for region, lead, _rules in table:
        if lead is not None:
            if lead.match(nsn):
                return _nsn_valid(nsn, region)
        elif _nsn_valid(nsn, region):
            return True
    return False


@lru_cache(maxsize=8192)
def is_phone(digits: str, international: bool, lang: str) -> bool:
    """True when ``digits`` (no separators) is a valid number in one of our regions.

    ``international`` means the digits followed a ``+`` (or ``00``, already removed).
    """
    n = len(digits)
    if international:
        if not 8 <= n <= 15:
            return False
        try:
            num = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            return False
        # Checking one known region is much cheaper than finding the region
        # (+1 alone spans two dozen regions).
        region = _MAIN_REGION.get(num.country_code or 0)
        if region is not None:
            # Shared codes (+44 Jersey, +1 Canada...) fall back to the full check.
            return _valid_for_region(num, region) or _valid_in_any_region(num)
        return bool(phonenumbers.is_valid_number(num))
    if not 9 <= n <= 11:
        return False
    for region in _REGIONS.get(lang, _REGIONS["en"]):
        # National forms only: FR/GB start with the trunk 0, US with 2-9 (or 1 + 10).
        if region in ("FR", "GB") and digits[0] != "0":
            continue
        if region == "FR" and n != 10:
            continue
        if region == "US" and not (
            (n == 10 and digits[0] in "23456789") or (n == 11 and digits[0] == "1")
        ):
            continue
        nsn = digits if region == "US" and n == 10 else digits[1:]
        if nsn[:1] not in ("0", "") and nsn.isascii() and nsn.isdigit():
            # What _national builds, checked on its digits: the national significant
            # number of PhoneNumber(code, int(nsn)) is nsn itself (no leading zero).
            if _nsn_valid(nsn, region):
                return True
            if region != "FR":  # +44/+1 shared regions
                table = _shared_code_regions(_CODES[region])
                if table is None:
                    national = _national(digits, region)
                    if national is not None and _valid_in_any_region(national):
                        return True
                elif _valid_in_shared_regions(table, nsn):
                    return True
            continue
        national = _national(digits, region)
        if national is None:
            continue
        if _valid_for_region(national, region) or (
            region != "FR" and _valid_in_any_region(national)  # +44/+1 shared regions
        ):
            return True
    return False


__all__ = ["is_phone"]
