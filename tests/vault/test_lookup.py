"""Blind indexes and keyed pseudonyms."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rempart.errors import ValidationFailed
from rempart.vault import (
    Vault,
    normalize_email,
    normalize_identifier,
    normalize_phone,
    phone_normalizer,
)
from tests.vault.conftest import OTHER, TENANT


def test_one_phone_number_written_three_ways_gives_one_index(vault: Vault) -> None:
    forms = ["+33 6 12 34 56 78", "06.12.34.56.78", "0033612345678"]
    indexes = {vault.blind_index(TENANT, "phone", f, normalizer=normalize_phone) for f in forms}
    assert len(indexes) == 1
    other = vault.blind_index(TENANT, "phone", "06 12 34 56 79", normalizer=normalize_phone)
    assert other not in indexes


def test_us_numbers_with_a_us_default_region() -> None:
    us = phone_normalizer("US")
    assert us("(415) 555-0132") == us("+1 415-555-0132") == us("415.555.0132") == "+14155550132"


def test_emails_and_identifiers_normalise(vault: Vault) -> None:
    assert normalize_email("  Alice@Example.COM ") == "alice@example.com"
    assert normalize_identifier("cu-0042 17") == normalize_identifier("CU004217")
    a = vault.blind_index(TENANT, "email", "Alice@Example.com", normalizer=normalize_email)
    b = vault.blind_index(TENANT, "email", "alice@example.com ", normalizer=normalize_email)
    assert a == b


@pytest.mark.parametrize("bad", ["", "not a number", "12"])
def test_invalid_phone_numbers_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        normalize_phone(bad)


def test_invalid_emails_are_rejected() -> None:
    for bad in ["no-at-sign", "@example.com", "a@b@c"]:
        with pytest.raises(ValidationFailed):
            normalize_email(bad)


def test_index_is_keyed_per_tenant_field_and_index_and_truncated(vault: Vault) -> None:
    base = vault.blind_index(TENANT, "phone", "x")
    assert len(base) == 16
    assert vault.blind_index(OTHER, "phone", "x") != base
    assert vault.blind_index(TENANT, "email", "x") != base
    assert vault.blind_index(TENANT, "phone", "x", index="partial") != base
    short = vault.blind_index(TENANT, "phone", "x", length=4)
    assert len(short) == 4
    with pytest.raises(ValueError, match="length"):
        vault.blind_index(TENANT, "phone", "x", length=2)


def test_pseudonyms_are_stable_within_a_tenant(vault: Vault) -> None:
    first = vault.pseudonym(TENANT, "Alice Martin")
    assert first == vault.pseudonym(TENANT, "Alice Martin")
    assert first.startswith("psn_")
    assert len(first) == 30
    assert vault.pseudonym(TENANT, "Alice Martin", domain="agents") != first
    assert vault.pseudonym(TENANT, " alice  MARTIN ", normalizer=str.strip) != first


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=60))
def test_two_tenants_never_share_a_pseudonym(vault: Vault, value: str) -> None:
    assert vault.pseudonym(TENANT, value) != vault.pseudonym(OTHER, value)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.text(max_size=30), b=st.text(max_size=30))
def test_distinct_values_get_distinct_pseudonyms(vault: Vault, a: str, b: str) -> None:
    if a != b:
        assert vault.pseudonym(TENANT, a) != vault.pseudonym(TENANT, b)
