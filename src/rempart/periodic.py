"""A job run in a background thread of the server at a fixed period, until stopped.

One copy of the loop for every scheduler (audit checkpoints, retention purge):
a database error in one run is logged and the next run tries again; ``stop``
wakes the thread at once and waits for it.
"""

from __future__ import annotations

import threading

from sqlalchemy.exc import SQLAlchemyError

from rempart.logs import get_logger

log = get_logger("rempart.periodic")


class Periodic:
    """Subclasses implement ``run_once``; ``start`` and ``stop`` drive the thread."""

    def __init__(self, name: str, period_s: float) -> None:
        if period_s <= 0:
            raise ValueError(f"{name}: the period must be positive")
        self.name = name
        self.period = period_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.run_once()
            except SQLAlchemyError as exc:
                log.warning("scheduled run failed", job=self.name, error_type=type(exc).__name__)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


__all__ = ["Periodic"]
