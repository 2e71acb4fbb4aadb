"""Data subjects (the tenant's customers): how they are keyed, indexed and found.

Conventions every module that stores or finds a person's data follows:

- the vault *subject* of a customer is ``customer:<Customer.id>``; everything
  stored about them (their id, phone, e-mail, the interactions' redacted and
  original text, recordings) is sealed under that subject's key, so that
  ``vault.shred_subject(tenant, subject_of(customer_id))`` makes every copy,
  backups included, unreadable;
- a customer is found by blind indexes only (keyed HMAC of the normalised
  value, per tenant and field): ``customer_id`` on ``Customer.id_index``,
  ``phone`` and ``email`` on ``CustomerLookup`` rows.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.contact.models import Customer, CustomerLookup
from rempart.storage.tenancy import session_tenant
from rempart.types import TenantId
from rempart.vault import Vault, normalize_email, normalize_identifier, phone_normalizer

INDEX_LENGTH: Final = 16


class LookupKind(StrEnum):
    CUSTOMER_ID = "customer_id"
    PHONE = "phone"
    EMAIL = "email"


_FIELDS: Final = {
    LookupKind.CUSTOMER_ID: "customer.id",
    LookupKind.PHONE: "customer.phone",
    LookupKind.EMAIL: "customer.email",
}


def subject_of(customer_id: str) -> str:
    """The vault subject (key owner) of a stored customer."""
    return f"customer:{customer_id}"


def index_of(
    vault: Vault, tenant: TenantId, kind: LookupKind, value: str, *, phone_region: str = "FR"
) -> bytes:
    """The blind index of ``value``; raises ``ValidationFailed`` if it is not a valid one.

    Values are normalised first (E.164 phone numbers, read in ``phone_region``
    when they have no country code; case-folded e-mails; ids without
    separators), so one number written three ways gives one index.
    """
    if kind is LookupKind.PHONE:
        normalizer = phone_normalizer(phone_region)
    elif kind is LookupKind.EMAIL:
        normalizer = normalize_email
    else:
        normalizer = normalize_identifier
    return vault.blind_index(
        tenant, _FIELDS[kind], value, length=INDEX_LENGTH, normalizer=normalizer
    )


def find_customers(
    session: Session, vault: Vault, kind: LookupKind, value: str, *, phone_region: str = "FR"
) -> list[str]:
    """Ids of the session tenant's customers matching ``value`` (never erased ones)."""
    found = session_tenant(session)
    if found is None:
        raise ValueError("no tenant in context")
    tenant = TenantId(found)
    digest = index_of(vault, tenant, kind, value, phone_region=phone_region)
    if kind is LookupKind.CUSTOMER_ID:
        stmt = select(Customer.id).where(Customer.id_index == digest)
    else:
        stmt = select(CustomerLookup.customer_id).where(
            CustomerLookup.kind == kind.value, CustomerLookup.digest == digest
        )
    ids = set(session.scalars(stmt))
    if not ids:
        return []
    live = select(Customer.id).where(Customer.id.in_(ids), Customer.erased_at.is_(None))
    return sorted(session.scalars(live))


__all__ = ["INDEX_LENGTH", "LookupKind", "find_customers", "index_of", "subject_of"]
