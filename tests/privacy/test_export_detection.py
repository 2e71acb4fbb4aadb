"""Five exports by one person within 15 minutes raise the pack's export-burst alert,
read from the tenant's audit log; four do not, nor five spread over an afternoon."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rempart.privacy import DirectoryExportStore, export_subject
from rempart.storage import Database, TenantContext
from rempart.types import Clock
from rempart.vault import Vault
from tests.detection.helpers import logged_detections
from tests.privacy.conftest import FAST_KDF, ORIGIN, PASSPHRASE, seed_customer

BURST = "Export Burst By One Actor"


def at(when: datetime) -> Clock:
    return lambda: when


def exports(
    db: Database,
    vault: Vault,
    tenant: TenantContext,
    store: DirectoryExportStore,
    times: list[datetime],
) -> None:
    customer = seed_customer(db, vault, tenant).customer
    for when in times:
        export_subject(
            db,
            vault,
            tenant,
            customer,
            io.BytesIO(),
            passphrase=PASSPHRASE,
            origin=ORIGIN,
            store=store,
            log2_n=FAST_KDF,
            clock=at(when),
        )


START = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_five_exports_in_minutes_raise_an_alert(
    db: Database, vault: Vault, tenant_a: TenantContext, store: DirectoryExportStore
) -> None:
    exports(db, vault, tenant_a, store, [START + timedelta(minutes=2 * i) for i in range(4)])
    assert logged_detections(db, tenant_a) == []
    exports(db, vault, tenant_a, store, [START + timedelta(minutes=9)])
    [(title, entry)] = logged_detections(db, tenant_a)
    assert title == BURST
    assert entry["api"]["operation"] == "privacy.export"
    assert entry["actor"]["user"]["uid"] == ORIGIN.actor.id


def test_five_exports_over_an_afternoon_raise_nothing(
    db: Database, vault: Vault, tenant_a: TenantContext, store: DirectoryExportStore
) -> None:
    exports(db, vault, tenant_a, store, [START + timedelta(minutes=20 * i) for i in range(5)])
    assert logged_detections(db, tenant_a) == []
