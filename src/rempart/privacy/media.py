"""``StoredMedia``: recordings' media from ``rempart.contact.media``, as ``RecordingMedia``.

The contact media store keeps ciphertext only (the vault's stream format);
this adapter opens it with the vault for an export and deletes both files on
erasure. The stream context is the one the recording upload seals with,
``FieldContext(tenant, "recordings", "media.<kind>", <recording id>)``, unless
another is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from rempart.contact.media import KINDS, MediaKind, MediaStore
from rempart.types import TenantId
from rempart.vault import FieldContext, Vault

ContextOf = Callable[[TenantId, str, MediaKind], FieldContext]


def recording_context(tenant: TenantId, recording_id: str, kind: MediaKind) -> FieldContext:
    """The stream context of one rendition of a recording."""
    return FieldContext(tenant, "recordings", f"media.{kind}", recording_id)


class StoredMedia:
    """The contact media store read and erased through the vault."""

    def __init__(
        self, store: MediaStore, vault: Vault, *, context_of: ContextOf = recording_context
    ) -> None:
        self.store = store
        self.vault = vault
        self.context_of = context_of

    def export_media(self, tenant: TenantId, recording_id: str, dst: BinaryIO) -> str | None:
        """The original when kept, else the redacted rendition; None when neither is stored."""
        paths = self.store.paths(tenant, recording_id)
        for kind in KINDS:
            if paths.of(kind).exists():
                with self.store.open(tenant, recording_id, kind) as src:
                    self.vault.decrypt_stream(self.context_of(tenant, recording_id, kind), src, dst)
                return kind
        return None

    def erase_media(self, tenant: TenantId, recording_id: str) -> int:
        paths = self.store.paths(tenant, recording_id)
        present = sum(1 for kind in KINDS if paths.of(kind).exists())
        self.store.delete(tenant, recording_id)
        return present


__all__ = ["ContextOf", "StoredMedia", "recording_context"]
