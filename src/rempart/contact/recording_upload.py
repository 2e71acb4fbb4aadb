"""Storing a recording's media: the upload is checked, cut and encrypted as it streams in.

Three steps, so that no database transaction stays open while the bytes arrive:

1. ``plan_upload`` (database): the interaction and recording exist in the
   caller's tenant, no media is stored yet, which audio must never be stored
   (the payment-capture pause windows) and which the redacted rendition
   silences (``Interaction.silence_ms``), and under which key.
2. ``receive_upload`` (no database): the body goes through ``WavFilter`` and
   two vault stream encryptors (original, redacted rendition) running in worker
   threads, chunk by chunk, into temporary files of the media store. Plaintext
   is only ever in memory, a few chunks at a time; the audio of a pause window
   is zeroed before it reaches an encryptor.
3. ``record_stored`` (database): under the recording's row lock, mark it
   stored and link the files into place; both happen or neither does.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream
from sqlalchemy import update
from sqlalchemy.orm import Session

from rempart.contact.media import MediaKind, MediaStore, MediaWrite
from rempart.contact.models import Customer, Interaction, Recording
from rempart.contact.payments.service import recording_pauses
from rempart.contact.subjects import subject_of
from rempart.contact.wav import Range, WavFilter, WavSummary
from rempart.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    RempartError,
    ValidationFailed,
)
from rempart.storage.tenancy import session_tenant
from rempart.types import Clock, TenantId, utc_now
from rempart.vault import FieldContext, Vault

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

WAV_MEDIA_TYPES: Final = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"})
STORED: Final = "stored"
PENDING: Final = "pending"
# Chunks in flight between the request and each encryptor thread (memory bound).
_QUEUE_DEPTH: Final = 4


def media_context(tenant: TenantId, recording_id: str, kind: MediaKind) -> FieldContext:
    """Where a recording's ciphertext belongs: bound to it, so files cannot be swapped."""
    return FieldContext(tenant, "recordings", f"media.{kind}", recording_id)


@dataclass(frozen=True, slots=True)
class UploadPlan:
    tenant: TenantId
    interaction_id: str
    recording_id: str
    # Vault subject whose key seals the media (the customer), or None: the tenant data key.
    subject: str | None
    pauses: tuple[Range, ...]
    silences: tuple[Range, ...]
    declared_size: int | None
    declared_sha256: str | None
    declared_channels: int | None


@dataclass(frozen=True, slots=True)
class UploadResult:
    summary: WavSummary
    sha256: str
    ciphertext_bytes: int


def plan_upload(
    session: Session,
    vault: Vault,
    store: MediaStore,
    interaction_id: str,
    recording_id: str,
) -> UploadPlan:
    """Check that the upload may proceed and gather what it needs (raises 404, 409)."""
    found = session_tenant(session)
    if found is None:
        raise ValidationFailed("no tenant in context")
    tenant = TenantId(found)
    # First, before this session reads: the keyring may be written through its own session.
    vault.ensure_tenant(tenant)
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound("no such interaction")
    recording = session.get(Recording, recording_id)
    if recording is None or recording.interaction_id != interaction.id:
        raise NotFound("no such recording")
    if recording.media_status == STORED:
        raise Conflict("media of this recording is already stored")
    store.paths(tenant, recording.id)  # validates the ids before any byte is read
    subject = None
    if interaction.customer_id is not None:
        customer = session.get(Customer, interaction.customer_id)
        if customer is None or customer.erased_at is not None:
            raise Conflict("the customer of this interaction was erased: nothing can be stored")
        subject = subject_of(customer.id)
    pauses = tuple((w.start_ms, w.end_ms) for w in recording_pauses(session, interaction.id))
    silences = tuple((int(a), int(b)) for a, b in (interaction.silence_ms or []))
    return UploadPlan(
        tenant=tenant,
        interaction_id=interaction.id,
        recording_id=recording.id,
        subject=subject,
        pauses=pauses,
        silences=silences,
        declared_size=recording.size_bytes,
        declared_sha256=recording.sha256,
        declared_channels=recording.channels,
    )


class MediaUnavailable(RempartError):
    """Recordings cannot be stored or read: the vault is not configured (fail closed)."""

    status = 503
    title = "Recording storage unavailable"
    slug = "media-unavailable"


class _Aborted(Exception):
    """The upload failed: the encryptor must stop without sealing a last chunk."""


@dataclass
class _Flow:
    complete: bool = False
    errors: list[BaseException] = field(default_factory=list)


class _ChannelReader(io.RawIOBase):
    """Blocking reads, in a worker thread, from a memory stream fed by the event loop."""

    def __init__(self, source: MemoryObjectReceiveStream[bytes], flow: _Flow) -> None:
        self._source = source
        self._flow = flow
        self._pending = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self._pending and not self._eof:
            try:
                self._pending = anyio.from_thread.run(self._source.receive)
            except anyio.EndOfStream:
                if not self._flow.complete:
                    raise _Aborted() from None
                self._eof = True
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _encryptor(
    vault: Vault,
    plan: UploadPlan,
    kind: MediaKind,
    pending: MediaWrite,
    source: MemoryObjectReceiveStream[bytes],
    flow: _Flow,
) -> Callable[[], None]:
    def run() -> None:
        reader = io.BufferedReader(_ChannelReader(source, flow), buffer_size=64 * 1024)
        try:
            vault.encrypt_stream(
                media_context(plan.tenant, plan.recording_id, kind),
                reader,
                pending.file(kind),
                subject=plan.subject,
            )
        except _Aborted:
            pass
        except Exception as exc:  # noqa: BLE001 - handed to the request, which raises it
            flow.errors.append(exc)
        finally:
            # Unblocks the request if this side stopped early.
            anyio.from_thread.run_sync(source.close)

    return run


