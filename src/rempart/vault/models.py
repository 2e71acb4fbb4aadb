"""The vault's tables: keyrings, KEK versions, wrapped DEKs and card tokens.

Every table is owned by a tenant (``TenantScoped``: filtered by tenant
sessions, and by row-level security on PostgreSQL). They hold wrapped keys and
metadata only. Created by the migrations ``vault_0001_keyring`` and
``vault_0002_subject_index``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rempart.storage.base import Base, TenantScoped


class VaultKeyring(TenantScoped, Base):
    __tablename__ = "vault_keyrings"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", name="pk_vault_keyrings"),)

    provider: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    shredded: Mapped[bool] = mapped_column(Boolean, default=False)


class VaultKek(TenantScoped, Base):
    __tablename__ = "vault_keks"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "version", name="pk_vault_keks"),)

    version: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(32))
    key_ref: Mapped[str] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class VaultDek(TenantScoped, Base):
    __tablename__ = "vault_deks"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "key_id", "version", name="pk_vault_deks"),
        Index("ix_vault_deks_tenant_id_kek_version", "tenant_id", "kek_version", "status"),
    )

    key_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    kek_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    encryptions: Mapped[int] = mapped_column(BigInteger, default=0)


class VaultCardToken(TenantScoped, Base):
    __tablename__ = "vault_card_tokens"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "token", name="pk_vault_card_tokens"),
        UniqueConstraint("tenant_id", "lookup_hash", name="uq_vault_card_tokens_lookup_hash"),
    )

    token: Mapped[str] = mapped_column(String(64))
    lookup_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    pan_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    last_four: Mapped[str | None] = mapped_column(String(4), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]


class VaultSubjectIndex(TenantScoped, Base):
    """Blind indexes of data subjects' values (migration ``vault_0002_subject_index``)."""

    __tablename__ = "vault_subject_indexes"
    __table_args__ = (
        PrimaryKeyConstraint(
            "tenant_id", "subject", "field", "index_name", "tag", name="pk_vault_subject_indexes"
        ),
        Index("ix_vault_subject_indexes_lookup", "tenant_id", "field", "index_name", "tag"),
    )

    subject: Mapped[str] = mapped_column(String(255))
    field: Mapped[str] = mapped_column(String(255))
    index_name: Mapped[str] = mapped_column(String(64))
    tag: Mapped[bytes] = mapped_column(LargeBinary(32))
    verifier: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


__all__ = ["VaultCardToken", "VaultDek", "VaultKek", "VaultKeyring", "VaultSubjectIndex"]
