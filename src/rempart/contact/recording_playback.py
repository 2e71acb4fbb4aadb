"""Reading a stored recording back: the redacted rendition, or the original when allowed.

The caller (the read route) makes the access decision; this module only
decrypts what it is told to, chunk by chunk, so a long recording never sits
whole in memory and never touches the disk in clear. Each chunk is
authenticated before it is yielded; a tampered file stops the stream with
``CryptoError`` after the authentic chunks before it.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, Final, cast

from rempart.contact.media import MediaKind, MediaStore
from rempart.contact.models import Interaction, Recording
from rempart.contact.recording_upload import STORED, media_context
from rempart.errors import NotFound
from rempart.types import TenantId
from rempart.vault import FieldContext, Vault

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

MEDIA_TYPE: Final = "audio/wav"
_DEPTH: Final = 4
_POLL_S: Final = 0.2


class _Stopped(Exception):
    """The consumer went away: the decrypting thread stops at its next write."""


class _End:
    pass


_END: Final = _End()


class _QueueSink(io.RawIOBase):
    def __init__(self, out: queue.Queue[bytes | _End | BaseException], stop: threading.Event):
        self._out = out
        self._stop = stop

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        chunk = bytes(data)
        while True:
            if self._stop.is_set():
                raise _Stopped()
            try:
                self._out.put(chunk, timeout=_POLL_S)
            except queue.Full:
                continue
            return len(chunk)


def open_rendition(
    vault: Vault,
    store: MediaStore,
    interaction: Interaction,
    recording: Recording,
    *,
    original: bool = False,
) -> Iterator[bytes]:
    """The recording as WAV bytes: the redacted rendition, or the original if ``original``.

    ``original=True`` only when the caller's access decision allows unmasking.
    Raises ``NotFound`` at once when the recording is not this interaction's or
    has no stored media; decryption errors surface while iterating.
    """
    if recording.interaction_id != interaction.id or recording.tenant_id != interaction.tenant_id:
        raise NotFound("no such recording")
    if recording.media_status != STORED:
        raise NotFound("the recording's media is not stored")
    kind: MediaKind = "original" if original else "redacted"
    tenant = TenantId(recording.tenant_id)
    handle = store.open(tenant, recording.id, kind)
    return _decrypting(vault, media_context(tenant, recording.id, kind), handle)


def _decrypting(vault: Vault, ctx: FieldContext, handle: BinaryIO) -> Iterator[bytes]:
    out: queue.Queue[bytes | _End | BaseException] = queue.Queue(maxsize=_DEPTH)
    stop = threading.Event()

    def run() -> None:
        # The vault writes one authenticated chunk per call: no buffering wanted here.
        sink = cast(BinaryIO, _QueueSink(out, stop))
        try:
            vault.decrypt_stream(ctx, handle, sink)
            item: bytes | _End | BaseException = _END
        except _Stopped:
            return
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            item = exc
        while not stop.is_set():
            try:
                out.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    worker = threading.Thread(target=run, name="recording-playback", daemon=True)
    try:
        worker.start()
        while True:
            item = out.get()
            if isinstance(item, _End):
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()
        handle.close()


__all__ = ["MEDIA_TYPE", "open_rendition"]