async def receive_upload(
    plan: UploadPlan,
    body: AsyncIterable[bytes],
    *,
    vault: Vault,
    pending: MediaWrite,
    max_bytes: int,
    content_length: int | None = None,
    digest_sha256: str | None = None,
) -> UploadResult:
    """Stream ``body`` into the encrypted original and redacted rendition of ``pending``.

    Raises ``PayloadTooLarge`` (over ``max_bytes``), ``UnsupportedAudio`` (not
    PCM WAV), ``TruncatedUpload``/``MalformedWav``/``BadRequest`` (body shorter
    or longer than announced), ``ValidationFailed`` (checksum, size or channels
    differ from what was declared). On any error the encryptors stop before
    sealing their last chunk and the caller discards ``pending``.
    """
    if content_length is not None and content_length > max_bytes:
        raise PayloadTooLarge(f"the recording is larger than {max_bytes} bytes")
    wav = WavFilter(pauses=plan.pauses, silences=plan.silences, max_bytes=max_bytes)
    hasher = hashlib.sha256()
    flow = _Flow()
    pending.file("original")
    pending.file("redacted")
    send_original, receive_original = anyio.create_memory_object_stream[bytes](_QUEUE_DEPTH)
    send_redacted, receive_redacted = anyio.create_memory_object_stream[bytes](_QUEUE_DEPTH)
    failure: BaseException | None = None
    summary: WavSummary | None = None
    async with anyio.create_task_group() as tasks:
        sides: tuple[tuple[MediaKind, MemoryObjectReceiveStream[bytes]], ...] = (
            ("original", receive_original),
            ("redacted", receive_redacted),
        )
        for kind, source in sides:
            tasks.start_soon(
                anyio.to_thread.run_sync, _encryptor(vault, plan, kind, pending, source, flow)
            )
        try:
            received = 0
            async for chunk in body:
                received += len(chunk)
                if received > max_bytes:
                    raise PayloadTooLarge(f"the recording is larger than {max_bytes} bytes")
                if content_length is not None and received > content_length:
                    raise BadRequest("the body is longer than its Content-Length")
                hasher.update(chunk)
                original, redacted = wav.feed(chunk)
                if original:
                    await send_original.send(original)
                if redacted:
                    await send_redacted.send(redacted)
            if content_length is not None and received != content_length:
                raise BadRequest("the body is shorter than its Content-Length")
            summary = wav.finish()
            _check_declared(plan, summary, hasher.hexdigest(), digest_sha256)
            flow.complete = True
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            failure = None  # an encryptor stopped: its error is in flow.errors
        except BaseException as exc:  # noqa: BLE001 - re-raised once the encryptors stopped
            failure = exc
        finally:
            send_original.close()
            send_redacted.close()
    if failure is not None:
        raise failure
    if flow.errors:
        # A key or disk problem on our side, never the uploader's fault: fail closed.
        raise MediaUnavailable("the recording could not be encrypted") from flow.errors[0]
    if summary is None:  # pragma: no cover - complete implies a summary
        raise BadRequest("the upload did not complete")
    return UploadResult(
        summary=summary,
        sha256=hasher.hexdigest(),
        ciphertext_bytes=sum(pending.file(k).tell() for k in ("original", "redacted")),
    )


def _check_declared(
    plan: UploadPlan, summary: WavSummary, sha256: str, digest_sha256: str | None
) -> None:
    for declared in (plan.declared_sha256, digest_sha256):
        if declared is not None and declared.lower() != sha256:
            raise ValidationFailed("the recording's SHA-256 differs from the declared one")
    if plan.declared_size is not None and plan.declared_size != summary.received_bytes:
        raise ValidationFailed("the recording's size differs from the declared size_bytes")
    channels = summary.format.channels
    if plan.declared_channels is not None and plan.declared_channels != channels:
        raise ValidationFailed("the recording's channel count differs from the declared one")


def record_stored(
    session: Session,
    store: MediaStore,
    plan: UploadPlan,
    pending: MediaWrite,
    result: UploadResult,
    *,
    clock: Clock = utc_now,
) -> Recording:
    """Mark the recording stored and put its files in place, under its row lock."""
    marked = session.execute(
        update(Recording)
        .where(
            Recording.id == plan.recording_id,
            Recording.interaction_id == plan.interaction_id,
            Recording.media_status != STORED,
        )
        .values(
            media_status=STORED,
            stored_bytes=result.ciphertext_bytes,
            stored_at=clock(),
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(marked, "rowcount", 0) != 1:
        raise Conflict("media of this recording is already stored")
    recording = session.get(Recording, plan.recording_id, populate_existing=True)
    if recording is None:  # pragma: no cover - the update just matched it
        raise NotFound("no such recording")
    if recording.size_bytes is None:
        recording.size_bytes = result.summary.received_bytes
    if recording.sha256 is None:
        recording.sha256 = result.sha256
    if recording.channels is None:
        recording.channels = result.summary.format.channels
    # We hold the row and it said "not stored": files already there are what a crash
    # between linking and committing left behind, never another upload's.
    store.delete(plan.tenant, plan.recording_id)
    pending.commit()
    return recording


__all__ = [
    "PENDING",
    "STORED",
    "WAV_MEDIA_TYPES",
    "MediaUnavailable",
    "UploadPlan",
    "UploadResult",
    "media_context",
    "plan_upload",
    "receive_upload",
    "record_stored",
]
