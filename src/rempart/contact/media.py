"""The media store: encrypted recording files on disk, one directory per tenant.

Layout: ``<data_dir>/media/<tenant id>/<recording id>.original`` and
``<recording id>.redacted``, directories 0700 and files 0600. The store only
ever holds ciphertext (the vault's stream format, written by its callers); it
knows nothing about keys. File names come from validated identifiers only, so
no caller-supplied string can reach outside the tenant's directory. Files
appear whole or not at all: they are written to a temporary file in the same
directory, flushed to disk, then linked into place without overwriting.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Literal

from rempart.config import DATA_DIR_MODE, SECRET_FILE_MODE, Settings
from rempart.errors import Conflict, NotFound, ValidationFailed

MediaKind = Literal["original", "redacted"]
KINDS: Final[tuple[MediaKind, ...]] = ("original", "redacted")

# Letters, digits, '-' and '_' only: no dot, no separator, so neither '..' nor '/'.
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_PARTIAL_PREFIX: Final = ".partial-"


def _checked(kind: str, value: str) -> str:
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise ValidationFailed(f"invalid {kind} for the media store")
    return value


@dataclass(frozen=True, slots=True)
class MediaPaths:
    """Where one recording's two files live (they may not exist)."""

    original: Path
    redacted: Path

    def of(self, kind: MediaKind) -> Path:
        return self.original if kind == "original" else self.redacted


class MediaWrite:
    """Temporary files being written for one recording; ``commit`` puts them in place."""

    def __init__(self, store: MediaStore, tenant_id: str, recording_id: str) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._recording_id = recording_id
        self._directory = store.tenant_dir(tenant_id, create=True)
        self._temps: dict[MediaKind, Path] = {}
        self._files: dict[MediaKind, BinaryIO] = {}
        self.committed = False

    def file(self, kind: MediaKind) -> BinaryIO:
        """The temporary file of ``kind`` (created 0600 on first use), open for writing."""
        if kind not in KINDS:
            raise ValueError(f"unknown media kind {kind!r}")
        if kind not in self._files:
            fd, name = tempfile.mkstemp(prefix=_PARTIAL_PREFIX, dir=self._directory)
            os.fchmod(fd, SECRET_FILE_MODE)
            self._temps[kind] = Path(name)
            self._files[kind] = os.fdopen(fd, "w+b")
        return self._files[kind]

    def commit(self) -> None:
        """Flush both files to disk and link them into place; never overwrites."""
        missing = [kind for kind in KINDS if kind not in self._files]
        if missing:
            raise ValueError(f"media not written: {', '.join(missing)}")
        for handle in self._files.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        paths = self._store.paths(self._tenant_id, self._recording_id)
        linked: list[Path] = []
        try:
            for kind in KINDS:
                target = paths.of(kind)
                os.link(self._temps[kind], target)
                linked.append(target)
        except FileExistsError as exc:
            for target in linked:
                with suppress(FileNotFoundError):
                    target.unlink()
            raise Conflict("media of this recording is already stored") from exc
        _fsync_dir(self._directory)
        self.committed = True

    def discard(self) -> None:
        """Close and remove the temporary files (always safe to call)."""
        for handle in self._files.values():
            with suppress(OSError):
                handle.close()
        for temp in self._temps.values():
            with suppress(FileNotFoundError):
                temp.unlink()
        self._files.clear()
        self._temps.clear()


class MediaStore:
    """Encrypted media files under ``root``, separated by tenant."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_settings(cls, settings: Settings) -> MediaStore:
        """The store at ``<data_dir>/media``."""
        return cls(settings.data_dir / "media")

    def tenant_dir(self, tenant_id: str, *, create: bool = False) -> Path:
        path = self.root / _checked("tenant id", tenant_id)
        if create:
            for directory in (self.root, path):
                directory.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
                if stat.S_IMODE(directory.stat().st_mode) & 0o077:
                    directory.chmod(DATA_DIR_MODE)
        return path

    def paths(self, tenant_id: str, recording_id: str) -> MediaPaths:
        base = self.tenant_dir(tenant_id)
        rid = _checked("recording id", recording_id)
        return MediaPaths(original=base / f"{rid}.original", redacted=base / f"{rid}.redacted")

    def exists(self, tenant_id: str, recording_id: str) -> bool:
        """Whether any file of the recording is stored."""
        paths = self.paths(tenant_id, recording_id)
        return paths.original.exists() or paths.redacted.exists()

    def size(self, tenant_id: str, recording_id: str) -> int:
        """Bytes stored for the recording, both files together (0 if none)."""
        total = 0
        for kind in KINDS:
            with suppress(FileNotFoundError):
                total += self.paths(tenant_id, recording_id).of(kind).stat().st_size
        return total

    @contextmanager
    def write(self, tenant_id: str, recording_id: str) -> Iterator[MediaWrite]:
        """Write a recording's two files; unless ``commit()`` ran, nothing is left behind.

        ``commit()`` refuses (``Conflict``) when a file of the recording already
        exists, so two writers racing for one recording cannot both win.
        """
        pending = MediaWrite(self, tenant_id, recording_id)
        try:
            yield pending
        finally:
            pending.discard()

    def open(self, tenant_id: str, recording_id: str, kind: MediaKind) -> BinaryIO:
        """The stored ciphertext of ``kind``, open for reading; ``NotFound`` if absent."""
        if kind not in KINDS:
            raise ValueError(f"unknown media kind {kind!r}")
        try:
            return self.paths(tenant_id, recording_id).of(kind).open("rb")
        except FileNotFoundError as exc:
            raise NotFound("recording media not found") from exc

    def delete(self, tenant_id: str, recording_id: str) -> None:
        """Remove the original and the redacted rendition; nothing stored is not an error."""
        paths = self.paths(tenant_id, recording_id)
        removed = False
        for kind in KINDS:
            with suppress(FileNotFoundError):
                paths.of(kind).unlink()
                removed = True
        if removed:
            _fsync_dir(paths.original.parent)

    def sweep_partials(self, tenant_id: str) -> int:
        """Remove temporary files a crash left behind in the tenant's directory; how many."""
        directory = self.tenant_dir(tenant_id)
        if not directory.is_dir():
            return 0
        count = 0
        for entry in directory.iterdir():
            if entry.name.startswith(_PARTIAL_PREFIX):
                with suppress(FileNotFoundError):
                    entry.unlink()
                    count += 1
        return count


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["KINDS", "MediaKind", "MediaPaths", "MediaStore", "MediaWrite"]
