"""A hold placed while a purge batch is running is either honoured or refused, never violated."""

from __future__ import annotations

import threading

from sqlalchemy import text

from rempart.contact.media import MediaStore
from rempart.errors import NotFound
from rempart.retention import DataClass, HoldScope, place_hold, purge, set_policy
from rempart.storage import Database, TenantContext
from tests.retention.helpers import ACTOR, ORIGIN, add_interaction, clock, state

STEPS = 2_000


def _wait_until_blocked_or_done(db: Database, worker: threading.Thread) -> None:
    """Return once the worker waits for the retention lock, or has finished."""
    if not db.is_postgres:
        # SQLite: the worker's insert waits for the batch's write lock (busy timeout).
        worker.join(timeout=1.0)
        return
    waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    for _ in range(STEPS):
        if not worker.is_alive():
            return
        with db.engine.connect() as conn:
            if conn.execute(waiting).scalar_one() > 0:
                return
        worker.join(timeout=0.01)


def test_a_hold_placed_during_a_batch_is_never_violated(
    db: Database, tenant_a: TenantContext, media: MediaStore
) -> None:
    set_policy(db, tenant_a, ORIGIN, {DataClass.METADATA: 40}, clock=clock)
    first = add_interaction(db, tenant_a, media, age_days=50)
    second = add_interaction(db, tenant_a, media, age_days=50)
    outcome: list[object] = []

    def place() -> None:
        try:
            outcome.append(
                place_hold(
                    db, tenant_a, ORIGIN, HoldScope.INTERACTION, second.id, "late", clock=clock
                )
            )
        except NotFound as exc:
            outcome.append(exc)

    worker = threading.Thread(target=place)

    class RacingMedia:
        """Deletes for real; on the first call (inside the batch) a hold arrives."""

        def delete(self, tenant_id: str, recording_id: str, /) -> None:
            if not worker.is_alive() and not outcome:
                worker.start()
                _wait_until_blocked_or_done(db, worker)
            media.delete(tenant_id, recording_id)

    purge(db, tenant_a, RacingMedia(), actor=ACTOR, batch_size=10, clock=clock)
    worker.join()

    (result,) = outcome
    assert not state(db, tenant_a, media, first).exists
    if isinstance(result, NotFound):
        # The hold came after the batch: the interaction was already gone, and it says so.
        assert not state(db, tenant_a, media, second).exists
    else:
        # The hold came first: the batch must have honoured it.
        assert state(db, tenant_a, media, second).exists
