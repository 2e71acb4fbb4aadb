"""Data-subject requests over HTTP (GDPR articles 15 and 17), for signed-in people.

Thin over ``rempart.privacy``: find what is stored about a person (by blind
index; ids, dates and counts, no content), export it sealed under a
passphrase the requester chooses, erase it by crypto-shredding with a signed
certificate. Exporting and erasing need a multi-factor session (step-up).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rempart.access import Permission
from rempart.api.access import Reader, permitted, require_permission
from rempart.api.context import AppContext
from rempart.api.deps import Ctx, require_assurance
from rempart.api.problems import ERROR_RESPONSES
from rempart.audit import NoteSigner
from rempart.contact.media import MediaStore
from rempart.contact.protect import ProtectionUnavailable
from rempart.errors import ValidationFailed
from rempart.identity.assurance import Level
from rempart.privacy import (
    DirectoryExportStore,
    RetentionHolds,
    Selector,
    StoredMedia,
    erase_subject,
    export_subject,
    find,
    resolve,
)
from rempart.vault import Vault

router = APIRouter(prefix="/privacy", tags=["privacy"], responses=ERROR_RESPONSES)

Erase = Annotated[Reader, Depends(require_permission(Permission.SUBJECT_ERASE))]
Export = Annotated[Reader, Depends(require_permission(Permission.SUBJECT_EXPORT))]


class Subject(BaseModel):
    """Who the request is about: one of the tenant's identifiers, or Rempart's reference."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    ref: str | None = Field(default=None, max_length=64, description="Customer reference")

    @model_validator(mode="after")
    def _one(self) -> Subject:
        if sum(v is not None for v in (self.customer_id, self.phone, self.email, self.ref)) != 1:
            raise ValueError("give exactly one of customer_id, phone, email, ref")
        return self

    def selector(self) -> Selector:
        return Selector(
            customer_id=self.customer_id, phone=self.phone, email=self.email, ref=self.ref
        )


class ErasureIn(Subject):
    reason: str = Field(min_length=1, max_length=500)


class ExportIn(Subject):
    passphrase: str = Field(min_length=1, max_length=1024)


class ErasureOut(BaseModel):
    request_id: str
    customer: str
    subject: str
    status: str
    counts: dict[str, int]
    key_versions: list[int]
    certificate: str | None = Field(description="The signed erasure certificate (JSON text)")


class InventoryOut(BaseModel):
    customer: str
    created_at: datetime
    erased_at: datetime | None
    totals: dict[str, int]
    interactions: list[dict[str, Any]]


def _vault(ctx: AppContext) -> Vault:
    if ctx.vault is None:
        raise ProtectionUnavailable("no vault is configured")
    return ctx.vault


def _signer(ctx: AppContext) -> NoteSigner:
    if ctx.audit_signer is None:
        raise ProtectionUnavailable("no signing key is configured: certificates cannot be issued")
    return ctx.audit_signer


def _store(ctx: AppContext) -> DirectoryExportStore:
    return DirectoryExportStore.for_settings(ctx.settings)


@router.get(
    "/subjects",
    response_model=list[InventoryOut],
    summary="What is stored about a person (ids, dates, counts; no content)",
    **permitted(Permission.SUBJECT_ERASE),
)
def find_subject(
    ctx: Ctx,
    reader: Erase,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
) -> list[InventoryOut]:
    try:
        subject = Subject(customer_id=customer_id, phone=phone, email=email)
    except ValidationError as exc:
        raise ValidationFailed("give exactly one of customer_id, phone, email") from exc
    vault = _vault(ctx)
    with ctx.db.tenant_session(reader.tenant) as session:
        found = find(session, vault, subject.selector())
    return [
        InventoryOut(
            customer=i.customer,
            created_at=i.created_at,
            erased_at=i.erased_at,
            totals=i.totals(),
            interactions=[
                {"id": x.id, "channel": x.channel, "started_at": x.started_at.isoformat()}
                for x in i.interactions
            ],
        )
        for i in found
    ]


@router.post(
    "/erasures",
    response_model=ErasureOut,
    summary="Erase a person's data (art. 17): crypto-shredding, then deletion, then a certificate",
    **permitted(Permission.SUBJECT_ERASE),
)
def erase(body: ErasureIn, ctx: Ctx, reader: Erase) -> ErasureOut:
    require_assurance(Level.MULTI_FACTOR)(reader.session_principal, ctx)
    vault = _vault(ctx)
    with ctx.db.tenant_session(reader.tenant) as session:
        # An erased customer is still found by reference: a repeated request gets
        # the stored certificate, a stopped one resumes.
        customer = resolve(session, vault, body.selector(), include_erased=True)
    result = erase_subject(
        ctx.db,
        vault,
        reader.tenant,
        customer,
        reason=body.reason,
        origin=reader.origin,
        signer=_signer(ctx),
        store=_store(ctx),
        media=StoredMedia(MediaStore.for_settings(ctx.settings), vault),
        holds=RetentionHolds(),
        clock=ctx.clock,
    )
    return ErasureOut(
        request_id=result.request_id,
        customer=result.customer,
        subject=result.subject,
        status=result.status,
        counts=result.counts,
        key_versions=result.key_versions,
        certificate=result.certificate,
    )


@router.post(
    "/exports",
    summary="Export a person's data (art. 15) as an archive sealed under a passphrase",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
    **permitted(Permission.SUBJECT_EXPORT),
)
def export(body: ExportIn, ctx: Ctx, reader: Export) -> Response:
    require_assurance(Level.MULTI_FACTOR)(reader.session_principal, ctx)
    vault = _vault(ctx)
    with ctx.db.tenant_session(reader.tenant) as session:
        customer = resolve(session, vault, body.selector())
    out = io.BytesIO()
    result = export_subject(
        ctx.db,
        vault,
        reader.tenant,
        customer,
        out,
        passphrase=body.passphrase,
        origin=reader.origin,
        store=_store(ctx),
        media=StoredMedia(MediaStore.for_settings(ctx.settings), vault),
        clock=ctx.clock,
    )
    return Response(
        out.getvalue(),
        media_type="application/octet-stream",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="export-{result.export_id}.rse"',
        },
    )


__all__ = ["router"]
