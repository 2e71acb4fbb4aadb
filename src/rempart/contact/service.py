"""Ingest interactions for a tenant and read them back.

Every function works inside a tenant-scoped session: the tenant is never a
parameter that a caller could get wrong, it is the session's.
"""

from __future__ import annotations

import base64
import binascii
import json
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.contact.models import (
    Customer,
    CustomerLookup,
    Interaction,
    Queue,
    Recording,
    TranscriptSegment,
)
from rempart.contact.policy import DataPolicy, load_policy
from rempart.contact.protect import ProtectionUnavailable, protect_content
from rempart.contact.schemas import (
    AgentRef,
    InteractionIn,
    InteractionOut,
    InteractionPage,
    InteractionSummary,
    RecordingOut,
    SegmentOut,
    View,
)
from rempart.contact.subjects import LookupKind, index_of, subject_of
from rempart.errors import BadRequest, Conflict, CryptoError, NotFound, ValidationFailed
from rempart.identity.models import User
from rempart.storage.base import new_id
from rempart.storage.tenancy import session_tenant
from rempart.types import Clock, TenantId, utc_now
from rempart.vault import FieldContext, UnknownKey, Vault

MAX_PAGE = 200


def _content_hash(vault: Vault, tenant: TenantId, payload: InteractionIn) -> str:
    """A keyed digest of the payload: detects a retry with other content, reveals nothing.

    Keyed with the tenant's index key, so that a digest of a short sensitive
    payload cannot be confirmed by hashing guesses.
    """
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    digest = vault.blind_index(tenant, "interaction.content", canonical, length=32, normalizer=str)
    return digest.hex()


def ingest(
    session: Session,
    payload: InteractionIn,
    *,
    created_by: str,
    vault: Vault | None,
    policy: DataPolicy | None = None,
    clock: Clock = utc_now,
) -> tuple[Interaction, bool]:
    """Protect and store an interaction; returns it and whether it was created.

    Protection, per the tenant's ``DataPolicy``: every text is redacted
    (fail-closed: an interaction that cannot be redacted is refused and
    nothing is stored), the redacted text is encrypted, the original too
    when the policy keeps it, all under the customer's own key when there is
    a customer; the customer's id, phone and e-mail are stored encrypted and
    found by blind indexes. Pushing the same interaction again (same
    ``external_id``, same content) returns the stored one unchanged; the
    same id with other content is a conflict. Either everything is stored
    or nothing is.
    """
    tenant_id = session_tenant(session)
    if tenant_id is None:
        raise ValidationFailed("no tenant in context")
    if vault is None:
        raise ProtectionUnavailable("no vault is configured: interactions cannot be protected")
    tenant = TenantId(tenant_id)
    _ensure_keys(vault, tenant)
    digest = _content_hash(vault, tenant, payload)
    existing = session.scalar(
        select(Interaction).where(Interaction.external_id == payload.external_id)
    )
    if existing is not None:
        if existing.content_sha256 != digest:
            raise Conflict("an interaction with this external_id exists with other content")
        return existing, False

    policy = policy if policy is not None else load_policy(session)
    now = clock()
    agent_id = None
    if payload.agent is not None:
        agent_id = session.scalar(
            select(User.id).where(
                User.issuer == payload.agent.issuer, User.subject == payload.agent.subject
            )
        )
        if agent_id is None:
            raise ValidationFailed("agent is not a known user of this tenant")
    # Checked before the customer's key is made, so a refused push leaves no key
    # behind; a queue to create is inserted after it (on SQLite the vault's own
    # transaction cannot write once this one holds the write lock).
    queue_id = _known_queue(session, payload.queue, policy) if payload.queue else None
    # Redaction, the costly part, once the cheap checks have passed.
    content = protect_content(payload, policy.redaction_policy())
    customer_id = None
    if payload.customer_id:
        customer_id = _customer(session, vault, tenant, payload, payload.customer_id, policy, now)
    subject = subject_of(customer_id) if customer_id else None
    keep = policy.keeps_original
    interaction_id = new_id()

    def seal(table: str, column: str, row_id: str, text: str) -> bytes:
        return vault.encrypt_field(
            FieldContext(tenant, table, column, row_id), text.encode(), subject=subject
        )

    interaction = Interaction(
        id=interaction_id,
        tenant_id=tenant,
        external_id=payload.external_id,
        channel=payload.channel,
        direction=payload.direction,
        language=payload.language,
        subject=None,
        subject_ct=seal("interactions", "subject", interaction_id, content.subject.redacted)
        if content.subject
        else None,
        subject_original_ct=seal(
            "interactions", "subject_original", interaction_id, content.subject.original
        )
        if content.subject and keep
        else None,
        protection=policy.protection,
        silence_ms=content.silence_ms or None,
        queue_id=queue_id or (_new_queue(session, payload.queue) if payload.queue else None),
        customer_id=customer_id,
        agent_id=agent_id,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        created_at=now,
        created_by=created_by,
        content_sha256=digest,
    )
    segments = []
    for i, (seg, protected) in enumerate(zip(payload.segments, content.segments, strict=True)):
        seg_id = new_id()
        segments.append(
            TranscriptSegment(
                id=seg_id,
                tenant_id=tenant,
                seq=i,
                speaker=seg.speaker,
                start_ms=seg.start_ms,
                end_ms=seg.end_ms,
                sent_at=seg.sent_at,
                text=None,
                redacted_ct=seal("transcript_segments", "redacted", seg_id, protected.redacted),
                original_ct=seal("transcript_segments", "original", seg_id, protected.original)
                if keep
                else None,
                entities=protected.entities or None,
            )
        )
    interaction.segments = segments
    interaction.recordings = [
        Recording(
            id=new_id(),
            tenant_id=tenant,
            media_type=rec.media_type,
            duration_ms=rec.duration_ms,
            size_bytes=rec.size_bytes,
            sha256=rec.sha256,
            channels=rec.channels,
            media_status="pending",
        )
        for rec in payload.recordings
    ]
    session.add(interaction)
    try:
        session.flush()
    except IntegrityError as exc:
        # Another request stored the same external_id between our check and
        # our insert; the client's retry will get the stored one.
        raise Conflict("the same interaction is being stored concurrently; retry") from exc
    return interaction, True


