"""The entity taxonomy: what the redaction engine looks for.

Labels are plain strings so that tenants can add their own (``CUSTOMER_ACCOUNT``)
through configuration; the built-in ones are members of :class:`Entity`.

| label          | what it covers                                                        |
|----------------|-----------------------------------------------------------------------|
| PERSON         | a person's first and/or last name                                     |
| PHONE          | a telephone number valid for FR, GB or US (or any +CC number)         |
| EMAIL          | an e-mail address, typed or dictated ("jean point dupont arobase ...") |
| ADDRESS        | a street address with, where present, postcode and city              |
| DATE_OF_BIRTH  | a date said or written as someone's birth date                        |
| CARD_NUMBER    | a payment card number (Luhn, issuer range, 12-19 digits)              |
| CARD_EXPIRY    | a card's expiry month and year                                        |
| CARD_CVV       | a card's 3- or 4-digit security code                                  |
| IBAN           | an IBAN (mod-97 and per-country length)                               |
| NATIONAL_ID    | French NIR with its key (2A/2B included), US SSN, UK NINO              |
| PIN_OR_SECRET  | PIN codes, one-time codes, passwords                                  |
| IP_ADDRESS     | an IPv4 or IPv6 address                                               |
"""

from __future__ import annotations

from enum import StrEnum


class Entity(StrEnum):
    """The built-in entity labels."""

    PERSON = "PERSON"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    ADDRESS = "ADDRESS"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    CARD_NUMBER = "CARD_NUMBER"
    CARD_EXPIRY = "CARD_EXPIRY"
    CARD_CVV = "CARD_CVV"
    IBAN = "IBAN"
    NATIONAL_ID = "NATIONAL_ID"
    PIN_OR_SECRET = "PIN_OR_SECRET"  # noqa: S105 - a label, not a password
    IP_ADDRESS = "IP_ADDRESS"


BUILTIN_ENTITIES: frozenset[str] = frozenset(e.value for e in Entity)

# Entities whose value is essentially a run of digits: pseudonyms and
# surrogates compare them on their digits only ("06 12" == "0612").
DIGIT_ENTITIES: frozenset[str] = frozenset(
    {
        Entity.PHONE,
        Entity.CARD_NUMBER,
        Entity.CARD_EXPIRY,
        Entity.CARD_CVV,
        Entity.NATIONAL_ID,
        Entity.PIN_OR_SECRET,
    }
)

__all__ = ["BUILTIN_ENTITIES", "DIGIT_ENTITIES", "Entity"]
