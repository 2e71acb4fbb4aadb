"""``KeyringStore`` on the project's database (SQLAlchemy, SQLite or PostgreSQL).

Each call is one transaction in a session scoped to the tenant, so the storage
layer's tenant filter applies, and on PostgreSQL row-level security too. A
batch of re-wraps is one transaction: a crash leaves it all applied or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.storage import Database, TenantContext
from rempart.types import TenantId
from rempart.vault.errors import KeyStateConflict, UnknownKey
from rempart.vault.models import (
    VaultCardToken,
    VaultDek,
    VaultKek,
    VaultKeyring,
    VaultSubjectIndex,
)
from rempart.vault.records import (
    DekRecord,
    KekRecord,
    KeyStatus,
    SubjectIndexRecord,
    TenantKeyring,
    TokenRecord,
)
from rempart.vault.store import Rewrap

_USABLE = (KeyStatus.ACTIVE.value, KeyStatus.DECRYPT_ONLY.value)


def _rowcount(result: Any) -> int:
    """Rows matched by an UPDATE or DELETE (``CursorResult.rowcount``)."""
    return int(result.rowcount)


def _dek(row: VaultDek) -> DekRecord:
    return DekRecord(
        TenantId(row.tenant_id),
        row.key_id,
        row.version,
        row.kek_version,
        row.wrapped,
        KeyStatus(row.status),
        row.created_at,
        row.encryptions,
    )


def _kek(row: VaultKek) -> KekRecord:
    return KekRecord(
        TenantId(row.tenant_id),
        row.version,
        row.provider,
        row.key_ref,
        KeyStatus(row.status),
        row.created_at,
    )


def _token(row: VaultCardToken) -> TokenRecord:
    return TokenRecord(
        TenantId(row.tenant_id),
        row.token,
        row.lookup_hash,
        row.pan_ciphertext,
        row.last_four,
        row.expires_at,
        row.created_at,
    )


class SqlKeyringStore:
    """The keyring store in the ``vault_*`` tables (migration ``vault_0001_keyring``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _session(self, tenant: TenantId) -> AbstractContextManager[Session]:
        return self._db.tenant_session(TenantContext(tenant))

    # Tenants.
    def add_tenant(self, keyring: TenantKeyring) -> None:
        try:
            with self._session(keyring.tenant) as s:
                s.add(
                    VaultKeyring(
                        tenant_id=keyring.tenant,
                        provider=keyring.provider,
                        created_at=keyring.created_at,
                        shredded=keyring.shredded,
                    )
                )
        except IntegrityError as exc:
            raise KeyStateConflict(
                "tenant keyring exists (or the tenant is not registered)"
            ) from exc

    def get_tenant(self, tenant: TenantId) -> TenantKeyring | None:
        with self._session(tenant) as s:
            row = s.get(VaultKeyring, tenant)
            if row is None:
                return None
            return TenantKeyring(tenant, row.provider, row.created_at, row.shredded)

    def mark_tenant_shredded(self, tenant: TenantId) -> None:
        with self._session(tenant) as s:
            result = s.execute(update(VaultKeyring).values(shredded=True))
            if not _rowcount(result):
                raise UnknownKey("no keyring for this tenant")

    # KEKs.
    def add_kek(self, kek: KekRecord) -> None:
        try:
            with self._session(kek.tenant) as s:
                s.add(
                    VaultKek(
                        tenant_id=kek.tenant,
                        version=kek.version,
                        provider=kek.provider,
                        key_ref=kek.key_ref,
                        status=kek.status.value,
                        created_at=kek.created_at,
                    )
                )
        except IntegrityError as exc:
            raise KeyStateConflict("KEK version exists") from exc

    def list_keks(self, tenant: TenantId) -> list[KekRecord]:
        with self._session(tenant) as s:
            rows = s.scalars(select(VaultKek).order_by(VaultKek.version))
            return [_kek(r) for r in rows]

    def set_kek_status(self, tenant: TenantId, version: int, status: KeyStatus) -> None:
        with self._session(tenant) as s:
            result = s.execute(
                update(VaultKek).where(VaultKek.version == version).values(status=status.value)
            )
            if not _rowcount(result):
                raise UnknownKey("no such KEK version")

    def settle_kek(
        self, tenant: TenantId, version: int, status: KeyStatus, key_ref: str | None = None
    ) -> bool:
        values: dict[str, str] = {"status": status.value}
        if key_ref is not None:
            values["key_ref"] = key_ref
        with self._session(tenant) as s:
            result = s.execute(
                update(VaultKek)
                .where(VaultKek.version == version, VaultKek.status == KeyStatus.PENDING.value)
                .values(**values)
            )
            return bool(_rowcount(result))

    # DEKs.
    def add_dek(self, dek: DekRecord) -> None:
        try:
            with self._session(dek.tenant) as s:
                s.add(
                    VaultDek(
                        tenant_id=dek.tenant,
                        key_id=dek.key_id,
                        version=dek.version,
                        kek_version=dek.kek_version,
                        wrapped=dek.wrapped,
                        status=dek.status.value,
                        created_at=dek.created_at,
                        encryptions=dek.encryptions,
                    )
                )
        except IntegrityError as exc:
            raise KeyStateConflict("DEK version exists") from exc

    def get_dek(self, tenant: TenantId, key_id: str, version: int) -> DekRecord | None:
        with self._session(tenant) as s:
            row = s.get(VaultDek, (tenant, key_id, version))
            return None if row is None else _dek(row)

    def active_dek(self, tenant: TenantId, key_id: str) -> DekRecord | None:
        with self._session(tenant) as s:
            row = s.scalars(
                select(VaultDek)
                .where(VaultDek.key_id == key_id, VaultDek.status == KeyStatus.ACTIVE.value)
                .order_by(VaultDek.version.desc())
                .limit(1)
            ).first()
            return None if row is None else _dek(row)

    def list_deks(self, tenant: TenantId, key_id: str | None = None) -> list[DekRecord]:
        query = select(VaultDek).order_by(VaultDek.key_id, VaultDek.version)
        if key_id is not None:
            query = query.where(VaultDek.key_id == key_id)
        with self._session(tenant) as s:
            return [_dek(r) for r in s.scalars(query)]

    def set_dek_status(
        self, tenant: TenantId, key_id: str, version: int, status: KeyStatus
    ) -> None:
        values: dict[str, object] = {"status": status.value}
        if not status.usable:
            values["wrapped"] = None
        with self._session(tenant) as s:
            result = s.execute(
                update(VaultDek)
                .where(VaultDek.key_id == key_id, VaultDek.version == version)
                .values(**values)
            )
            if not _rowcount(result):
                raise UnknownKey("no such DEK version")

    def deks_under_kek(self, tenant: TenantId, kek_version: int, limit: int) -> list[DekRecord]:
        with self._session(tenant) as s:
            rows = s.scalars(
                select(VaultDek)
                .where(VaultDek.kek_version == kek_version, VaultDek.status.in_(_USABLE))
                .order_by(VaultDek.key_id, VaultDek.version)
                .limit(limit)
            )
            return [_dek(r) for r in rows]

    def count_deks_under_kek(self, tenant: TenantId, kek_version: int) -> int:
        with self._session(tenant) as s:
            return (
                s.scalar(
                    select(func.count())
                    .select_from(VaultDek)
                    .where(
                        VaultDek.tenant_id == tenant,
                        VaultDek.kek_version == kek_version,
                        VaultDek.status.in_(_USABLE),
                    )
                )
                or 0
            )

    def apply_rewraps(self, tenant: TenantId, rewraps: Sequence[Rewrap]) -> int:
        """One transaction and one ``executemany`` per batch (a statement per DEK through
        the ORM cost milliseconds each). The tenant is in the WHERE clause explicitly,
        as this bypasses the ORM's tenant filter; PostgreSQL's row-level security still
        applies to the connection."""
        if not rewraps:
            return 0
        table = cast(Table, VaultDek.__table__)
        statement = (
            update(table)
            .where(
                table.c.tenant_id == bindparam("b_tenant"),
                table.c.key_id == bindparam("b_key_id"),
                table.c.version == bindparam("b_version"),
                table.c.kek_version == bindparam("b_from_kek"),
                # Not IN (...): an expanding parameter cannot go through executemany.
                or_(*(table.c.status == status for status in _USABLE)),
            )
            .values(kek_version=bindparam("b_to_kek"), wrapped=bindparam("b_wrapped"))
        )
        params = [
            {
                "b_tenant": tenant,
                "b_key_id": rw.key_id,
                "b_version": rw.version,
                "b_from_kek": rw.from_kek,
                "b_to_kek": rw.to_kek,
                "b_wrapped": rw.wrapped,
            }
            for rw in rewraps
        ]
        with self._session(tenant) as s:
            connection = s.connection()
            result = connection.execute(statement, params)
            if connection.dialect.supports_sane_multi_rowcount:
                return _rowcount(result)
            return len(rewraps)  # pragma: no cover - both supported dialects count

    def reserve_encryptions(self, tenant: TenantId, key_id: str, version: int, count: int) -> int:
        with self._session(tenant) as s:
            total = s.execute(
                update(VaultDek)
                .where(VaultDek.key_id == key_id, VaultDek.version == version)
                .values(encryptions=VaultDek.encryptions + count)
                .returning(VaultDek.encryptions)
            ).scalar_one_or_none()
            if total is None:
                raise UnknownKey("no such DEK version")
            return int(total)

    def destroy_tenant_material(self, tenant: TenantId) -> None:
        with self._session(tenant) as s:
            s.execute(update(VaultDek).values(status=KeyStatus.DESTROYED.value, wrapped=None))
            s.execute(delete(VaultCardToken))
            s.execute(delete(VaultSubjectIndex))

    # Blind indexes of data subjects.
    def add_subject_index(self, record: SubjectIndexRecord) -> None:
        with self._session(record.tenant) as s:
            s.merge(
                VaultSubjectIndex(
                    tenant_id=record.tenant,
                    subject=record.subject,
                    field=record.field,
                    index_name=record.index,
                    tag=record.tag,
                    verifier=record.verifier,
                    key_version=record.key_version,
                    created_at=record.created_at,
                )
            )

    def find_subject_index(
        self, tenant: TenantId, field: str, index: str, tag: bytes
    ) -> list[SubjectIndexRecord]:
        with self._session(tenant) as s:
            rows = s.scalars(
                select(VaultSubjectIndex).where(
                    VaultSubjectIndex.field == field,
                    VaultSubjectIndex.index_name == index,
                    VaultSubjectIndex.tag == tag,
                )
            )
            return [
                SubjectIndexRecord(
                    TenantId(r.tenant_id),
                    r.subject,
                    r.field,
                    r.index_name,
                    r.tag,
                    r.verifier,
                    r.key_version,
                    r.created_at,
                )
                for r in rows
            ]

    def delete_subject_index(self, tenant: TenantId, subject: str) -> int:
        with self._session(tenant) as s:
            result = s.execute(
                delete(VaultSubjectIndex).where(VaultSubjectIndex.subject == subject)
            )
            return _rowcount(result)

    # Card tokens.
    def add_token(self, token: TokenRecord) -> None:
        try:
            with self._session(token.tenant) as s:
                s.add(
                    VaultCardToken(
                        tenant_id=token.tenant,
                        token=token.token,
                        lookup_hash=token.lookup_hash,
                        pan_ciphertext=token.pan_ciphertext,
                        last_four=token.last_four,
                        expires_at=token.expires_at,
                        created_at=token.created_at,
                    )
                )
        except IntegrityError as exc:
            raise KeyStateConflict("token exists") from exc

    def get_token(self, tenant: TenantId, token: str) -> TokenRecord | None:
        with self._session(tenant) as s:
            row = s.get(VaultCardToken, (tenant, token))
            return None if row is None else _token(row)

    def find_token(self, tenant: TenantId, lookup_hash: bytes) -> TokenRecord | None:
        with self._session(tenant) as s:
            row = s.scalars(
                select(VaultCardToken).where(VaultCardToken.lookup_hash == lookup_hash)
            ).first()
            return None if row is None else _token(row)

    def delete_token(self, tenant: TenantId, token: str) -> None:
        with self._session(tenant) as s:
            s.execute(delete(VaultCardToken).where(VaultCardToken.token == token))

    def delete_expired_tokens(self, tenant: TenantId, now: datetime) -> int:
        with self._session(tenant) as s:
            result = s.execute(delete(VaultCardToken).where(VaultCardToken.expires_at <= now))
            return _rowcount(result)


__all__ = ["SqlKeyringStore"]
