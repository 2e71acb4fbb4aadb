"""Purge every tenant at an interval, in a background thread of the server.

``purge_all`` is what the scheduler (and ``rempart retention purge`` without
``--tenant``) calls: one tenant's failure is logged and reported, and does
not stop the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from sqlalchemy.exc import SQLAlchemyError

from rempart.audit import Actor
from rempart.errors import RempartError
from rempart.logs import get_logger
from rempart.periodic import Periodic
from rempart.retention.media import MediaEraser
from rempart.retention.purge import DEFAULT_BATCH_SIZE, PurgeReport, purge
from rempart.storage import Database, TenantContext
from rempart.storage.tenants import list_tenants
from rempart.types import Clock, TenantId, utc_now

log = get_logger("rempart.retention")

DEFAULT_INTERVAL: Final = timedelta(hours=1)
SCHEDULER_ACTOR: Final = Actor("system", "retention-scheduler")


@dataclass(slots=True)
class PurgeAllResult:
    """Per tenant: its report, or the error class that stopped it."""

    reports: list[PurgeReport] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def purge_all(
    db: Database,
    media: MediaEraser,
    *,
    actor: Actor = SCHEDULER_ACTOR,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    clock: Clock = utc_now,
) -> PurgeAllResult:
    """Purge each registered tenant in turn, each in its own tenant sessions."""
    with db.platform_session() as session:
        tenants = [TenantId(t.id) for t in list_tenants(session)]
    result = PurgeAllResult()
    for tenant in tenants:
        try:
            report = purge(
                db,
                TenantContext(tenant),
                media,
                actor=actor,
                batch_size=batch_size,
                dry_run=dry_run,
                clock=clock,
            )
        except (RempartError, SQLAlchemyError, OSError) as exc:
            name = exc.slug if isinstance(exc, RempartError) else type(exc).__name__
            result.failed[str(tenant)] = name
            log.warning("retention purge of a tenant failed", tenant_id=str(tenant), error=name)
            continue
        result.reports.append(report)
    return result


class RetentionScheduler(Periodic):
    """Calls ``purge_all`` every ``interval`` until stopped."""

    def __init__(
        self,
        db: Database,
        media: MediaEraser,
        *,
        interval: timedelta = DEFAULT_INTERVAL,
        batch_size: int = DEFAULT_BATCH_SIZE,
        clock: Clock = utc_now,
    ) -> None:
        if interval <= timedelta(0):
            raise ValueError("retention interval must be positive")
        super().__init__("retention-purge", interval.total_seconds())
        self.db = db
        self.media = media
        self.interval = interval
        self.batch_size = batch_size
        self.clock = clock

    def run_once(self) -> PurgeAllResult:
        return purge_all(self.db, self.media, batch_size=self.batch_size, clock=self.clock)


__all__ = ["DEFAULT_INTERVAL", "PurgeAllResult", "RetentionScheduler", "purge_all"]
