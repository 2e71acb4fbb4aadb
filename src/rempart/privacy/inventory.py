"""Find a data subject (by blind indexes) and list what is stored about them.

Everything here runs in a tenant session, reads only, and decrypts nothing:
an inventory says which rows and files exist (ids, channels, dates, counts),
never what they contain.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rempart.audit import Origin, audited
from rempart.contact.models import (
    Customer,
    CustomerLookup,
    Interaction,
    Recording,
    TranscriptSegment,
)
from rempart.contact.policy import load_policy
from rempart.contact.subjects import LookupKind, find_customers
from rempart.errors import ValidationFailed
from rempart.privacy.errors import AmbiguousSubject, SubjectNotFound
from rempart.privacy.models import ErasureRequest, PrivacyExport
from rempart.storage import Database, TenantContext
from rempart.types import Clock, utc_now
from rempart.vault import Vault


@dataclass(frozen=True, slots=True)
class Selector:
    """How a person is looked for: the tenant's customer id, a phone, an e-mail, or a row id.

    ``ref`` is Rempart's own ``Customer.id`` (what ``find`` prints); the others
    go through blind indexes.
    """

    customer_id: str | None = None
    phone: str | None = None
    email: str | None = None
    ref: str | None = None

    def __post_init__(self) -> None:
        if not any((self.customer_id, self.phone, self.email, self.ref)):
            raise ValidationFailed("give a customer id, a phone number, an e-mail or a reference")


@dataclass(frozen=True, slots=True)
class InteractionItem:
    id: str
    external_id: str
    channel: str
    direction: str
    started_at: datetime
    ended_at: datetime | None
    created_at: datetime
    protection: str | None
    segments: int
    originals: int
    recordings: int


@dataclass(frozen=True, slots=True)
class ExportItem:
    id: str
    created_at: datetime
    sha256: str
    stored: bool
    erased_at: datetime | None


@dataclass(frozen=True, slots=True)
class Inventory:
    """What is stored about one customer (ids, dates and counts; no content)."""

    customer: str
    created_at: datetime
    erased_at: datetime | None
    identifiers: dict[str, int]
    interactions: list[InteractionItem] = field(default_factory=list)
    exports: list[ExportItem] = field(default_factory=list)
    erasure: str | None = None

    def totals(self) -> dict[str, int]:
        return {
            "interactions": len(self.interactions),
            "segments": sum(i.segments for i in self.interactions),
            "originals": sum(i.originals for i in self.interactions),
            "recordings": sum(i.recordings for i in self.interactions),
            "identifiers": sum(self.identifiers.values()),
            "exports": sum(1 for e in self.exports if e.stored),
        }

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["totals"] = self.totals()
        doc: dict[str, Any] = _jsonable(out)
        return doc


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def matching(
    session: Session, vault: Vault, selector: Selector, *, include_erased: bool = False
) -> list[str]:
    """Ids of the customers every given criterion matches (the intersection)."""
    found: set[str] | None = None

    def narrow(ids: set[str]) -> None:
        nonlocal found
        found = ids if found is None else found & ids

    if selector.ref is not None:
        narrow(set(session.scalars(select(Customer.id).where(Customer.id == selector.ref))))
    if selector.customer_id is not None:
        ids = set(find_customers(session, vault, LookupKind.CUSTOMER_ID, selector.customer_id))
        # Rows stored before protection on ingest keep the id in clear.
        legacy = select(Customer.id).where(Customer.external_id == selector.customer_id)
        narrow(ids | set(session.scalars(legacy)))
    if selector.phone is not None:
        # Read a national number in the region the tenant's ingestion indexed it in.
        region = load_policy(session).phone_region
        found_ids = find_customers(
            session, vault, LookupKind.PHONE, selector.phone, phone_region=region
        )
        narrow(set(found_ids))
    if selector.email is not None:
        narrow(set(find_customers(session, vault, LookupKind.EMAIL, selector.email)))
    ids = found or set()
    if not ids:
        return []
    stmt = select(Customer.id).where(Customer.id.in_(ids))
    if not include_erased:
        stmt = stmt.where(Customer.erased_at.is_(None))
    return sorted(session.scalars(stmt))


def resolve(
    session: Session, vault: Vault, selector: Selector, *, include_erased: bool = False
) -> str:
    """The one customer a selector designates; ``SubjectNotFound`` or ``AmbiguousSubject``."""
    ids = matching(session, vault, selector, include_erased=include_erased)
    if not ids:
        raise SubjectNotFound("no customer of this tenant matches")
    if len(ids) > 1:
        raise AmbiguousSubject(
            f"{len(ids)} customers match: narrow the search or give one reference",
            references=ids,
        )
    return ids[0]


def inventory(session: Session, customer_id: str) -> Inventory:
    """What is stored about one customer of the session's tenant."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise SubjectNotFound("no customer of this tenant has this reference")
    identifiers: dict[str, int] = dict(
        session.execute(
            select(CustomerLookup.kind, func.count())
            .where(CustomerLookup.customer_id == customer_id)
            .group_by(CustomerLookup.kind)
        ).all()
    )
    if customer.id_index is not None or customer.external_id_ct is not None:
        identifiers[LookupKind.CUSTOMER_ID.value] = identifiers.get("customer_id", 0) + 1
    elif customer.external_id is not None:
        identifiers["customer_id_legacy"] = 1
    rows = session.execute(
        select(
            Interaction.id,
            Interaction.external_id,
            Interaction.channel,
            Interaction.direction,
            Interaction.started_at,
            Interaction.ended_at,
            Interaction.created_at,
            Interaction.protection,
            Interaction.subject_original_ct.is_not(None),
        )
        .where(Interaction.customer_id == customer_id)
        .order_by(Interaction.started_at, Interaction.id)
    ).all()
    ids = [r[0] for r in rows]
    segments = _count_by(session, TranscriptSegment.interaction_id, ids)
    originals = _count_by(
        session, TranscriptSegment.interaction_id, ids, TranscriptSegment.original_ct.is_not(None)
    )
    recordings = _count_by(session, Recording.interaction_id, ids)
    interactions = [
        InteractionItem(
            id=r[0],
            external_id=r[1],
            channel=r[2],
            direction=r[3],
            started_at=r[4],
            ended_at=r[5],
            created_at=r[6],
            protection=r[7],
            segments=segments.get(r[0], 0),
            originals=originals.get(r[0], 0) + (1 if r[8] else 0),
            recordings=recordings.get(r[0], 0),
        )
        for r in rows
    ]
    exports = [
        ExportItem(e.id, e.created_at, e.sha256, e.location is not None, e.erased_at)
        for e in session.scalars(
            select(PrivacyExport)
            .where(PrivacyExport.customer_id == customer_id)
            .order_by(PrivacyExport.created_at, PrivacyExport.id)
        )
    ]
    erasure = session.scalar(
        select(ErasureRequest.status).where(ErasureRequest.customer_id == customer_id)
    )
    return Inventory(
        customer=customer.id,
        created_at=customer.created_at,
        erased_at=customer.erased_at,
        identifiers=identifiers,
        interactions=interactions,
        exports=exports,
        erasure=erasure,
    )


