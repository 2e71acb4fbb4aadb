"""What the purge needs from the media store: removing one recording's files.

A protocol rather than an import of ``rempart.contact.media`` in the purge,
so the purge works against any store that can delete (``MediaStore`` fits it
as is) and tests can count what was asked.
"""

from __future__ import annotations

from typing import Protocol

from rempart.config import Settings
from rempart.contact.media import MediaStore


class MediaEraser(Protocol):
    def delete(self, tenant_id: str, recording_id: str, /) -> None:
        """Remove every file of the recording; nothing stored must not be an error."""


def media_eraser(settings: Settings) -> MediaEraser:
    """The configured media store (``<data_dir>/media``)."""
    return MediaStore.for_settings(settings)


__all__ = ["MediaEraser", "media_eraser"]
