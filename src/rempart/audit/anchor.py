"""Publish checkpoints outside the platform: a directory an auditor controls.

Each checkpoint becomes ``<dir>/<log>/<size, 20 digits>.checkpoint`` (the
signed note, byte for byte) plus ``.tsr`` (its RFC 3161 token) when it was
time-stamped; ``<dir>/<log>/latest.checkpoint`` always holds the newest. A
file that already exists is never overwritten with different content: a
second, different checkpoint of one size is a fork, and the anchor refuses it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from rempart.audit.checkpoints import SignedCheckpoint
from rempart.audit.errors import LogStateError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _log_dir_name(origin: str) -> str:
    return _UNSAFE.sub("_", origin).strip("._") or "log"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class DirectoryAnchor:
    """Writes every new checkpoint into a directory (a mounted share, a WORM bucket...)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, checkpoint: SignedCheckpoint) -> Path:
        return self.root / _log_dir_name(checkpoint.origin) / f"{checkpoint.size:020d}.checkpoint"

    def publish(self, checkpoint: SignedCheckpoint) -> None:
        path = self.path_for(checkpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = checkpoint.note.encode("utf-8")
        if path.exists():
            if path.read_bytes() != data:
                raise LogStateError(
                    f"anchor already holds another checkpoint of size {checkpoint.size}: fork"
                )
        else:
            _write_atomic(path, data)
        if checkpoint.timestamp_token is not None:
            _write_atomic(path.with_suffix(".tsr"), checkpoint.timestamp_token)
        _write_atomic(path.parent / "latest.checkpoint", data)


__all__ = ["DirectoryAnchor"]
