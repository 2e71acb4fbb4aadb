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


@cache
def _any_region_pattern(country_code: int) -> re.Pattern[str] | None:
    """One pattern for the general descriptions of every region sharing the code.

    ``is_valid_number`` tries the regions of a shared code one by one, and a valid
    number always matches its region's general description: a number that matches
    none of them is invalid, which this single check tells at once.
    """
    patterns = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is None or metadata.general_desc is None:
            return None
        pattern = metadata.general_desc.national_number_pattern
        if pattern is None:
            return None
        patterns.append(f"(?:{pattern})")
    return re.compile("|".join(patterns)) if patterns else None


def _valid_in_any_region(num: phonenumbers.PhoneNumber) -> bool:
    """``phonenumbers.is_valid_number``, answering at once for most invalid numbers."""
    shared = _any_region_pattern(num.country_code or 0)
    if shared is not None and not shared.fullmatch(phonenumbers.national_significant_number(num)):
        return False
    return bool(phonenumbers.is_valid_number(num))


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
            return bool(
                phonenumbers.is_valid_number_for_region(num, region)
            ) or _valid_in_any_region(num)
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
        national = _national(digits, region)
        if national is None:
            continue
        if phonenumbers.is_valid_number_for_region(national, region) or (
            region != "FR" and _valid_in_any_region(national)  # +44/+1 shared regions
        ):
            return True
    return False


__all__ = ["is_phone"]