def _count_by(session: Session, column: Any, ids: list[str], *extra: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stmt = select(column, func.count()).where(column.in_(chunk), *extra).group_by(column)
        out.update({k: int(v) for k, v in session.execute(stmt).all()})
    return out


def find(
    session: Session, vault: Vault, selector: Selector, *, include_erased: bool = False
) -> list[Inventory]:
    """Every matching customer with its inventory (erased ones only when asked)."""
    return [
        inventory(session, cid)
        for cid in matching(session, vault, selector, include_erased=include_erased)
    ]


def search(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    selector: Selector,
    *,
    origin: Origin,
    include_erased: bool = False,
    clock: Clock = utc_now,
) -> list[Inventory]:
    """``find`` as an audited act (``privacy.find``): which criteria, how many matched.

    The audit entry names the kinds of criteria given, never their values.
    """
    with audited(
        db, ctx, origin, action="privacy.find", resource_type="data_subject", clock=clock
    ) as (session, note):
        criteria = [
            name
            for name in ("customer_id", "phone", "email", "ref")
            if getattr(selector, name) is not None
        ]
        note.details = {"criteria": criteria}
        found = find(session, vault, selector, include_erased=include_erased)
        note.details = {"criteria": criteria, "matches": len(found)}
        return found


__all__ = [
    "ExportItem",
    "InteractionItem",
    "Inventory",
    "Selector",
    "find",
    "inventory",
    "matching",
    "resolve",
    "search",
]
