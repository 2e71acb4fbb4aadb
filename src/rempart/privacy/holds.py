"""``RetentionHolds``: the retention package's legal holds, as the erasure checks them.

An active hold on the whole tenant, on the customer, or on any of the
customer's interactions blocks the erasure (GDPR art. 17(3)(e): the data is
needed for legal claims); a released hold does not.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from rempart.retention import HoldScope, LegalHold


class RetentionHolds:
    """``LegalHolds`` on ``rempart.retention``'s ``retention_holds`` table."""

    def holds_for(
        self, session: Session, *, customer_id: str, interaction_ids: Sequence[str]
    ) -> Sequence[str]:
        covering = [
            LegalHold.scope == HoldScope.TENANT.value,
            and_(LegalHold.scope == HoldScope.CUSTOMER.value, LegalHold.target_id == customer_id),
        ]
        found: set[str] = set()
        ids = list(interaction_ids)
        for start in range(0, max(len(ids), 1), 500):
            chunk = ids[start : start + 500]
            clauses = list(covering)
            if chunk:
                clauses.append(
                    and_(
                        LegalHold.scope == HoldScope.INTERACTION.value,
                        LegalHold.target_id.in_(chunk),
                    )
                )
            found.update(
                session.scalars(
                    select(LegalHold.id).where(LegalHold.released_at.is_(None), or_(*clauses))
                )
            )
        return sorted(found)


__all__ = ["RetentionHolds"]
