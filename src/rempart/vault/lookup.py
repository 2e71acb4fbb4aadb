"""Blind indexes and keyed pseudonyms: exact-match lookups without decrypting.

Both are HMAC-SHA256 under subkeys of the tenant's index key, derived per
purpose (and, for blind indexes, per field and index name), so the same value
gives unrelated results in two tenants, two fields or two indexes. Values are
normalised first, so that one phone number written three ways gives one index.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Callable

import phonenumbers

from rempart.errors import ValidationFailed
from rempart.vault.hazmat import hmac_sha256
from rempart.vault.material import DekMaterial

Normalizer = Callable[[str], str]

MIN_INDEX_BYTES = 4
MAX_INDEX_BYTES = 32
PSEUDONYM_PREFIX = "psn_"


def normalize_text(value: str) -> str:
    """Unicode NFKC, case-folded, inner whitespace collapsed, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def normalize_email(value: str) -> str:
    """Trimmed and case-folded (providers treat the local part case-insensitively)."""
    text = unicodedata.normalize("NFKC", value).strip().casefold()
    if text.count("@") != 1 or text.startswith("@") or text.endswith("@"):
        raise ValidationFailed("not an e-mail address")
    return text


_ID_SEPARATORS = re.compile(r"[\s\-_./]+")


def normalize_identifier(value: str) -> str:
    """Customer ids and the like: separators dropped, upper-cased."""
    text = _ID_SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()
    if not text:
        raise ValidationFailed("empty identifier")
    return text


def phone_normalizer(default_region: str = "FR") -> Normalizer:
    """E.164 form of a phone number; a local number is read in ``default_region``."""

    def normalize_phone(value: str) -> str:
        try:
            number = phonenumbers.parse(value, default_region)
        except phonenumbers.NumberParseException as exc:
            raise ValidationFailed("not a phone number") from exc
        if not phonenumbers.is_possible_number(number):
            raise ValidationFailed("not a possible phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return normalize_phone


normalize_phone = phone_normalizer()


def blind_index(
    key: DekMaterial,
    field: str,
    value: str,
    *,
    index: str,
    length: int,
    normalizer: Normalizer,
) -> bytes:
    """The truncated HMAC of the normalised value under the (field, index) subkey."""
    if not MIN_INDEX_BYTES <= length <= MAX_INDEX_BYTES:
        raise ValueError(f"index length must be {MIN_INDEX_BYTES} to {MAX_INDEX_BYTES} bytes")
    subkey = key.subkey(b"blind-index", field, index, str(length))
    return hmac_sha256(subkey, normalizer(value).encode())[:length]


def subject_verifier(
    subject_key: DekMaterial, field: str, value: str, *, index: str, normalizer: Normalizer
) -> bytes:
    """HMAC-SHA256 of the normalised value under a subkey of the data subject's own key:
    recomputable only while that key lives (crypto-shredding ends it)."""
    subkey = subject_key.subkey(b"subject-index", field, index)
    return hmac_sha256(subkey, normalizer(value).encode())


def pseudonym(key: DekMaterial, value: str | bytes, *, domain: str) -> str:
    """A stable, keyed pseudonym: ``psn_`` then 26 base32 characters (128 bits)."""
    data = value.encode() if isinstance(value, str) else value
    digest = hmac_sha256(key.subkey(b"pseudonym", domain), data)[:16]
    return PSEUDONYM_PREFIX + base64.b32encode(digest).decode().rstrip("=").lower()


__all__ = [
    "Normalizer",
    "blind_index",
    "normalize_email",
    "normalize_identifier",
    "normalize_phone",
    "normalize_text",
    "phone_normalizer",
    "pseudonym",
    "subject_verifier",
]