_KEYRINGS: weakref.WeakKeyDictionary[Vault, set[str]] = weakref.WeakKeyDictionary()


def _ensure_keys(vault: Vault, tenant: TenantId) -> None:
    """The tenant's keyring exists (created on its first push); looked up once per process."""
    known = _KEYRINGS.setdefault(vault, set())
    if tenant not in known:
        vault.ensure_tenant(tenant)
        known.add(tenant)


def _customer(
    session: Session,
    vault: Vault,
    tenant: TenantId,
    payload: InteractionIn,
    external_id: str,
    policy: DataPolicy,
    now: datetime,
) -> str:
    """The customer's row id, created with its encrypted id and blind indexes if new."""
    index = index_of(vault, tenant, LookupKind.CUSTOMER_ID, external_id)
    found = session.scalar(select(Customer.id).where(Customer.id_index == index))
    if found is None:
        row_id = new_id()
        _insert_sealed(
            session,
            vault,
            Customer,
            row_id,
            ("external_id", external_id),
            subject=subject_of(row_id),
            id_index=index,
            created_at=now,
        )
        found = session.scalars(select(Customer.id).where(Customer.id_index == index)).one()
    contacts = [
        (LookupKind.PHONE, payload.customer_phone),
        (LookupKind.EMAIL, payload.customer_email),
    ]
    for kind, value in contacts:
        if value is None:
            continue
        digest = index_of(vault, tenant, kind, value, phone_region=policy.phone_region)
        known = session.scalar(
            select(CustomerLookup.id).where(
                CustomerLookup.customer_id == found,
                CustomerLookup.kind == kind.value,
                CustomerLookup.digest == digest,
            )
        )
        if known is not None:
            continue
        _insert_sealed(
            session,
            vault,
            CustomerLookup,
            new_id(),
            ("value", value),
            subject=subject_of(found),
            customer_id=found,
            kind=kind.value,
            digest=digest,
        )
    return found


def _insert_sealed(
    session: Session,
    vault: Vault,
    model: type[Customer] | type[CustomerLookup],
    row_id: str,
    secret: tuple[str, str],
    *,
    subject: str,
    **values: Any,
) -> None:
    """Insert a row whose ``<column>_ct`` is ``secret`` sealed under ``subject``'s key,
    unless a concurrent insert of the same unique values won (``ON CONFLICT DO NOTHING``)."""
    tenant = TenantId(str(session_tenant(session)))
    column, value = secret
    sealed = vault.encrypt_field(
        FieldContext(tenant, model.__tablename__, column, row_id), value.encode(), subject=subject
    )
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(model).values(id=row_id, tenant_id=tenant, **{f"{column}_ct": sealed}, **values)
    session.execute(stmt.on_conflict_do_nothing())


