"""What the privacy package needs from packages written beside it, as small protocols.

``RecordingMedia`` is the recordings' media (``rempart.contact.media``; ``StoredMedia``
adapts its ``MediaStore``), ``LegalHolds``
the retention package's hold check (``rempart.retention``), ``ExportStore``
where stored copies of exports live. Each has a default that works before
the real one is plugged in: no media, no holds, a directory.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy.orm import Session

from rempart.config import Settings, create_secret_file, ensure_data_dir
from rempart.errors import ValidationFailed
from rempart.types import TenantId


class RecordingMedia(Protocol):
    """The recordings' media, as the privacy package uses it."""

    def export_media(self, tenant: TenantId, recording_id: str, dst: BinaryIO) -> str | None:
        """Write the recording's media, decrypted, to ``dst``.

        Returns the rendition written (``"original"``, or ``"redacted"`` when
        only that is kept), or ``None`` when nothing is stored for it.
        """
        ...

    def erase_media(self, tenant: TenantId, recording_id: str) -> int:
        """Delete every stored object of the recording; how many (0 when none: idempotent)."""
        ...


class LegalHolds(Protocol):
    """The retention package's legal holds, as the erasure checks them."""

    def holds_for(
        self, session: Session, *, customer_id: str, interaction_ids: Sequence[str]
    ) -> Sequence[str]:
        """References of the active holds covering this customer or any of these interactions."""
        ...


class ExportStore(Protocol):
    """Where the stored copies of exports (already sealed by the vault) are kept."""

    def put(self, tenant: TenantId, export_id: str, src: BinaryIO) -> str:
        """Store ``src`` and return its location (a string for the export record)."""
        ...

    def open(self, location: str) -> BinaryIO:
        """Read a stored copy back; ``FileNotFoundError`` when it is gone."""
        ...

    def delete(self, location: str) -> bool:
        """Remove a stored copy; False when it was already gone (idempotent)."""
        ...


class NoMedia:
    """No media store: recordings have metadata only."""

    def export_media(self, tenant: TenantId, recording_id: str, dst: BinaryIO) -> str | None:
        return None

    def erase_media(self, tenant: TenantId, recording_id: str) -> int:
        return 0


class NoHolds:
    """No retention package: nothing is held."""

    def holds_for(
        self, session: Session, *, customer_id: str, interaction_ids: Sequence[str]
    ) -> Sequence[str]:
        return ()


_LOCATION = re.compile(r"^[A-Za-z0-9-]{1,64}/[A-Za-z0-9-]{1,64}\.rse$")


class DirectoryExportStore:
    """Stored copies as files ``<root>/<tenant>/<export id>.rse``: directories 0700, files
    0600, written atomically (temporary file, fsync, rename)."""

    SUFFIX = ".rse"

    # Under the data directory, where the CLI and the API both keep them.
    DIR_NAME = "privacy-exports"

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_settings(cls, settings: Settings) -> DirectoryExportStore:
        """The deployment's store: ``<data_dir>/privacy-exports``."""
        return cls(ensure_data_dir(settings) / cls.DIR_NAME)

    def _path(self, location: str) -> Path:
        # Locations come from the database: refuse anything that could leave the root.
        if not _LOCATION.match(location):
            raise ValidationFailed("not a location of this export store")
        return self.root / location

    def put(self, tenant: TenantId, export_id: str, src: BinaryIO) -> str:
        location = f"{tenant}/{export_id}{self.SUFFIX}"
        path = self._path(location)
        for directory in (self.root, path.parent):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if stat.S_IMODE(directory.stat().st_mode) & 0o077:
                directory.chmod(0o700)
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        create_secret_file(tmp)
        with tmp.open("wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        return location

    def open(self, location: str) -> BinaryIO:
        return self._path(location).open("rb")

    def delete(self, location: str) -> bool:
        path = self._path(location)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


__all__ = [
    "DirectoryExportStore",
    "ExportStore",
    "LegalHolds",
    "NoHolds",
    "NoMedia",
    "RecordingMedia",
]
