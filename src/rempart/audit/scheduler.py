"""Issue signed checkpoints at an interval, in a background thread of the server.

A log that refuses to be signed (it shrank, forked or was rewritten) is a
security event: it is logged at error level on every run until resolved.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from rempart.audit.checkpoints import CheckpointRun, issue_due_checkpoints
from rempart.audit.note import NoteSigner
from rempart.logs import get_logger
from rempart.storage import Database
from rempart.types import Clock, utc_now

log = get_logger("rempart.audit")


class CheckpointScheduler:
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
        self.db = db
        self.signer = signer
        self.interval = interval
        self.period = period if period is not None else min(interval.total_seconds(), 60.0)
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> CheckpointRun:
        run = issue_due_checkpoints(self.db, self.signer, interval=self.interval, clock=self.clock)
        for cp in run.issued:
            log.info("checkpoint issued", origin=cp.origin, size=cp.size)
        for log_name, error in run.refused:
            log.error("audit log refused a checkpoint", log_name=log_name, problem=str(error))
        return run

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.run_once()
            except SQLAlchemyError as exc:
                log.warning("checkpoint run failed", error_type=type(exc).__name__)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="audit-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


__all__ = ["CheckpointScheduler"]
