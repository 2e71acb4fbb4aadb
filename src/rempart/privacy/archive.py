"""The plaintext of an export: a tar of JSON documents and recordings' media.

Layout (every member 0600, owned by nobody, dated at the export)::

    customer.json                  the customer's identifiers, decrypted
    interactions/<id>.json         one interaction: metadata, transcript (redacted
                                   and, when kept, original), recordings' metadata
    recordings/<id>.<rendition>    a recording's media, when the media store has it
    manifest.json                  last: format, export id, counts, each file's SHA-256
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from datetime import datetime
from typing import IO, Any, BinaryIO, Final

ARCHIVE_FORMAT: Final = "rempart-subject-export"


class ArchiveWriter:
    """Adds members to a tar stream and keeps their digests for the manifest."""

    def __init__(self, dst: BinaryIO, mtime: datetime) -> None:
        # Closed by ``close``: the writer lives across the caller's loop.
        self._tar = tarfile.open(fileobj=dst, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self._mtime = int(mtime.timestamp())
        self.files: list[dict[str, Any]] = []

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o600
        info.mtime = self._mtime
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    def add_json(self, name: str, document: Any) -> None:
        data = (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
        self.files.append(
            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )
        self._tar.addfile(self._info(name, len(data)), io.BytesIO(data))

    def add_file(self, name: str, src: IO[bytes], size: int) -> None:
        """Add ``size`` bytes read from ``src`` (positioned at their start)."""
        digest = hashlib.sha256()
        start = src.tell()
        while chunk := src.read(1 << 20):
            digest.update(chunk)
        src.seek(start)
        self.files.append({"name": name, "size": size, "sha256": digest.hexdigest()})
        self._tar.addfile(self._info(name, size), src)

    def close(self, manifest: dict[str, Any]) -> None:
        self.add_json(
            "manifest.json",
            {**manifest, "format": ARCHIVE_FORMAT, "version": 1, "files": list(self.files)},
        )
        self._tar.close()


def read_archive(src: BinaryIO) -> dict[str, bytes]:
    """Every member of an export's plaintext by name (for tests and small exports)."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=src, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            f = tar.extractfile(member)
            if f is not None:
                out[member.name] = f.read()
    return out


__all__ = ["ARCHIVE_FORMAT", "ArchiveWriter", "read_archive"]
