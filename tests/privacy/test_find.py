"""Finding a data subject by blind indexes, and the inventory of what is stored about them."""

from __future__ import annotations

import json

import pytest

from rempart.errors import ValidationFailed
from rempart.privacy import (
    AmbiguousSubject,
    Selector,
    StoredMedia,
    SubjectNotFound,
    find,
    inventory,
    resolve,
)
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.privacy.conftest import seed_customer


def test_found_by_customer_id_phone_written_otherwise_and_email_in_other_case(
    db: Database, vault: Vault, tenant_a: TenantContext
) -> None:
    alice = seed_customer(db, vault, tenant_a, phone="+33 6 12 34 56 78")
    seed_customer(db, vault, tenant_a, phone="+33 7 00 00 00 01")
    with db.tenant_session(tenant_a) as session:
        for selector in (
            Selector(customer_id=alice.external_id),
            Selector(phone="06.12.34.56.78"),
            Selector(email=alice.email.upper()),
            Selector(ref=alice.customer),
            Selector(phone="0033612345678", email=alice.email),
        ):
            assert [i.customer for i in find(session, vault, selector)] == [alice.customer]


def test_criteria_are_intersected(db: Database, vault: Vault, tenant_a: TenantContext) -> None:
    alice = seed_customer(db, vault, tenant_a)
    bob = seed_customer(db, vault, tenant_a, phone="+33 7 00 00 00 01")
    with db.tenant_session(tenant_a) as session:
        selector = Selector(phone=alice.phone, email=bob.email)
        assert find(session, vault, selector) == []


def test_inventory_lists_ids_dates_and_counts_never_content(
    db: Database, vault: Vault, tenant_a: TenantContext, media: StoredMedia
) -> None:
    alice = seed_customer(db, vault, tenant_a, interactions=3, media_store=media.store)
    with db.tenant_session(tenant_a) as session:
        (found,) = find(session, vault, Selector(customer_id=alice.external_id))
    assert sorted(i.id for i in found.interactions) == sorted(alice.interactions)
    assert {i.channel for i in found.interactions} == {"call"}
    assert found.identifiers == {"customer_id": 1, "phone": 1, "email": 1}
    assert found.totals() == {
        "interactions": 3,
        "segments": 6,
        "originals": 3 * (2 + 1),
        "recordings": 3,
        "identifiers": 3,
        "exports": 0,
    }
    text = json.dumps(found.to_dict())
    for secret in (alice.external_id, alice.email, "12 34 56 78", *alice.texts):
        assert secret not in text


def test_nobody_found_and_several_found_are_clear_errors(
    db: Database, vault: Vault, tenant_a: TenantContext
) -> None:
    seed_customer(db, vault, tenant_a, phone="+33 6 11 11 11 11")
    seed_customer(db, vault, tenant_a, phone="+33 6 11 11 11 11")
    with db.tenant_session(tenant_a) as session:
        with pytest.raises(AmbiguousSubject):
            resolve(session, vault, Selector(phone="0611111111"))
        with pytest.raises(SubjectNotFound):
            resolve(session, vault, Selector(email="nobody@example.test"))
    with pytest.raises(ValidationFailed):
        Selector()


def test_another_tenant_finds_nothing_of_this_one(
    db: Database, vault: Vault, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    with db.tenant_session(tenant_b) as session:
        assert find(session, vault, Selector(phone=alice.phone)) == []
        assert find(session, vault, Selector(customer_id=alice.external_id)) == []
        assert find(session, vault, Selector(ref=alice.customer)) == []
        with pytest.raises(SubjectNotFound):
            inventory(session, alice.customer)


def test_a_search_is_audited_with_criteria_kinds_and_match_count_only(
    db: Database, vault: Vault, tenant_a: TenantContext
) -> None:
    from rempart.privacy import search
    from tests.privacy.conftest import ORIGIN
    from tests.privacy.helpers import audit_entries

    alice = seed_customer(db, vault, tenant_a)
    found = search(
        db, vault, tenant_a, Selector(phone=alice.phone, email=alice.email), origin=ORIGIN
    )
    assert [f.customer for f in found] == [alice.customer]
    (entry,) = audit_entries(db, tenant_a)
    assert entry["action"] == "privacy.find"
    assert entry["details"] == {"criteria": ["phone", "email"], "matches": 1}
    for clear in (alice.email, "12 34 56 78", "612345678"):
        assert clear not in entry["entry"]


def test_national_numbers_are_read_in_the_tenants_phone_region(
    db: Database, vault: Vault, tenant_a: TenantContext
) -> None:
    from datetime import UTC, datetime

    from rempart.contact.policy import DataPolicy, save_policy

    with db.tenant_session(tenant_a) as session:
        save_policy(session, DataPolicy(phone_region="US"), actor="t", now=datetime.now(UTC))
    sam = seed_customer(db, vault, tenant_a, phone="(415) 555-0100", phone_region="US")
    with db.tenant_session(tenant_a) as session:
        for written in ("415 555 0100", "+1 415-555-0100"):
            assert [i.customer for i in find(session, vault, Selector(phone=written))] == [
                sam.customer
            ]