def _get_or_create(
    session: Session,
    model: type[Queue],
    key: dict[str, str],
    extra: dict[str, Any],
) -> str:
    """Id of the tenant's row with ``key``, inserting it if absent, safe under concurrency.

    ``INSERT ... ON CONFLICT DO NOTHING`` then ``SELECT``: two requests that
    both see the row missing do not fail, the second simply finds the first's.
    """
    tenant = session_tenant(session)
    where = [getattr(model, k) == v for k, v in key.items()]
    found = session.scalar(select(model.id).where(*where))
    if found is not None:
        return found
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(model).values(id=new_id(), tenant_id=tenant, **key, **extra).on_conflict_do_nothing()
    )
    return session.scalars(select(model.id).where(*where)).one()


def _known_queue(session: Session, name: str, policy: DataPolicy) -> str | None:
    """The queue's id; None when it is unknown and the policy creates queues."""
    found = session.scalar(select(Queue.id).where(Queue.name == name))
    if found is None and policy.unknown_queues != "create":
        raise ValidationFailed(
            f"unknown queue {name!r}: declare it first (rempart contact queue add) "
            "or let the tenant's policy create queues"
        )
    return found


def _new_queue(session: Session, name: str) -> str:
    return _get_or_create(session, Queue, {"name": name}, {})


def get(
    session: Session, interaction_id: str, *, vault: Vault | None, view: View = "redacted"
) -> InteractionOut:
    """One interaction of the session's tenant; another tenant's id is simply not found."""
    return to_out(session, find(session, interaction_id), vault=vault, view=view)


def find(session: Session, interaction_id: str) -> Interaction:
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("no such interaction")
    return interaction


