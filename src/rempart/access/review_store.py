"""Review campaigns in the database: one row per item, so a deadline survives restarts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.access.models import AccessReviewItem
from rempart.access.reviews import Campaign, ItemStatus, ReviewItem
from rempart.errors import NotFound
from rempart.storage.tenancy import TenantContextMissing, session_tenant


def save_campaign(session: Session, campaign: Campaign) -> None:
    """Insert or update every item of the campaign (in the session's tenant)."""
    tenant = session_tenant(session)
    if tenant is None or tenant != campaign.tenant_id:
        raise TenantContextMissing("a campaign is saved in its own tenant's session")
    rows = {
        r.id: r
        for r in session.scalars(
            select(AccessReviewItem).where(AccessReviewItem.campaign_id == campaign.id)
        )
    }
    for item in campaign.items:
        row = rows.get(item.id)
        if row is None:
            row = AccessReviewItem(id=item.id, campaign_id=campaign.id)
            session.add(row)
        row.campaign_created_at = campaign.created_at
        row.campaign_deadline = campaign.deadline
        row.reviewer_id = item.reviewer_id
        row.user_id = item.user_id
        row.entitlement = item.entitlement
        row.flags = list(item.flags)
        row.status = item.status.value
        row.decided_by = item.decided_by
        row.decided_at = item.decided_at
    session.flush()


def load_campaign(session: Session, campaign_id: str) -> Campaign:
    tenant = session_tenant(session)
    if tenant is None:
        raise TenantContextMissing("campaigns are read in a tenant session")
    rows = session.scalars(
        select(AccessReviewItem)
        .where(AccessReviewItem.campaign_id == campaign_id)
        .order_by(AccessReviewItem.user_id, AccessReviewItem.entitlement)
    ).all()
    if not rows:
        raise NotFound("no such review campaign")
    items = tuple(
        ReviewItem(
            id=r.id,
            user_id=r.user_id,
            entitlement=r.entitlement,
            reviewer_id=r.reviewer_id,
            flags=tuple(r.flags),
            status=ItemStatus(r.status),
            decided_by=r.decided_by,
            decided_at=r.decided_at,
        )
        for r in rows
    )
    return Campaign(
        campaign_id, tenant, rows[0].campaign_created_at, rows[0].campaign_deadline, items
    )


def open_campaigns(session: Session) -> list[str]:
    """Ids of campaigns with items still pending (for a scheduler calling ``close_overdue``)."""
    return sorted(
        set(
            session.scalars(
                select(AccessReviewItem.campaign_id).where(
                    AccessReviewItem.status == ItemStatus.PENDING.value
                )
            )
        )
    )


__all__ = ["load_campaign", "open_campaigns", "save_campaign"]
