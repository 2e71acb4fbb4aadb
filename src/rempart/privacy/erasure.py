"""Article 17: erase a data subject by crypto-shredding their key, then deleting what is left.

Order, each step committed before the next, so a stopped run resumes where it
stopped (``erase_subject`` again with the same customer) and a finished one
just returns its certificate:

1. ``start``: legal holds checked (``LegalHoldActive`` refuses, GDPR art.
   17(3)(e)); the request recorded; the customer's id index cleared, so no
   new interaction can attach to them while the erasure runs.
2. ``shred``: ``vault.shred_subject`` destroys every version of the subject
   key: from here every ciphertext of theirs (identifiers, transcripts,
   originals, recordings, stored exports, backups of all of these) is
   unreadable.
3. ``delete``, in batches of one transaction each: interactions with their
   segments, recordings (media through ``RecordingMedia``) and payment
   captures; the lookup rows (blind indexes); past exports' stored copies.
4. ``certify``: the key shredded again (anything a racing writer created),
   the customer row marked erased and emptied, the completion audited, and a
   certificate signed with the platform's audit key naming that audit entry.

Every step appends to the tenant's audit log: counts and the subject's
pseudonym, never content or identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, Origin, append, audited
from rempart.audit.note import NoteSigner
from rempart.contact.models import (
    Customer,
    CustomerLookup,
    Interaction,
    Recording,
    TranscriptSegment,
)
from rempart.contact.payments.models import PaymentCapture
from rempart.contact.subjects import subject_of
from rempart.errors import Conflict, RempartError, ValidationFailed
from rempart.privacy.certificate import CERTIFICATE_FORMAT, sign_certificate
from rempart.privacy.errors import LegalHoldActive, SubjectNotFound
from rempart.privacy.models import ErasureRequest, PrivacyExport
from rempart.privacy.ports import ExportStore, LegalHolds, NoHolds, NoMedia, RecordingMedia
from rempart.storage import Database, TenantContext, new_id
from rempart.types import Clock, TenantId, utc_now
from rempart.vault import KeyStatus, Vault
from rempart.vault.records import subject_key_id

STARTED: Final = "started"
SHREDDED: Final = "shredded"
CERTIFIED: Final = "certified"
LEGAL_BASIS: Final = "GDPR art. 17"
PSEUDONYM_DOMAIN: Final = "privacy-subject"
DATA_CLASSES: Final = (
    "interactions",
    "segments",
    "originals",
    "recordings",
    "media_objects",
    "payment_captures",
    "lookups",
    "exports",
    "customer_records",
)


@dataclass(frozen=True, slots=True)
class ErasureResult:
    request_id: str
    customer: str
    subject: str
    status: str
    counts: dict[str, int]
    key_versions: list[int]
    certificate: str | None

    @property
    def complete(self) -> bool:
        return self.status == CERTIFIED


def subject_pseudonym(vault: Vault, tenant: TenantId, customer_id: str) -> str:
    """How certificates and audit entries name a customer (stable, keyed, not reversible)."""
    return vault.pseudonym(tenant, customer_id, domain=PSEUDONYM_DOMAIN)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class _Run:
    """One call of ``erase_subject``: its collaborators and the request it works on."""

    def __init__(
        self,
        db: Database,
        vault: Vault,
        ctx: TenantContext,
        origin: Origin,
        *,
        signer: NoteSigner,
        store: ExportStore,
        media: RecordingMedia,
        holds: LegalHolds,
        batch_size: int,
        clock: Clock,
    ) -> None:
        self.db, self.vault, self.ctx, self.origin = db, vault, ctx, origin
        self.tenant = ctx.tenant_id
        self.signer, self.store, self.media, self.holds = signer, store, media, holds
        self.batch_size, self.clock = batch_size, clock
        self.request_id = ""

    def step(self, action: str) -> Any:
        return audited(
            self.db,
            self.ctx,
            self.origin,
            action=f"privacy.erasure.{action}",
            resource_type="data_subject",
            resource_id=self.request_id or None,
            clock=self.clock,
        )

    # 1. start
    def start(self, customer_id: str, reason: str, *, resuming: bool) -> str:
        with self.step("resume" if resuming else "start") as (session, note):
            req = _request(session, customer_id)
            if req is None:
                customer = session.get(Customer, customer_id)
                if customer is None:
                    raise SubjectNotFound("no customer of this tenant has this reference")
                pseudonym = subject_pseudonym(self.vault, self.tenant, customer_id)
                note.details = {"subject": pseudonym}
                self._check_holds(session, customer_id, note)
                req = ErasureRequest(
                    id=new_id(),
                    tenant_id=self.tenant,
                    customer_id=customer_id,
                    subject_pseudonym=pseudonym,
                    reason=reason,
                    requested_by=f"{self.origin.actor.type}:{self.origin.actor.id}",
                    requested_at=self.clock(),
                    status=STARTED,
                    counts={},
                )
                session.add(req)
                try:
                    session.flush()
                except IntegrityError as exc:
                    raise Conflict(
                        "an erasure of this customer is being started concurrently; retry"
                    ) from exc
            elif req.status == STARTED:
                note.details = {"subject": req.subject_pseudonym}
                self._check_holds(session, customer_id, note)
            session.execute(
                update(Customer).where(Customer.id == customer_id).values(id_index=None)
            )
            self.request_id = note.resource_id = req.id
            note.details = {"subject": req.subject_pseudonym, "status": req.status}
            return req.status

    def _check_holds(self, session: Session, customer_id: str, note: Any) -> None:
        ids = list(
            session.scalars(select(Interaction.id).where(Interaction.customer_id == customer_id))
        )
        held = list(self.holds.holds_for(session, customer_id=customer_id, interaction_ids=ids))
        if held:
            note.details = {**note.details, "holds": len(held)}
            raise LegalHoldActive(
                f"erasure refused: {len(held)} legal hold(s) cover this data subject's data "
                "(GDPR art. 17(3)(e)); release them first",
                holds=sorted(held),
            )

    # 2. shred
    def shred(self, customer_id: str) -> None:
        subject = subject_of(customer_id)
        self.vault.shred_subject(self.tenant, subject, reason=f"erasure {self.request_id}")
        destroyed = self.destroyed_versions(customer_id)
        with self.step("shred") as (session, note):
            req = self._get(session)
            req.status = SHREDDED
            req.key_versions = destroyed
            note.details = {"key_versions": len(destroyed)}

    def destroyed_versions(self, customer_id: str) -> list[int]:
        key_id = subject_key_id(subject_of(customer_id))
        deks = self.vault.keys.store.list_deks(self.tenant, key_id)
        return sorted(d.version for d in deks if d.status is KeyStatus.DESTROYED)

    def _get(self, session: Session) -> ErasureRequest:
        req = session.get(ErasureRequest, self.request_id)
        if req is None:  # pragma: no cover - the request was committed by ``start``
            raise SubjectNotFound("the erasure request has vanished")
        return req

    def _add_counts(self, session: Session, added: dict[str, int]) -> None:
        req = self._get(session)
        counts = dict(req.counts or {})
        for key, value in added.items():
            counts[key] = int(counts.get(key, 0)) + value
        req.counts = counts  # a new dict, so the JSON column is seen as changed

    # 3. delete
    def delete_batch(self, customer_id: str) -> bool:
        """One batch of whatever is left, in one transaction; False when nothing is left."""
        return (
            self._interactions(customer_id)
            or self._lookups(customer_id)
            or self._exports(customer_id)
        )

    def _interactions(self, customer_id: str) -> bool:
        with self.db.tenant_session(self.ctx) as session:
            ids = list(
                session.scalars(
                    select(Interaction.id)
                    .where(Interaction.customer_id == customer_id)
                    .order_by(Interaction.id)
                    .limit(self.batch_size)
                )
            )
            if not ids:
                return False
            recordings = list(
                session.scalars(select(Recording.id).where(Recording.interaction_id.in_(ids)))
            )
        media_objects = sum(self.media.erase_media(self.tenant, rid) for rid in recordings)
        with self.step("delete") as (session, note):
            seg_of = TranscriptSegment.interaction_id.in_(ids)
            batch = {
                "interactions": len(ids),
                "segments": _count(session, TranscriptSegment, seg_of),
                "originals": _count(
                    session, TranscriptSegment, seg_of, TranscriptSegment.original_ct.is_not(None)
                )
                + _count(
                    session,
                    Interaction,
                    Interaction.id.in_(ids),
                    Interaction.subject_original_ct.is_not(None),
                ),
                "recordings": len(recordings),
                "media_objects": media_objects,
                "payment_captures": _count(
                    session, PaymentCapture, PaymentCapture.interaction_id.in_(ids)
                ),
            }
            for model, column in (
                (PaymentCapture, PaymentCapture.interaction_id),
                (TranscriptSegment, TranscriptSegment.interaction_id),
                (Recording, Recording.interaction_id),
                (Interaction, Interaction.id),
            ):
                session.execute(
                    delete(model)
                    .where(column.in_(ids))
                    .execution_options(synchronize_session=False)
                )
            self._add_counts(session, batch)
            note.details = {"step": "interactions", **batch}
        return True

    def _lookups(self, customer_id: str) -> bool:
        with self.db.tenant_session(self.ctx) as session:
            ids = list(
                session.scalars(
                    select(CustomerLookup.id)
                    .where(CustomerLookup.customer_id == customer_id)
                    .limit(self.batch_size)
                )
            )
        if not ids:
            return False
        with self.step("delete") as (session, note):
            deleted = _rowcount(
                session.execute(
                    delete(CustomerLookup)
                    .where(CustomerLookup.id.in_(ids))
                    .execution_options(synchronize_session=False)
                )
            )
            self._add_counts(session, {"lookups": deleted})
            note.details = {"step": "lookups", "lookups": deleted}
        return True

    def _exports(self, customer_id: str) -> bool:
        with self.db.tenant_session(self.ctx) as session:
            rows = session.execute(
                select(PrivacyExport.id, PrivacyExport.location)
                .where(
                    PrivacyExport.customer_id == customer_id, PrivacyExport.location.is_not(None)
                )
                .limit(self.batch_size)
            ).all()
        if not rows:
            return False
        files = sum(1 for _, location in rows if location and self.store.delete(location))
        with self.step("delete") as (session, note):
            session.execute(
                update(PrivacyExport)
                .where(PrivacyExport.id.in_([r[0] for r in rows]))
                .values(location=None, stored_sha256=None, erased_at=self.clock())
                .execution_options(synchronize_session=False)
            )
            self._add_counts(session, {"exports": len(rows)})
            note.details = {"step": "exports", "exports": len(rows), "files": files}
        return True

    # 4. certify
    def certify(self, customer_id: str) -> None:
        # A writer that read the id index before ``start`` cleared it may have created a new
        # version of the subject key since: shred again (a no-op otherwise).
        self.vault.shred_subject(
            self.tenant, subject_of(customer_id), reason=f"erasure {self.request_id}"
        )
        destroyed = self.destroyed_versions(customer_id)
        try:
            with self.db.tenant_session(self.ctx) as session:
                req = self._get(session)
                now = self.clock()
                customer = session.get(Customer, customer_id)
                if customer is not None:
                    customer.erased_at = customer.erased_at or now
                    customer.id_index = None
                    customer.external_id_ct = None
                    customer.external_id = None
                    self._add_counts(session, {"customer_records": 1})
                counts = {k: int(req.counts.get(k, 0)) for k in DATA_CLASSES}
                record = append(
                    session,
                    AuditEvent(
                        tenant_id=self.tenant,
                        actor=self.origin.actor,
                        action="privacy.erasure.complete",
                        resource_type="data_subject",
                        resource_id=req.id,
                        outcome="success",
                        time=now,
                        request_id=self.origin.request_id,
                        details={
                            **counts,
                            "key_versions": len(destroyed),
                            "subject": req.subject_pseudonym,
                        },
                    ),
                    clock=self.clock,
                )
                certificate = {
                    "format": CERTIFICATE_FORMAT,
                    "version": 1,
                    "tenant": str(self.tenant),
                    "request_id": req.id,
                    "subject": req.subject_pseudonym,
                    "legal_basis": LEGAL_BASIS,
                    "requested_at": _rfc3339(req.requested_at),
                    "completed_at": _rfc3339(now),
                    "counts": counts,
                    "key_versions_destroyed": destroyed,
                    "audit_entry": {"id": record.id, "seq": record.seq},
                }
                req.certificate = sign_certificate(certificate, self.signer)
                req.key_versions = destroyed
                req.audit_record_id = record.id
                req.completed_at = now
                req.status = CERTIFIED
        except RempartError as exc:
            with self.step("certify") as (session, note):
                note.details = {"failed": exc.slug}
            raise


def _request(session: Session, customer_id: str) -> ErasureRequest | None:
    return session.scalar(select(ErasureRequest).where(ErasureRequest.customer_id == customer_id))


def _rowcount(result: Any) -> int:
    """Rows a DELETE matched (``CursorResult.rowcount``)."""
    return int(result.rowcount)


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _result(db: Database, ctx: TenantContext, customer_id: str) -> ErasureResult:
    with db.tenant_session(ctx) as session:
        req = _request(session, customer_id)
        if req is None:  # pragma: no cover - called after ``start``
            raise SubjectNotFound("no erasure request for this customer")
        return ErasureResult(
            request_id=req.id,
            customer=req.customer_id,
            subject=req.subject_pseudonym,
            status=req.status,
            counts={k: int(req.counts.get(k, 0)) for k in DATA_CLASSES},
            key_versions=list(req.key_versions or []),
            certificate=req.certificate,
        )


def erase_subject(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    customer_id: str,
    *,
    reason: str,
    origin: Origin,
    signer: NoteSigner,
    store: ExportStore,
    media: RecordingMedia | None = None,
    holds: LegalHolds | None = None,
    batch_size: int = 200,
    max_batches: int | None = None,
    clock: Clock = utc_now,
) -> ErasureResult:
    """Erase one customer (see the module's steps); resumes a stopped erasure.

    ``max_batches`` bounds the deletion batches of this call (0: stop right
    after shredding); the result's ``complete`` says whether the certificate
    was issued. A finished erasure returns its stored certificate unchanged.
    """
    reason = " ".join(reason.split())
    if not reason or len(reason) > 500:
        raise ValidationFailed("an erasure needs a reason of 1 to 500 characters")
    if batch_size < 1 or (max_batches is not None and max_batches < 0):
        raise ValidationFailed("batch size must be positive and max batches not negative")
    with db.tenant_session(ctx) as session:
        found = _request(session, customer_id)
        if found is not None and found.status == CERTIFIED:
            return _result(db, ctx, customer_id)
    run = _Run(
        db,
        vault,
        ctx,
        origin,
        signer=signer,
        store=store,
        media=media if media is not None else NoMedia(),
        holds=holds if holds is not None else NoHolds(),
        batch_size=batch_size,
        clock=clock,
    )
    status = run.start(customer_id, reason, resuming=found is not None)
    if status == STARTED:
        run.shred(customer_id)
    batches = 0
    while max_batches is None or batches < max_batches:
        if not run.delete_batch(customer_id):
            run.certify(customer_id)
            break
        batches += 1
    return _result(db, ctx, customer_id)


__all__ = [
    "CERTIFIED",
    "DATA_CLASSES",
    "LEGAL_BASIS",
    "SHREDDED",
    "STARTED",
    "ErasureResult",
    "erase_subject",
    "subject_pseudonym",
]
