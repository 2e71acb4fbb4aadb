"""Legal holds: on a whole tenant, a customer or one interaction; a held item is never purged.

Placing and releasing a hold are audited (a refused attempt too). A hold is
never deleted: releasing it stamps ``released_at``, so the record of what
was held, why, by whom and until when stays.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from rempart.audit.trail import Origin, audited
from rempart.contact.models import Customer, Interaction
from rempart.errors import Conflict, NotFound, ValidationFailed
from rempart.retention.locks import serialize_with_holds
from rempart.retention.models import LegalHold
from rempart.storage import Database, TenantContext
from rempart.types import Clock, utc_now

MAX_REASON: Final = 500
TARGET_LENGTH: Final = 36
RESOURCE: Final = "legal_hold"


class HoldScope(StrEnum):
    TENANT = "tenant"
    CUSTOMER = "customer"
    INTERACTION = "interaction"


def _reason(value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ValidationFailed("a legal hold needs a reason")
    if len(text) > MAX_REASON:
        raise ValidationFailed(f"the reason is longer than {MAX_REASON} characters")
    return text


def place_hold(
    db: Database,
    ctx: TenantContext,
    origin: Origin,
    scope: HoldScope,
    target_id: str | None,
    reason: str,
    *,
    clock: Clock = utc_now,
) -> LegalHold:
    """Put a hold in place; the customer or interaction must exist in the tenant."""
    with audited(
        db, ctx, origin, action="retention.hold.create", resource_type=RESOURCE, clock=clock
    ) as (session, note):
        note.details["scope"] = scope.value
        text = _reason(reason)
        if scope is HoldScope.TENANT and target_id is not None:
            raise ValidationFailed("a tenant-wide hold takes no target")
        if scope is not HoldScope.TENANT and not target_id:
            raise ValidationFailed(f"a {scope} hold needs the {scope} id")
        if target_id is not None:
            if len(target_id) > TARGET_LENGTH:
                raise NotFound(f"no such {scope}")  # no stored id is that long
            note.details["target_id"] = target_id
        serialize_with_holds(session)
        hold = LegalHold(
            scope=scope.value,
            target_id=target_id,
            reason=text,
            created_by=origin.actor.id,
            created_at=clock(),
        )
        # Written before the target is checked: once this insert holds the write lock, no
        # purge batch is between its selection and its commit (see ``locks``).
        session.add(hold)
        session.flush()
        if scope is not HoldScope.TENANT:
            model = Customer if scope is HoldScope.CUSTOMER else Interaction
            if session.get(model, target_id) is None:
                # Another tenant's id is as absent as one that exists nowhere.
                raise NotFound(f"no such {scope}")
        note.resource_id = hold.id
        note.details["reason"] = text
        return hold


def release_hold(
    db: Database,
    ctx: TenantContext,
    origin: Origin,
    hold_id: str,
    reason: str,
    *,
    clock: Clock = utc_now,
) -> LegalHold:
    """Release an active hold: what it covered becomes purgeable again at the next run."""
    with audited(
        db,
        ctx,
        origin,
        action="retention.hold.release",
        resource_type=RESOURCE,
        resource_id=hold_id,
        clock=clock,
    ) as (session, note):
        text = _reason(reason)
        hold = session.get(LegalHold, hold_id, with_for_update=db.is_postgres)
        if hold is None:
            raise NotFound("no such legal hold")
        if hold.released_at is not None:
            raise Conflict("this legal hold is already released")
        hold.released_at = clock()
        hold.released_by = origin.actor.id
        hold.release_reason = text
        note.details["scope"] = hold.scope
        note.details["reason"] = text
        return hold


def list_holds(session: Session, *, include_released: bool = False) -> list[LegalHold]:
    """The session tenant's holds, oldest first."""
    stmt = select(LegalHold).order_by(LegalHold.created_at, LegalHold.id)
    if not include_released:
        stmt = stmt.where(LegalHold.released_at.is_(None))
    return list(session.scalars(stmt))


def tenant_held(session: Session) -> bool:
    """Whether an active tenant-wide hold suspends every purge of the session tenant."""
    stmt = select(LegalHold.id).where(
        LegalHold.scope == HoldScope.TENANT.value, LegalHold.released_at.is_(None)
    )
    return session.scalars(stmt.limit(1)).first() is not None


def not_held() -> ColumnElement[bool]:
    """SQL: the ``Interaction`` of the statement is covered by no active hold."""
    active = LegalHold.released_at.is_(None)
    covering = or_(
        LegalHold.scope == HoldScope.TENANT.value,
        and_(
            LegalHold.scope == HoldScope.CUSTOMER.value,
            LegalHold.target_id == Interaction.customer_id,
        ),
        and_(
            LegalHold.scope == HoldScope.INTERACTION.value,
            LegalHold.target_id == Interaction.id,
        ),
    )
    return ~exists(
        select(LegalHold.id)
        .where(active, covering, LegalHold.tenant_id == Interaction.tenant_id)
        .correlate(Interaction)
    )


__all__ = ["HoldScope", "list_holds", "not_held", "place_hold", "release_hold", "tenant_held"]
