"""The training gate: a permission may require a valid security-training record.

The training package implements ``TrainingGate``; until it does, a tenant
that configures a requirement gets ``NoTrainingRecords``, which fails closed
(no record means the permission lapses). ``TrainingNotEnforced`` exists for
tests and demos and says in its name that it weakens security.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from rempart.types import TenantId


class TrainingGate(Protocol):
    def is_current(self, tenant_id: TenantId, user_id: str, requirement: str, at: datetime) -> bool:
        """True when the user holds a record for ``requirement`` valid at ``at``.

        Called on every decision for a gated permission: keep it in memory
        and O(1); a lapse must show at the next decision.
        """
        ...


class NoTrainingRecords:
    """Fails closed: no training module, no gated permission."""

    def is_current(self, tenant_id: TenantId, user_id: str, requirement: str, at: datetime) -> bool:
        return False


class TrainingNotEnforced:
    """Weakens security: every training requirement counts as met."""

    def is_current(self, tenant_id: TenantId, user_id: str, requirement: str, at: datetime) -> bool:
        return True


__all__ = ["NoTrainingRecords", "TrainingGate", "TrainingNotEnforced"]
