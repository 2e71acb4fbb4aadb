"""The purge run record: claiming it (new or resumed), keeping it owned, closing it.

One unfinished run per tenant (unique ``active_slot``). A run left ``failed``
is resumed by the next purge at once; one left ``running`` (its process died
without a word) is taken over only when its heartbeat is older than
``stale_after``, so two live purges of one tenant never interleave. Every
batch locks the run row and checks its ``owner`` before touching data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.audit import Actor, AuditEvent, append
from rempart.errors import Conflict
from rempart.retention.classes import PURGE_ORDER
from rempart.retention.models import PurgeRun
from rempart.storage import Database, TenantContext
from rempart.types import Clock

RUNNING: Final = "running"
FAILED: Final = "failed"
COMPLETED: Final = "completed"
RESOURCE: Final = "retention_run"


@dataclass(frozen=True, slots=True)
class Claim:
    """A run this process owns: its id, owner token, reference time, and whether it resumed."""

    run_id: str
    owner: str
    as_of: datetime
    resumed: bool


def run_event(
    ctx: TenantContext,
    actor: Actor,
    action: str,
    run_id: str | None,
    at: datetime,
    details: dict[str, Any],
    *,
    failure: str | None = None,
) -> AuditEvent:
    return AuditEvent(
        tenant_id=ctx.tenant_id,
        actor=actor,
        action=action,
        resource_type=RESOURCE,
        resource_id=run_id,
        outcome="failure" if failure else "success",
        time=at,
        reason=failure,
        details=details,
    )


def unfinished(session: Session, *, lock: bool) -> PurgeRun | None:
    stmt = select(PurgeRun).where(PurgeRun.active_slot.is_not(None))
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def claim(
    db: Database,
    ctx: TenantContext,
    actor: Actor,
    *,
    batch_size: int,
    stale_after: timedelta,
    clock: Clock,
) -> Claim:
    """Resume the tenant's unfinished run, or start one; ``Conflict`` if one is live."""
    owner = str(uuid.uuid4())
    try:
        with db.tenant_session(ctx) as session:
            now = clock()
            run = unfinished(session, lock=db.is_postgres)
            if run is not None:
                if run.status == RUNNING and run.heartbeat_at > now - stale_after:
                    raise Conflict(f"a purge of this tenant is already running (run {run.id})")
                run.owner = owner
                run.status = RUNNING
                run.heartbeat_at = now
                run.resumed += 1
                run.error = None
                append(
                    session,
                    run_event(
                        ctx,
                        actor,
                        "retention.run.resume",
                        run.id,
                        now,
                        {"phase": run.phase, "batches": run.batches, "resumed": run.resumed},
                    ),
                )
                return Claim(run.id, owner, run.as_of, resumed=True)
            run = PurgeRun(
                active_slot=str(ctx.tenant_id),
                status=RUNNING,
                as_of=now,
                started_at=now,
                heartbeat_at=now,
                owner=owner,
                started_by=actor.id,
                batch_size=batch_size,
                phase=PURGE_ORDER[0].value,
                cursor=None,
                batches=0,
                resumed=0,
                counts={},
            )
            session.add(run)
            session.flush()
            append(
                session,
                run_event(
                    ctx, actor, "retention.run.create", run.id, now, {"batch_size": batch_size}
                ),
            )
            return Claim(run.id, owner, now, resumed=False)
    except IntegrityError as exc:
        # Another process created the tenant's run between our look and our insert.
        raise Conflict("a purge of this tenant is already running") from exc


def owned(session: Session, claim_: Claim) -> PurgeRun:
    """The run row, locked for this transaction; ``Conflict`` if another process took it over."""
    run = session.scalars(
        select(PurgeRun)
        .where(PurgeRun.id == claim_.run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if run is None or run.owner != claim_.owner or run.status != RUNNING:
        raise Conflict("the purge run was taken over by another process")
    return run


__all__ = ["COMPLETED", "FAILED", "RUNNING", "Claim", "claim", "owned", "run_event", "unfinished"]
