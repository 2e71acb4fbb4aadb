"""Article 15: a data subject's data as one archive, sealed for delivery and kept sealed.

``export_subject`` decrypts what is stored about one customer into a tar
(``rempart.privacy.archive``), writes it sealed under the requester's
passphrase (``rempart.privacy.sealed``) to ``out``, and keeps a copy sealed
under the *subject's* vault key in the export store, with a record in
``privacy_exports``. Erasing the subject shreds that key, so past exports
become unreadable with everything else, backups of the store included.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, BinaryIO, Final, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit import Origin, audited
from rempart.contact.models import Customer, CustomerLookup, Interaction
from rempart.contact.subjects import subject_of
from rempart.errors import ValidationFailed
from rempart.privacy.archive import ArchiveWriter
from rempart.privacy.errors import SubjectNotFound
from rempart.privacy.models import ErasureRequest, PrivacyExport
from rempart.privacy.ports import ExportStore, NoMedia, RecordingMedia
from rempart.privacy.sealed import DEFAULT_LOG2_N, MIN_PASSPHRASE, seal
from rempart.storage import Database, TenantContext, new_id
from rempart.types import Clock, TenantId, utc_now
from rempart.vault import FieldContext, Vault

_SPOOL: Final = 8 * 1024 * 1024
_EXTENSIONS: Final = {
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/flac": ".flac",
    "audio/mp4": ".m4a",
}


@dataclass(frozen=True, slots=True)
class ExportResult:
    export_id: str
    customer: str
    sha256: str
    size_bytes: int
    location: str
    counts: dict[str, int]


def _spool() -> BinaryIO:
    """A temporary buffer in memory, spilled to a private temporary file when large."""
    return cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=_SPOOL))


def stored_context(tenant: TenantId, export_id: str) -> FieldContext:
    """The vault stream context of an export's stored copy."""
    return FieldContext(tenant, "privacy_exports", "archive", export_id)


class _HashingWriter:
    """Counts and hashes what passes through to ``dst``."""

    def __init__(self, dst: BinaryIO) -> None:
        self.dst = dst
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.dst.write(data)


def _open(vault: Vault, tenant: TenantId, table: str, column: str, row: str, ct: bytes) -> str:
    return vault.decrypt_field(FieldContext(tenant, table, column, row), ct).decode()


def _customer_doc(session: Session, vault: Vault, tenant: TenantId, c: Customer) -> dict[str, Any]:
    external: str | None = c.external_id
    if c.external_id_ct is not None:
        external = _open(vault, tenant, "customers", "external_id", c.id, c.external_id_ct)
    contacts = [
        {
            "kind": row.kind,
            "value": _open(vault, tenant, "customer_lookups", "value", row.id, row.value_ct),
        }
        for row in session.scalars(
            select(CustomerLookup)
            .where(CustomerLookup.customer_id == c.id)
            .order_by(CustomerLookup.kind, CustomerLookup.id)
        )
    ]
    return {
        "reference": c.id,
        "customer_id": external,
        "created_at": c.created_at.isoformat(),
        "contacts": contacts,
    }


def _interaction_doc(
    vault: Vault, tenant: TenantId, r: Interaction, media_files: dict[str, str]
) -> dict[str, Any]:
    def text(column: str, row: str, ct: bytes | None, legacy: str | None) -> str | None:
        if ct is None:
            return legacy
        return _open(vault, tenant, "transcript_segments", column, row, ct)

    subject = r.subject
    if r.subject_ct is not None:
        subject = _open(vault, tenant, "interactions", "subject", r.id, r.subject_ct)
    doc: dict[str, Any] = {
        "id": r.id,
        "external_id": r.external_id,
        "channel": r.channel,
        "direction": r.direction,
        "language": r.language,
        "started_at": r.started_at.isoformat(),
        "ended_at": r.ended_at.isoformat() if r.ended_at else None,
        "created_at": r.created_at.isoformat(),
        "protection": r.protection,
        "subject": subject,
        "segments": [],
        "recordings": [
            {
                "id": rec.id,
                "media_type": rec.media_type,
                "duration_ms": rec.duration_ms,
                "media_status": rec.media_status,
                "file": media_files.get(rec.id),
            }
            for rec in r.recordings
        ],
    }
    if r.subject_original_ct is not None:
        doc["subject_original"] = _open(
            vault, tenant, "interactions", "subject_original", r.id, r.subject_original_ct
        )
    for s in r.segments:
        seg: dict[str, Any] = {
            "seq": s.seq,
            "speaker": s.speaker,
            "start_ms": s.start_ms,
            "end_ms": s.end_ms,
            "sent_at": s.sent_at.isoformat() if s.sent_at else None,
            "text": text("redacted", s.id, s.redacted_ct, s.text),
            "entities": s.entities or {},
        }
        if s.original_ct is not None:
            seg["original"] = text("original", s.id, s.original_ct, None)
        doc["segments"].append(seg)
    return doc


