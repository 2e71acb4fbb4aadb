"""Issue signed checkpoints at an interval, in a background thread of the server.

A log that refuses to be signed (it shrank, forked or was rewritten) is a
security event: it is logged at error level on every run until resolved.
"""

from __future__ import annotations

from datetime import timedelta

from rempart.audit.checkpoints import CheckpointRun, issue_due_checkpoints
from rempart.audit.note import NoteSigner
from rempart.logs import get_logger
from rempart.periodic import Periodic
from rempart.storage import Database
from rempart.types import Clock, utc_now

log = get_logger("rempart.audit")


class CheckpointScheduler(Periodic):
    """Calls ``issue_due_checkpoints`` every ``period`` seconds until stopped."""

    def __init__(
        self,
        db: Database,
        signer: NoteSigner,
        *,
        interval: timedelta,
        period: float | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if interval <= timedelta(0):
            raise ValueError("checkpoint interval must be positive")
        super().__init__(
            "audit-checkpoints",
            period if period is not None else min(interval.total_seconds(), 60.0),
        )
        self.db = db
        self.signer = signer
        self.interval = interval
        self.clock = clock

    def run_once(self) -> CheckpointRun:
        run = issue_due_checkpoints(self.db, self.signer, interval=self.interval, clock=self.clock)
        for cp in run.issued:
            log.info("checkpoint issued", origin=cp.origin, size=cp.size)
        for log_name, error in run.refused:
            log.error("audit log refused a checkpoint", log_name=log_name, problem=str(error))
        return run


__all__ = ["CheckpointScheduler"]
