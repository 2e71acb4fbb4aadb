"""Legal holds of ``rempart.retention`` block erasure (GDPR art. 17(3)(e)) until released."""

from __future__ import annotations

import pytest

from rempart.audit import Ed25519Signer
from rempart.privacy import DirectoryExportStore, LegalHoldActive, RetentionHolds, erase_subject
from rempart.retention import HoldScope, place_hold, release_hold
from rempart.storage import Database, TenantContext
from rempart.vault import Vault
from tests.privacy.conftest import ORIGIN, Seeded, seed_customer


def _erase(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    who: Seeded,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> bool:
    result = erase_subject(
        db,
        vault,
        ctx,
        who.customer,
        reason="request 7",
        origin=ORIGIN,
        signer=signer,
        store=store,
        holds=RetentionHolds(),
    )
    return result.complete


@pytest.mark.parametrize("scope", [HoldScope.TENANT, HoldScope.CUSTOMER, HoldScope.INTERACTION])
def test_an_active_hold_blocks_erasure_until_released(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
    scope: HoldScope,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    target = {
        HoldScope.TENANT: None,
        HoldScope.CUSTOMER: alice.customer,
        HoldScope.INTERACTION: alice.interactions[-1],
    }[scope]
    hold = place_hold(db, tenant_a, ORIGIN, scope, target, "litigation 2026-17")
    with pytest.raises(LegalHoldActive) as info:
        _erase(db, vault, tenant_a, alice, signer, store)
    assert info.value.extensions == {"holds": [hold.id]}
    assert all(vault.decrypt_field(ctx, ct) for ctx, ct in alice.ciphertexts)
    release_hold(db, tenant_a, ORIGIN, hold.id, "settled")
    assert _erase(db, vault, tenant_a, alice, signer, store)


def test_holds_on_someone_else_or_in_another_tenant_do_not_block(
    db: Database,
    vault: Vault,
    tenant_a: TenantContext,
    tenant_b: TenantContext,
    signer: Ed25519Signer,
    store: DirectoryExportStore,
) -> None:
    alice = seed_customer(db, vault, tenant_a)
    bob = seed_customer(db, vault, tenant_a, phone="+33 7 00 00 00 02")
    carol = seed_customer(db, vault, tenant_b)
    place_hold(db, tenant_a, ORIGIN, HoldScope.CUSTOMER, bob.customer, "case of bob")
    place_hold(db, tenant_a, ORIGIN, HoldScope.INTERACTION, bob.interactions[0], "call of bob")
    place_hold(db, tenant_b, ORIGIN, HoldScope.TENANT, None, "inquiry at tenant b")
    assert _erase(db, vault, tenant_a, alice, signer, store)
    with pytest.raises(LegalHoldActive):
        _erase(db, vault, tenant_a, bob, signer, store)
    with pytest.raises(LegalHoldActive):
        _erase(db, vault, tenant_b, carol, signer, store)
