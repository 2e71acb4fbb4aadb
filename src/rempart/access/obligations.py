"""Obligations: how data allowed by a decision must be shown, and the masks that apply them.

An ``Allow`` carries one obligation per sensitive field that stays masked:
the card number shows its last four digits, a phone number its country code
and last two digits, the transcript its redacted form, a recording plays
with sensitive segments silenced. An unmask grant removes the obligation for
the fields it covers and adds ``audit_unmask`` instead. The callers (API,
console, exports) apply obligations with ``apply_masks`` or the helpers
below; an obligation they do not understand must be treated as "hide".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from rempart.access.permissions import Permission


class SensitiveField(StrEnum):
    CARD_NUMBER = "card_number"
    PHONE = "phone"
    IBAN = "iban"
    EMAIL = "email"
    TRANSCRIPT = "transcript"
    RECORDING = "recording"


class ObligationKind(StrEnum):
    CARD_LAST_FOUR = "card_last_four"
    PHONE_PARTIAL = "phone_partial"
    IBAN_LAST_FOUR = "iban_last_four"
    EMAIL_DOMAIN_ONLY = "email_domain_only"
    TRANSCRIPT_REDACTED = "transcript_redacted"
    RECORDING_SILENCED = "recording_silenced"
    HIDE = "hide"
    AUDIT_UNMASK = "audit_unmask"


@dataclass(frozen=True, slots=True)
class Obligation:
    kind: ObligationKind
    field: SensitiveField | None = None
    grant_id: str | None = None


DEFAULT_MASKS: Mapping[SensitiveField, ObligationKind] = {
    SensitiveField.CARD_NUMBER: ObligationKind.CARD_LAST_FOUR,
    SensitiveField.PHONE: ObligationKind.PHONE_PARTIAL,
    SensitiveField.IBAN: ObligationKind.IBAN_LAST_FOUR,
    SensitiveField.EMAIL: ObligationKind.EMAIL_DOMAIN_ONLY,
    SensitiveField.TRANSCRIPT: ObligationKind.TRANSCRIPT_REDACTED,
    SensitiveField.RECORDING: ObligationKind.RECORDING_SILENCED,
}

# Which fields each data permission shows (and so must mask).
FIELDS_SHOWN: Mapping[Permission, frozenset[SensitiveField]] = {
    Permission.INTERACTION_READ: frozenset(
        {
            SensitiveField.CARD_NUMBER,
            SensitiveField.PHONE,
            SensitiveField.IBAN,
            SensitiveField.EMAIL,
            SensitiveField.TRANSCRIPT,
        }
    ),
    Permission.TRANSCRIPT_READ: frozenset(
        {
            SensitiveField.TRANSCRIPT,
            SensitiveField.CARD_NUMBER,
            SensitiveField.PHONE,
            SensitiveField.IBAN,
            SensitiveField.EMAIL,
        }
    ),
    Permission.QUALITY_EVALUATE: frozenset(
        {
            SensitiveField.TRANSCRIPT,
            SensitiveField.RECORDING,
            SensitiveField.CARD_NUMBER,
            SensitiveField.PHONE,
            SensitiveField.IBAN,
            SensitiveField.EMAIL,
        }
    ),
    Permission.RECORDING_PLAY: frozenset({SensitiveField.RECORDING}),
    Permission.CUSTOMER_READ: frozenset(
        {
            SensitiveField.CARD_NUMBER,
            SensitiveField.PHONE,
            SensitiveField.IBAN,
            SensitiveField.EMAIL,
        }
    ),
    Permission.EXPORT_CREATE: frozenset(SensitiveField),
}

# Which fields an unmask permission reveals.
FIELDS_UNMASKED: Mapping[Permission, frozenset[SensitiveField]] = {
    Permission.INTERACTION_UNMASK: frozenset(
        {
            SensitiveField.CARD_NUMBER,
            SensitiveField.PHONE,
            SensitiveField.IBAN,
            SensitiveField.EMAIL,
            SensitiveField.TRANSCRIPT,
        }
    ),
    Permission.RECORDING_UNMASK: frozenset({SensitiveField.RECORDING}),
}


def masks_for(
    permission: Permission,
    masks: Mapping[SensitiveField, ObligationKind] = DEFAULT_MASKS,
    unmasked: frozenset[SensitiveField] = frozenset(),
) -> tuple[Obligation, ...]:
    """The obligations an allowed ``permission`` carries, minus fields under an unmask grant.

    A field with no configured mask is hidden outright: the safe default.
    """
    shown = FIELDS_SHOWN.get(permission, frozenset())
    return tuple(
        Obligation(masks.get(f, ObligationKind.HIDE), f) for f in sorted(shown) if f not in unmasked
    )


def mask_card(pan: str) -> str:
    """``**** **** **** 1234``: the last four digits only (PCI DSS 3.4.1 display)."""
    digits = [c for c in pan if c.isdigit()]
    return "**** **** **** " + "".join(digits[-4:]) if len(digits) >= 8 else "****"


def mask_phone(phone: str) -> str:
    """Keeps a leading ``+`` and country-code-sized prefix (2 digits) and the last two digits."""
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 6:
        return "*" * len(digits)
    head = ("+" if phone.strip().startswith("+") else "") + "".join(digits[:2])
    return head + "*" * (len(digits) - 4) + "".join(digits[-2:])


def mask_iban(iban: str) -> str:
    compact = "".join(iban.split())
    return compact[:2] + "*" * max(len(compact) - 6, 0) + compact[-4:] if len(compact) > 8 else "*"


def mask_email(email: str) -> str:
    _, sep, domain = email.rpartition("@")
    return f"***@{domain}" if sep and domain else "***"


_TEXT_MASKS = {
    ObligationKind.CARD_LAST_FOUR: mask_card,
    ObligationKind.PHONE_PARTIAL: mask_phone,
    ObligationKind.IBAN_LAST_FOUR: mask_iban,
    ObligationKind.EMAIL_DOMAIN_ONLY: mask_email,
}


def apply_masks(
    values: Mapping[SensitiveField, str], obligations: tuple[Obligation, ...]
) -> dict[SensitiveField, str]:
    """Mask field values as the obligations say; a field with an obligation that is not a
    text mask (transcript, recording, hide) or without any mention comes out as ``"***"``
    unless an ``audit_unmask`` grant left it unmasked."""
    by_field = {
        o.field: o
        for o in obligations
        if o.field is not None and o.kind is not ObligationKind.AUDIT_UNMASK
    }
    out: dict[SensitiveField, str] = {}
    for field, value in values.items():
        obligation = by_field.get(field)
        if obligation is None:
            out[field] = value if _unmasked(obligations, field) else "***"
            continue
        fn = _TEXT_MASKS.get(obligation.kind)
        out[field] = fn(value) if fn else "***"
    return out


def _unmasked(obligations: tuple[Obligation, ...], field: SensitiveField) -> bool:
    return any(o.kind is ObligationKind.AUDIT_UNMASK and o.field is field for o in obligations)


__all__ = [
    "DEFAULT_MASKS",
    "FIELDS_SHOWN",
    "FIELDS_UNMASKED",
    "Obligation",
    "ObligationKind",
    "SensitiveField",
    "apply_masks",
    "mask_card",
    "mask_email",
    "mask_iban",
    "mask_phone",
    "masks_for",
]