def list_page(
    session: Session,
    *,
    vault: Vault | None,
    limit: int = 50,
    cursor: str | None = None,
    channel: str | None = None,
    queue: str | None = None,
    agent_id: str | None = None,
    customer_ids: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> InteractionPage:
    """Interactions of the session's tenant, newest first, with keyset pagination."""
    rows, next_cursor = page_rows(
        session,
        limit=limit,
        cursor=cursor,
        channel=channel,
        queue=queue,
        agent_id=agent_id,
        customer_ids=customer_ids,
        since=since,
        until=until,
    )
    return InteractionPage(items=summaries(session, rows, vault=vault), next_cursor=next_cursor)


def page_rows(
    session: Session,
    *,
    limit: int = 50,
    cursor: str | None = None,
    channel: str | None = None,
    queue: str | None = None,
    agent_id: str | None = None,
    customer_ids: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[Interaction], str | None]:
    """One page of stored rows (newest first) and the cursor of the next, if any."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be between 1 and {MAX_PAGE}")
    stmt = select(Interaction)
    if channel is not None:
        stmt = stmt.where(Interaction.channel == channel)
    if queue is not None:
        stmt = stmt.where(Interaction.queue_id.in_(select(Queue.id).where(Queue.name == queue)))
    if agent_id is not None:
        stmt = stmt.where(Interaction.agent_id == agent_id)
    if customer_ids is not None:
        stmt = stmt.where(Interaction.customer_id.in_(customer_ids))
    if since is not None:
        stmt = stmt.where(Interaction.started_at >= since)
    if until is not None:
        stmt = stmt.where(Interaction.started_at < until)
    if cursor is not None:
        created_at, last_id = decode_cursor(cursor)
        stmt = stmt.where(
            tuple_(Interaction.created_at, Interaction.id) < tuple_(created_at, last_id)
        )
    stmt = stmt.order_by(Interaction.created_at.desc(), Interaction.id.desc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def summaries(
    session: Session, rows: list[Interaction], *, vault: Vault | None
) -> list[InteractionSummary]:
    names = _queue_names(session, {r.queue_id for r in rows if r.queue_id})
    customers = _customer_refs(session, vault, {r.customer_id for r in rows if r.customer_id})
    return [_summary(r, names, customers) for r in rows]


def encode_cursor(row: Interaction) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, row_id = json.loads(raw)
        when = datetime.fromisoformat(created)
        if when.tzinfo is None or not isinstance(row_id, str):
            raise ValueError("bad cursor")
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid cursor") from exc
    return when, row_id


def _queue_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {q.id: q.name for q in session.scalars(select(Queue).where(Queue.id.in_(ids)))}


def _customer_refs(session: Session, vault: Vault | None, ids: set[str]) -> dict[str, str]:
    """The tenant's own ids of these customers, decrypted ("[erased]" once shredded)."""
    if not ids:
        return {}
    stmt = select(Customer).where(Customer.id.in_(ids))
    return {c.id: _customer_ref(vault, c) for c in session.scalars(stmt)}


ERASED = "[erased]"


def _customer_ref(vault: Vault | None, c: Customer) -> str:
    if c.external_id_ct is None:
        return c.external_id or ERASED  # stored before protection on ingest
    ctx = FieldContext(TenantId(c.tenant_id), "customers", "external_id", c.id)
    return _open(vault, ctx, c.external_id_ct) or ERASED


def _open(vault: Vault | None, ctx: FieldContext, sealed: bytes) -> str | None:
    """Decrypt a stored value; None when its key was shredded (the data is gone)."""
    if vault is None:
        raise ProtectionUnavailable("no vault is configured: protected data cannot be read")
    try:
        return vault.decrypt_field(ctx, sealed).decode()
    except (UnknownKey, CryptoError):
        return None


def contacts(session: Session, vault: Vault | None, customer_id: str) -> dict[str, str]:
    """The customer's phone and e-mail in clear (the caller applies masks)."""
    out: dict[str, str] = {}
    stmt = (
        select(CustomerLookup)
        .where(CustomerLookup.customer_id == customer_id)
        .order_by(CustomerLookup.kind, CustomerLookup.id)
    )
    for row in session.scalars(stmt):
        if row.kind in out or row.kind == LookupKind.CUSTOMER_ID:
            continue
        ctx = FieldContext(TenantId(row.tenant_id), "customer_lookups", "value", row.id)
        value = _open(vault, ctx, row.value_ct)
        if value is not None:
            out[row.kind] = value
    return out


def _summary(
    r: Interaction, queues: dict[str, str], customers: dict[str, str]
) -> InteractionSummary:
    return InteractionSummary(
        id=r.id,
        external_id=r.external_id,
        channel=r.channel,
        direction=r.direction,
        language=r.language,
        queue=queues.get(r.queue_id) if r.queue_id else None,
        customer_id=customers.get(r.customer_id) if r.customer_id else None,
        started_at=r.started_at,
        ended_at=r.ended_at,
        created_at=r.created_at,
    )


def to_out(
    session: Session, r: Interaction, *, vault: Vault | None, view: View = "redacted"
) -> InteractionOut:
    """The stored interaction decrypted: redacted text, or the original for ``view="original"``.

    Contact details come back in clear; callers apply the access decision's
    masks before anything leaves the process (``rempart.api.presentation``).
    """
    queues = _queue_names(session, {r.queue_id} if r.queue_id else set())
    customers = _customer_refs(session, vault, {r.customer_id} if r.customer_id else set())
    agent = session.get(User, r.agent_id) if r.agent_id else None
    summary = _summary(r, queues, customers)
    tenant = TenantId(r.tenant_id)
    if view == "original" and r.protection != "redacted+original":
        raise NotFound("no original is kept for this interaction")
    column = "redacted" if view == "redacted" else "original"

    def text_of(s: TranscriptSegment) -> str:
        sealed = s.redacted_ct if view == "redacted" else s.original_ct
        if sealed is None:
            return s.text or ""  # stored before protection on ingest
        ctx = FieldContext(tenant, "transcript_segments", column, s.id)
        return _open(vault, ctx, sealed) or ERASED

    subject = r.subject
    sealed_subject = r.subject_ct if view == "redacted" else r.subject_original_ct
    if sealed_subject is not None:
        subject_column = "subject" if view == "redacted" else "subject_original"
        ctx = FieldContext(tenant, "interactions", subject_column, r.id)
        subject = _open(vault, ctx, sealed_subject) or ERASED
    found = contacts(session, vault, r.customer_id) if r.customer_id else {}
    return InteractionOut(
        **summary.model_dump(),
        subject=subject,
        agent=AgentRef(issuer=agent.issuer, subject=agent.subject) if agent else None,
        segments=[
            SegmentOut(
                seq=s.seq,
                speaker=s.speaker,
                text=text_of(s),
                start_ms=s.start_ms,
                end_ms=s.end_ms,
                sent_at=s.sent_at,
                entities=s.entities or {},
            )
            for s in r.segments
        ],
        recordings=[
            RecordingOut(
                id=x.id,
                media_type=x.media_type,
                duration_ms=x.duration_ms,
                size_bytes=x.size_bytes,
                sha256=x.sha256,
                channels=x.channels,
                media_status=x.media_status,
            )
            for x in r.recordings
        ],
        protection=r.protection,
        view=view,
        customer_phone=found.get(LookupKind.PHONE),
        customer_email=found.get(LookupKind.EMAIL),
    )


__all__ = [
    "ERASED",
    "MAX_PAGE",
    "contacts",
    "decode_cursor",
    "encode_cursor",
    "find",
    "get",
    "ingest",
    "list_page",
    "page_rows",
    "summaries",
    "to_out",
]