def build_archive(
    session: Session,
    vault: Vault,
    media: RecordingMedia,
    customer: Customer,
    dst: BinaryIO,
    *,
    export_id: str,
    now: datetime,
) -> dict[str, int]:
    """Write one customer's plaintext archive to ``dst``; returns counts per data class."""
    tenant = TenantId(customer.tenant_id)
    writer = ArchiveWriter(dst, now)
    customer_doc = _customer_doc(session, vault, tenant, customer)
    writer.add_json("customer.json", customer_doc)
    counts = {"interactions": 0, "segments": 0, "originals": 0, "recordings": 0, "media_files": 0}
    stmt = (
        select(Interaction)
        .where(Interaction.customer_id == customer.id)
        .order_by(Interaction.started_at, Interaction.id)
        .execution_options(yield_per=100)
    )
    for r in session.scalars(stmt):
        media_files: dict[str, str] = {}
        for rec in r.recordings:
            with _spool() as buf:
                rendition = media.export_media(tenant, rec.id, buf)
                if rendition is None:
                    continue
                size = buf.tell()
                buf.seek(0)
                name = f"recordings/{rec.id}.{rendition}{_EXTENSIONS.get(rec.media_type, '.bin')}"
                writer.add_file(name, buf, size)
                media_files[rec.id] = name
                counts["media_files"] += 1
        doc = _interaction_doc(vault, tenant, r, media_files)
        writer.add_json(f"interactions/{r.id}.json", doc)
        counts["interactions"] += 1
        counts["segments"] += len(doc["segments"])
        counts["originals"] += sum(1 for s in doc["segments"] if "original" in s) + (
            1 if "subject_original" in doc else 0
        )
        counts["recordings"] += len(doc["recordings"])
    counts["contacts"] = len(customer_doc["contacts"])
    writer.close(
        {
            "export_id": export_id,
            "tenant": tenant,
            "created_at": now.isoformat(),
            "counts": counts,
        }
    )
    return counts


def export_subject(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    customer_id: str,
    out: BinaryIO,
    *,
    passphrase: str,
    origin: Origin,
    store: ExportStore,
    media: RecordingMedia | None = None,
    log2_n: int = DEFAULT_LOG2_N,
    clock: Clock = utc_now,
) -> ExportResult:
    """Export one customer: sealed archive to ``out``, sealed copy to ``store``, audited.

    Nothing about the content reaches the audit log: counts and digests only.
    On any failure nothing is recorded (a copy already put in the store stays
    sealed under the subject's key, so the subject's erasure covers it).
    """
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationFailed(f"the passphrase must have at least {MIN_PASSPHRASE} characters")
    media = media if media is not None else NoMedia()
    export_id = new_id()
    with audited(
        db,
        ctx,
        origin,
        action="privacy.export",
        resource_type="data_subject",
        resource_id=export_id,
        clock=clock,
    ) as (session, note):
        customer = session.get(Customer, customer_id)
        if customer is None or customer.erased_at is not None:
            raise SubjectNotFound("no customer of this tenant has this reference")
        erasing = select(ErasureRequest.id).where(ErasureRequest.customer_id == customer_id)
        if session.scalar(erasing) is not None:
            raise SubjectNotFound("this customer is being erased: there is nothing to export")
        now = clock()
        tenant = ctx.tenant_id
        with _spool() as plain:
            counts = build_archive(
                session,
                vault,
                media,
                customer,
                plain,
                export_id=export_id,
                now=now,
            )
            plain.seek(0)
            delivered = _HashingWriter(out)
            seal(plain, cast(BinaryIO, delivered), passphrase, log2_n=log2_n)
            plain.seek(0)
            with _spool() as sealed:
                vault.encrypt_stream(
                    stored_context(tenant, export_id),
                    plain,
                    sealed,
                    subject=subject_of(customer.id),
                )
                sealed.seek(0)
                stored_sha = _sha256_of(sealed)
                sealed.seek(0)
                location = store.put(tenant, export_id, sealed)
        sha = delivered.digest.hexdigest()
        session.add(
            PrivacyExport(
                id=export_id,
                tenant_id=tenant,
                customer_id=customer.id,
                created_at=now,
                created_by=f"{origin.actor.type}:{origin.actor.id}",
                sha256=sha,
                size_bytes=delivered.size,
                location=location,
                stored_sha256=stored_sha,
            )
        )
        note.details = {**counts, "size_bytes": delivered.size, "sha256": sha}
    return ExportResult(export_id, customer_id, sha, delivered.size, location, counts)


def _sha256_of(src: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := src.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def read_stored_export(
    vault: Vault, store: ExportStore, tenant: TenantId, export_id: str, location: str, dst: BinaryIO
) -> int:
    """The plaintext archive of a stored copy (``CryptoError`` once the subject is erased)."""
    with store.open(location) as src:
        return vault.decrypt_stream(stored_context(tenant, export_id), src, dst)


__all__ = [
    "ExportResult",
    "build_archive",
    "export_subject",
    "read_stored_export",
    "stored_context",
]
