"""The job that forgets what the ingestion extras keep only for a while.

Expired idempotency records and seen-webhook rows are deleted tenant by
tenant (each in its own tenant session, so row-level security holds), in
batches. Safe to run at any interval and from several places at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from rempart.ingest.idempotency import purge_expired as purge_idempotency
from rempart.ingest.models import WebhookReplay
from rempart.storage import Database, TenantContext
from rempart.storage.tenants import list_tenants
from rempart.types import TenantId


@dataclass(frozen=True, slots=True)
class PurgeReport:
    idempotency_keys: int
    webhook_replays: int


def purge_expired(db: Database, *, now: datetime, batch: int = 1000) -> PurgeReport:
    """Delete every expired idempotency record and seen-webhook row; counts of each."""
    with db.platform_session() as session:
        tenants = [TenantId(t.id) for t in list_tenants(session)]
    keys = replays = 0
    for tenant in tenants:
        while True:
            with db.tenant_session(TenantContext(tenant)) as session:
                done_keys = purge_idempotency(session, now=now, limit=batch)
                ids = list(
                    session.scalars(
                        select(WebhookReplay.id).where(WebhookReplay.expires_at <= now).limit(batch)
                    )
                )
                if ids:
                    session.execute(
                        delete(WebhookReplay)
                        .where(WebhookReplay.id.in_(ids))
                        .execution_options(synchronize_session=False)
                    )
            keys += done_keys
            replays += len(ids)
            if done_keys < batch and len(ids) < batch:
                break
    return PurgeReport(keys, replays)


__all__ = ["PurgeReport", "purge_expired"]
