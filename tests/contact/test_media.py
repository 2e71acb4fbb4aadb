"""The media store: layout, modes, atomic writes, idempotent deletion, hostile ids."""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import stat
import struct
import threading
import tracemalloc
import uuid
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rempart.config import load_settings
from rempart.contact.media import KINDS, MediaStore
from rempart.contact.models import Customer, Interaction, Recording
from rempart.contact.payments.config import PaymentConfig
from rempart.contact.payments.service import cancel, open_capture
from rempart.contact.recording_playback import open_rendition
from rempart.contact.recording_upload import (
    MediaUnavailable,
    UploadResult,
    plan_upload,
    receive_upload,
    record_stored,
)
from rempart.contact.subjects import subject_of
from rempart.contact.wav import MalformedWav, TruncatedUpload, UnsupportedAudio, WavFilter
from rempart.errors import (
    BadRequest,
    Conflict,
    CryptoError,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from rempart.storage import Database, TenantContext
from rempart.vault import Vault, open_local_vault
from rempart.vault.sql_store import SqlKeyringStore

TENANT = "3f1c0c1e-6a53-4c7a-9a2b-0d1e2f3a4b5c"
OTHER = "8a9b0c1d-2e3f-4a5b-8c7d-6e5f4a3b2c1d"
REC = "0b6f7c3e-1d2a-4e5f-8a9b-0c1d2e3f4a5b"


def _store_both(store: MediaStore, tenant: str = TENANT, rec: str = REC) -> None:
    with store.write(tenant, rec) as pending:
        pending.file("original").write(b"ciphertext-original")
        pending.file("redacted").write(b"ciphertext-redacted")
        pending.commit()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_committed_files_are_in_the_tenant_directory_with_private_modes(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store)
    paths = store.paths(TENANT, REC)
    assert paths.original.read_bytes() == b"ciphertext-original"
    assert paths.redacted.read_bytes() == b"ciphertext-redacted"
    assert paths.original.parent == tmp_path / "media" / TENANT
    assert _mode(paths.original) == 0o600
    assert _mode(paths.redacted) == 0o600
    assert _mode(tmp_path / "media") == 0o700
    assert _mode(tmp_path / "media" / TENANT) == 0o700
    assert store.exists(TENANT, REC)
    assert not store.exists(OTHER, REC)
    assert store.size(TENANT, REC) == len(b"ciphertext-original") + len(b"ciphertext-redacted")
    assert sorted(p.name for p in (tmp_path / "media" / TENANT).iterdir()) == [
        f"{REC}.original",
        f"{REC}.redacted",
    ]


def test_for_settings_roots_the_store_in_the_data_dir(tmp_path: Path) -> None:
    from rempart.config import Settings

    store = MediaStore.for_settings(Settings(data_dir=tmp_path))
    assert store.root == tmp_path / "media"


def test_a_write_that_is_not_committed_leaves_nothing(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")

    def broken_upload() -> None:
        with store.write(TENANT, REC) as pending:
            pending.file("original").write(b"half")
            raise RuntimeError("upload broke")

    with pytest.raises(RuntimeError):
        broken_upload()
    assert not store.exists(TENANT, REC)
    assert list((tmp_path / "media" / TENANT).iterdir()) == []


def test_a_write_without_commit_leaves_nothing(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    with store.write(TENANT, REC) as pending:
        pending.file("original").write(b"x")
        pending.file("redacted").write(b"y")
    assert list((tmp_path / "media" / TENANT).iterdir()) == []


def test_commit_needs_both_files(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")

    def half_write() -> None:
        with store.write(TENANT, REC) as pending:
            pending.file("original").write(b"x")
            pending.commit()

    with pytest.raises(ValueError, match="redacted"):
        half_write()
    assert list((tmp_path / "media" / TENANT).iterdir()) == []


def test_stored_media_is_never_overwritten(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store)
    with pytest.raises(Conflict):
        _store_both(store)
    assert store.paths(TENANT, REC).original.read_bytes() == b"ciphertext-original"
    assert len(list((tmp_path / "media" / TENANT).iterdir())) == 2


def test_a_racing_second_writer_loses_and_leaves_the_first_intact(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")

    def late_writer() -> None:
        with store.write(TENANT, REC) as late:
            late.file("original").write(b"late")
            late.file("redacted").write(b"late")
            _store_both(store)  # the other writer commits first
            late.commit()

    with pytest.raises(Conflict):
        late_writer()
    assert store.paths(TENANT, REC).original.read_bytes() == b"ciphertext-original"
    assert store.paths(TENANT, REC).redacted.read_bytes() == b"ciphertext-redacted"
    assert len(list((tmp_path / "media" / TENANT).iterdir())) == 2


def test_delete_removes_both_files_and_is_idempotent(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store)
    store.delete(TENANT, REC)
    assert not store.paths(TENANT, REC).original.exists()
    assert not store.paths(TENANT, REC).redacted.exists()
    assert not store.exists(TENANT, REC)
    store.delete(TENANT, REC)
    store.delete(OTHER, REC)


def test_delete_of_one_tenant_leaves_the_other(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store, TENANT)
    _store_both(store, OTHER)
    store.delete(TENANT, REC)
    assert store.exists(OTHER, REC)


def test_open_reads_the_ciphertext_and_missing_media_is_not_found(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    with pytest.raises(NotFound):
        store.open(TENANT, REC, "redacted")
    _store_both(store)
    with store.open(TENANT, REC, "redacted") as handle:
        assert handle.read() == b"ciphertext-redacted"
    with pytest.raises(NotFound):
        store.open(OTHER, REC, "redacted")


@pytest.mark.parametrize(
    "bad",
    ["", "..", "../x", "a/b", "a\\b", "/etc/passwd", "a.b", "x" * 65, "a\x00b", "-a", " a"],
)
def test_ids_that_could_escape_the_directory_are_refused(tmp_path: Path, bad: str) -> None:
    store = MediaStore(tmp_path / "media")
    for call in (
        lambda: store.paths(TENANT, bad),
        lambda: store.paths(bad, REC),
        lambda: store.delete(TENANT, bad),
        lambda: store.exists(bad, REC),
        lambda: store.write(bad, REC).__enter__(),
    ):
        with pytest.raises(ValidationFailed):
            call()
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*"))


def test_sweep_removes_partials_left_by_a_crash(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    _store_both(store)
    directory = store.tenant_dir(TENANT)
    (directory / ".partial-abc").write_bytes(b"junk")
    assert store.sweep_partials(TENANT) == 1
    assert store.exists(TENANT, REC)
    assert store.sweep_partials(OTHER) == 0


# --- Helpers shared with tests/api/test_recordings.py -------------------------------

RATE = 8000
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PAUSE_MS = (1000, 1500)  # a payment capture opened 1 s into the call, closed 0.5 s later
SILENCE_MS = (2000, 2500)  # a sensitive span found at ingest


def tone_frames(seconds: float = 3.0, bits: int = 16, channels: int = 1) -> bytes:
    """A 440 Hz tone (no sample is silence, so any zeroed run is visible)."""
    width = bits // 8
    amp = (1 << (bits - 1)) - 1
    out = bytearray()
    for i in range(int(seconds * RATE)):
        v = int(0.5 * amp * math.sin(2 * math.pi * 440 * i / RATE))
        v = v if v != 0 else 1
        if bits == 8:
            sample = bytes([(v + 128) & 0xFF if v + 128 != 128 else 129])
        else:
            sample = (v & ((1 << bits) - 1)).to_bytes(width, "little")
        out += sample * channels
    return bytes(out)


def make_wav(frames: bytes, bits: int = 16, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(bits // 8)
        w.setframerate(RATE)
        w.writeframes(frames)
    return buf.getvalue()


def read_wav(data: bytes) -> tuple[int, int, bytes]:
    with wave.open(io.BytesIO(data), "rb") as r:
        return r.getnchannels(), r.getsampwidth(), r.readframes(r.getnframes())


def byte_range(ms: tuple[int, int], block: int = 2) -> slice:
    return slice(ms[0] * RATE // 1000 * block, ms[1] * RATE // 1000 * block)


@dataclass(frozen=True)
class Call:
    ctx: TenantContext
    interaction_id: str
    recording_id: str
    customer_id: str | None


def seed_call(
    db: Database,
    vault: Vault,
    ctx: TenantContext,
    *,
    customer: bool = True,
    pause: bool = True,
    silence: bool = True,
    declared: dict[str, object] | None = None,
) -> Call:
    """A call with one declared recording, a closed payment capture and a sensitive span."""
    vault.ensure_tenant(ctx.tenant_id)
    with db.tenant_session(ctx) as session:
        customer_id = None
        if customer:
            row = Customer(created_at=T0)
            session.add(row)
            session.flush()
            customer_id = row.id
        interaction = Interaction(
            external_id=f"call-{uuid.uuid4().hex[:8]}",
            channel="call",
            direction="inbound",
            started_at=T0,
            created_at=T0,
            created_by="test",
            content_sha256="0" * 64,
            customer_id=customer_id,
            silence_ms=[list(SILENCE_MS)] if silence else None,
        )
        recording = Recording(media_type="audio/wav", duration_ms=3000, **(declared or {}))
        interaction.recordings = [recording]
        session.add(interaction)
        session.flush()
        if pause:
            capture = open_capture(
                session,
                vault,
                PaymentConfig(),
                interaction_id=interaction.id,
                opened_by="test",
                clock=lambda: T0 + timedelta(milliseconds=PAUSE_MS[0]),
            )
            cancel(session, capture.id, clock=lambda: T0 + timedelta(milliseconds=PAUSE_MS[1]))
        return Call(ctx, interaction.id, recording.id, customer_id)


@pytest.fixture
def vault(db: Database, tmp_path: Path) -> Vault:
    settings = load_settings(data_dir=tmp_path / "vault")
    return open_local_vault(settings, store=SqlKeyringStore(db))


def _upload(
    db: Database,
    vault: Vault,
    store: MediaStore,
    call: Call,
    data: bytes | list[bytes],
    *,
    max_bytes: int = 10_000_000,
    content_length: int | None = None,
    digest: str | None = None,
) -> UploadResult:
    chunks = (
        data if isinstance(data, list) else [data[i : i + 5000] for i in range(0, len(data), 5000)]
    )

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    with db.tenant_session(call.ctx) as session:
        plan = plan_upload(session, vault, store, call.interaction_id, call.recording_id)
    with store.write(plan.tenant, plan.recording_id) as pending:
        result = anyio.run(
            partial(
                receive_upload,
                plan,
                body(),
                vault=vault,
                pending=pending,
                max_bytes=max_bytes,
                content_length=content_length,
                digest_sha256=digest,
            )
        )
        with db.tenant_session(call.ctx) as session:
            record_stored(session, store, plan, pending, result)
    return result


def _play(db: Database, vault: Vault, store: MediaStore, call: Call, *, original: bool) -> bytes:
    with db.tenant_session(call.ctx) as session:
        interaction = session.get(Interaction, call.interaction_id)
        recording = session.get(Recording, call.recording_id)
        assert interaction is not None
        assert recording is not None
        return b"".join(open_rendition(vault, store, interaction, recording, original=original))


def _status(db: Database, call: Call) -> str:
    with db.tenant_session(call.ctx) as session:
        recording = session.get(Recording, call.recording_id)
        assert recording is not None
        return recording.media_status


# --- Upload and playback, on both storage lanes --------------------------------------


def test_upload_stores_encrypted_original_without_the_pause_and_a_redacted_rendition(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    frames = tone_frames()
    wav = make_wav(frames)
    result = _upload(db, vault, store, call, wav)
    assert result.summary.received_bytes == len(wav)
    assert result.summary.duration_ms == 3000
    assert _status(db, call) == "stored"

    stored = [store.paths(tenant_a.tenant_id, call.recording_id).of(k).read_bytes() for k in KINDS]
    for blob in stored:
        assert blob[:2] == b"RS"  # the vault's stream format
        for probe in (frames[800:864], frames[9000:9064], frames[40_000:40_064], b"WAVE"):
            assert probe not in blob

    original = _play(db, vault, store, call, original=True)
    channels, width, pcm = read_wav(original)
    assert (channels, width, len(pcm)) == (1, 2, len(frames))
    pause = byte_range(PAUSE_MS)
    assert pcm[pause] == b"\x00" * (pause.stop - pause.start)
    assert pcm[: pause.start] == frames[: pause.start]
    assert pcm[pause.stop :] == frames[pause.stop :]  # the silenced span is kept in the original

    redacted = read_wav(_play(db, vault, store, call, original=False))[2]
    span = byte_range(SILENCE_MS)
    assert redacted[pause] == b"\x00" * (pause.stop - pause.start)
    assert redacted[span] == b"\x00" * (span.stop - span.start)
    assert redacted[: pause.start] == frames[: pause.start]
    assert redacted[pause.stop : span.start] == frames[pause.stop : span.start]
    assert redacted[span.stop :] == frames[span.stop :]


def test_media_is_sealed_under_the_customers_key_and_shredding_it_makes_it_unreadable(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    _upload(db, vault, store, call, make_wav(tone_frames(1.0)))
    assert call.customer_id is not None
    blob = store.paths(tenant_a.tenant_id, call.recording_id).original.read_bytes()
    assert subject_of(call.customer_id).encode() in blob[:80]  # key id in the stream header
    vault.shred_subject(tenant_a.tenant_id, subject_of(call.customer_id), reason="test")
    for original in (True, False):
        with pytest.raises(CryptoError):
            _play(db, vault, store, call, original=original)


def test_without_a_customer_the_tenant_data_key_seals_the_media(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a, customer=False, pause=False, silence=False)
    frames = tone_frames(1.0)
    _upload(db, vault, store, call, make_wav(frames))
    blob = store.paths(tenant_a.tenant_id, call.recording_id).redacted.read_bytes()
    assert b"data" in blob[:10]
    assert read_wav(_play(db, vault, store, call, original=False))[2] == frames


def test_swapped_files_do_not_decrypt(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    _upload(db, vault, store, call, make_wav(tone_frames(1.0)))
    paths = store.paths(tenant_a.tenant_id, call.recording_id)
    redacted = paths.redacted.read_bytes()
    paths.original.chmod(0o600)
    paths.original.write_bytes(redacted)  # try to pass the rendition off as the original
    with pytest.raises(CryptoError):
        _play(db, vault, store, call, original=True)


@pytest.mark.parametrize(("bits", "channels"), [(8, 1), (16, 2), (24, 1), (32, 2)])
def test_every_pcm_width_is_silenced_with_its_own_silence(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path, bits: int, channels: int
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    frames = tone_frames(3.0, bits=bits, channels=channels)
    _upload(db, vault, store, call, make_wav(frames, bits=bits, channels=channels))
    pcm = read_wav(_play(db, vault, store, call, original=False))[2]
    block = bits // 8 * channels
    silence = b"\x80" if bits == 8 else b"\x00"
    for window in (PAUSE_MS, SILENCE_MS):
        cut = byte_range(window, block)
        assert pcm[cut] == silence * (cut.stop - cut.start)
    first = byte_range(PAUSE_MS, block).start
    assert pcm[:first] == frames[:first]


def test_a_live_capture_silences_everything_from_its_start(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a, pause=False, silence=False)
    with db.tenant_session(tenant_a) as session:
        open_capture(
            session,
            vault,
            PaymentConfig(),
            interaction_id=call.interaction_id,
            opened_by="test",
            clock=lambda: T0 + timedelta(milliseconds=2000),
        )
    frames = tone_frames()
    _upload(db, vault, store, call, make_wav(frames))
    pcm = read_wav(_play(db, vault, store, call, original=True))[2]
    cut = 2000 * RATE // 1000 * 2
    assert pcm[:cut] == frames[:cut]
    assert pcm[cut:] == b"\x00" * (len(frames) - cut)


def test_metadata_chunks_are_dropped(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a, pause=False, silence=False)
    frames = tone_frames(0.5)
    wav = make_wav(frames)
    note = b"LIST" + struct.pack("<I", 20) + b"INFOINAM" + struct.pack("<I", 8) + b"Jeanne M"
    data_at = wav.index(b"data")
    patched = wav[:data_at] + note + wav[data_at:] + note
    patched = patched[:4] + struct.pack("<I", len(patched) - 8) + patched[8:]
    _upload(db, vault, store, call, patched)
    played = _play(db, vault, store, call, original=True)
    assert b"Jeanne" not in played
    assert read_wav(played)[2] == frames


def test_a_second_upload_is_a_conflict_and_keeps_the_first(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    _upload(db, vault, store, call, make_wav(tone_frames(1.0)))
    before = store.paths(tenant_a.tenant_id, call.recording_id).original.read_bytes()
    with pytest.raises(Conflict):
        _upload(db, vault, store, call, make_wav(tone_frames(0.5)))
    assert store.paths(tenant_a.tenant_id, call.recording_id).original.read_bytes() == before


def test_files_left_by_a_crash_before_the_record_are_replaced(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    _store_both(store, tenant_a.tenant_id, call.recording_id)  # linked, never recorded
    frames = tone_frames(0.5)
    _upload(db, vault, store, call, make_wav(frames))
    assert _status(db, call) == "stored"
    assert read_wav(_play(db, vault, store, call, original=False))[2][:100] == frames[:100]


def _refused(
    db: Database,
    vault: Vault,
    store: MediaStore,
    call: Call,
    data: bytes | list[bytes],
    error: type[Exception],
    **kwargs: Any,
) -> None:
    with pytest.raises(error):
        _upload(db, vault, store, call, data, **kwargs)
    assert _status(db, call) == "pending"
    assert not store.exists(call.ctx.tenant_id, call.recording_id)
    directory = store.root / call.ctx.tenant_id
    assert not directory.exists() or list(directory.iterdir()) == []


def test_bad_uploads_are_refused_and_leave_nothing(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    wav = make_wav(tone_frames(1.0))
    _refused(db, vault, store, call, wav[:-100], TruncatedUpload)
    _refused(db, vault, store, call, wav[:30], TruncatedUpload)
    _refused(db, vault, store, call, wav + b"\x00" * 4, MalformedWav)
    _refused(db, vault, store, call, wav, PayloadTooLarge, max_bytes=len(wav) - 1)
    _refused(db, vault, store, call, wav, BadRequest, content_length=len(wav) + 10)
    _refused(db, vault, store, call, wav, BadRequest, content_length=len(wav) - 10)
    _refused(db, vault, store, call, wav, ValidationFailed, digest="ab" * 32)
    _refused(db, vault, store, call, b"ID3\x03" + wav, UnsupportedAudio)
    _refused(db, vault, store, call, b"RIFF\x00\x00\x00\x00" + wav[8:], MalformedWav)
    alaw = bytearray(wav)
    alaw[20:22] = struct.pack("<H", 6)
    _refused(db, vault, store, call, bytes(alaw), UnsupportedAudio)
    # After all that, a good upload still works.
    _upload(db, vault, store, call, wav, digest=hashlib.sha256(wav).hexdigest())
    assert _status(db, call) == "stored"


def test_declared_checksum_size_and_channels_are_enforced(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    wav = make_wav(tone_frames(0.5))
    wrong: list[dict[str, object]] = [
        {"sha256": "0" * 64},
        {"size_bytes": len(wav) + 1},
        {"channels": 2},
    ]
    for declared in wrong:
        call = seed_call(db, vault, tenant_a, declared=declared)
        _refused(db, vault, store, call, wav, ValidationFailed)
    good = seed_call(
        db,
        vault,
        tenant_a,
        declared={"sha256": hashlib.sha256(wav).hexdigest(), "size_bytes": len(wav), "channels": 1},
    )
    _upload(db, vault, store, good, wav)
    assert _status(db, good) == "stored"


def test_another_tenant_neither_plans_nor_reads_the_recording(
    db: Database, vault: Vault, tenant_a: TenantContext, tenant_b: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    _upload(db, vault, store, call, make_wav(tone_frames(0.5)))
    with db.tenant_session(tenant_b) as session, pytest.raises(NotFound):
        plan_upload(session, vault, store, call.interaction_id, call.recording_id)
    with db.tenant_session(tenant_b) as session:
        assert session.get(Recording, call.recording_id) is None


def test_an_erased_customer_gets_no_media(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    with db.tenant_session(tenant_a) as session:
        customer = session.get(Customer, call.customer_id)
        assert customer is not None
        customer.erased_at = T0
    _refused(db, vault, store, call, make_wav(tone_frames(0.2)), Conflict)


def test_playback_needs_stored_media_of_that_interaction(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    other = seed_call(db, vault, tenant_a)
    with pytest.raises(NotFound):
        _play(db, vault, store, call, original=False)
    _upload(db, vault, store, call, make_wav(tone_frames(0.2)))
    with db.tenant_session(tenant_a) as session:
        interaction = session.get(Interaction, other.interaction_id)
        recording = session.get(Recording, call.recording_id)
        assert interaction is not None
        assert recording is not None
        with pytest.raises(NotFound):
            open_rendition(vault, store, interaction, recording)


def test_playback_abandoned_midway_stops_cleanly(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a, pause=False, silence=False)
    _upload(db, vault, store, call, make_wav(tone_frames(30.0)))  # ~480 KB: several chunks
    with db.tenant_session(tenant_a) as session:
        interaction = session.get(Interaction, call.interaction_id)
        recording = session.get(Recording, call.recording_id)
        assert interaction is not None
        assert recording is not None
        stream = open_rendition(vault, store, interaction, recording)
        first = next(stream)
        stream.close()  # type: ignore[attr-defined]
    assert first[:4] == b"RIFF"
    assert threading.active_count() >= 1


def test_delete_after_upload_removes_both_files(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    _upload(db, vault, store, call, make_wav(tone_frames(0.2)))
    paths = store.paths(tenant_a.tenant_id, call.recording_id)
    assert paths.original.exists()
    assert paths.redacted.exists()
    store.delete(tenant_a.tenant_id, call.recording_id)
    assert not paths.original.exists()
    assert not paths.redacted.exists()


def test_two_uploads_racing_for_one_recording_one_wins(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    first, second = make_wav(tone_frames(0.5)), make_wav(tone_frames(0.25))

    async def body(data: bytes) -> AsyncIterator[bytes]:
        yield data

    with db.tenant_session(tenant_a) as session:
        plan_a = plan_upload(session, vault, store, call.interaction_id, call.recording_id)
    with db.tenant_session(tenant_a) as session:
        plan_b = plan_upload(session, vault, store, call.interaction_id, call.recording_id)
    with (
        store.write(plan_a.tenant, plan_a.recording_id) as pending_a,
        store.write(plan_b.tenant, plan_b.recording_id) as pending_b,
    ):
        result_a = anyio.run(
            partial(
                receive_upload, plan_a, body(first), vault=vault, pending=pending_a, max_bytes=10**7
            )
        )
        result_b = anyio.run(
            partial(
                receive_upload,
                plan_b,
                body(second),
                vault=vault,
                pending=pending_b,
                max_bytes=10**7,
            )
        )
        with db.tenant_session(tenant_a) as session:
            record_stored(session, store, plan_a, pending_a, result_a)
        with db.tenant_session(tenant_a) as session, pytest.raises(Conflict):
            record_stored(session, store, plan_b, pending_b, result_b)
    assert len(read_wav(_play(db, vault, store, call, original=False))[2]) == 8000
    assert sorted(p.name for p in (store.root / tenant_a.tenant_id).iterdir()) == [
        f"{call.recording_id}.original",
        f"{call.recording_id}.redacted",
    ]


def test_partial_files_hold_only_ciphertext_while_the_upload_streams(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a, pause=False, silence=False)
    frames = tone_frames(20.0)  # 320 kB: several 64 KiB chunks
    wav = make_wav(frames)
    seen: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for i in range(0, len(wav), 4096):
            if i == 256 * 1024:
                await anyio.sleep(0)
                seen.extend(
                    p.read_bytes()
                    for p in (store.root / tenant_a.tenant_id).iterdir()
                    if p.name.startswith(".partial-")
                )
            yield wav[i : i + 4096]

    with db.tenant_session(tenant_a) as session:
        plan = plan_upload(session, vault, store, call.interaction_id, call.recording_id)
    with store.write(plan.tenant, plan.recording_id) as pending:
        anyio.run(
            partial(receive_upload, plan, body(), vault=vault, pending=pending, max_bytes=10**7)
        )
    assert len(seen) == 2
    for blob in seen:
        assert blob[:2] == b"RS"
        for at in range(0, len(frames) - 64, 16_000):
            assert frames[at : at + 64] not in blob


def test_memory_stays_bounded_whatever_the_recording_size(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    block = tone_frames(1.0)  # 16 kB, repeated lazily
    repeats = 512  # 8 MiB of audio
    size = len(block) * repeats
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16)
        + b"data"
        + struct.pack("<I", size)
    )

    async def body() -> AsyncIterator[bytes]:
        yield header
        for _ in range(repeats):
            yield block

    with db.tenant_session(tenant_a) as session:
        plan = plan_upload(session, vault, store, call.interaction_id, call.recording_id)
    tracemalloc.start()
    try:
        with store.write(plan.tenant, plan.recording_id) as pending:
            result = anyio.run(
                partial(receive_upload, plan, body(), vault=vault, pending=pending, max_bytes=10**8)
            )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.summary.data_bytes == size
    assert peak < 2 * 1024 * 1024


# --- The WAV filter on its own ----------------------------------------------------


def _run_filter(pieces: list[bytes], **kwargs: Any) -> tuple[bytes, bytes]:
    wav_filter = WavFilter(
        pauses=kwargs.get("pauses", [PAUSE_MS]),
        silences=kwargs.get("silences", [SILENCE_MS]),
        max_bytes=10**7,
    )
    original, redacted = b"", b""
    for piece in pieces:
        o, r = wav_filter.feed(piece)
        original += o
        redacted += r
    wav_filter.finish()
    return original, redacted


def _with_list_chunk(wav: bytes) -> bytes:
    note = b"LIST" + struct.pack("<I", 9) + b"INFOabcde" + b"\x00"
    at = wav.index(b"data")
    patched = wav[:at] + note + wav[at:]
    return patched[:4] + struct.pack("<I", len(patched) - 8) + patched[8:]


# 8-bit mono with an odd number of frames: the data chunk needs its pad byte.
_FILTER_WAV = _with_list_chunk(make_wav(tone_frames(3.0, bits=8)[:-1], bits=8))


@given(cuts=st.lists(st.integers(min_value=0, max_value=len(_FILTER_WAV)), max_size=40))
def test_the_filter_gives_the_same_bytes_however_the_body_is_split(cuts: list[int]) -> None:
    whole = _run_filter([_FILTER_WAV])
    points = [0, *sorted(cuts), len(_FILTER_WAV)]
    pieces = [_FILTER_WAV[a:b] for a, b in itertools.pairwise(points)]
    assert _run_filter(pieces) == whole


def test_the_filter_reads_a_header_that_arrives_byte_by_byte() -> None:
    wav = _with_list_chunk(make_wav(tone_frames(0.5)))
    pieces = [wav[i : i + 1] for i in range(200)] + [wav[200:]]
    original, _redacted = _run_filter(pieces, pauses=[], silences=[])
    assert read_wav(original)[2] == tone_frames(0.5)
    assert b"LIST" not in original


def test_an_odd_data_chunk_keeps_its_pad_byte() -> None:
    frames = tone_frames(0.5, bits=8)[:-1]  # 3999 one-byte frames
    wav = make_wav(frames, bits=8)  # Python's wave module leaves the pad byte out
    original, redacted = _run_filter([wav], pauses=[(0, 100)], silences=[])
    assert len(original) == len(wav) + 1
    assert original[-1:] == b"\x00"
    assert struct.unpack_from("<I", original, 4)[0] == len(original) - 8
    pcm = read_wav(original)[2]
    assert pcm[:800] == b"\x80" * 800
    assert pcm[800:] == frames[800:]
    assert redacted == original


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda w: w[:12] + w[36:], MalformedWav),  # data before fmt
        (lambda w: w[:40] + struct.pack("<I", 0xFFFFFFFF) + w[44:], MalformedWav),
        (lambda w: w[:40] + struct.pack("<I", 8001) + w[44:], MalformedWav),  # half a frame
        (lambda w: w[:34] + struct.pack("<H", 12) + w[36:], UnsupportedAudio),
        (lambda w: b"RIFX" + w[4:], UnsupportedAudio),
        (lambda w: w[:8] + b"AVI " + w[12:], UnsupportedAudio),
        (
            lambda w: w[:12] + w[12:36] + b"fmt " + struct.pack("<I", 16) + w[20:36] + w[36:],
            MalformedWav,
        ),
    ],
)
def test_structural_errors_are_named(
    mutate: Callable[[bytes], bytes], error: type[Exception]
) -> None:
    wav = make_wav(tone_frames(1.0))
    bad = mutate(wav)
    with pytest.raises(error):
        _run_filter([bad[:4000], bad[4000:]], pauses=[], silences=[])


def test_more_than_a_megabyte_before_the_audio_is_refused() -> None:
    wav = make_wav(tone_frames(0.1))
    junk = b"junk" + struct.pack("<I", 2 * 1024 * 1024)
    body = wav[:36] + junk
    body = body[:4] + struct.pack("<I", 4 * 1024 * 1024) + body[8:]
    wav_filter = WavFilter(pauses=[], silences=[], max_bytes=10**8)
    wav_filter.feed(body)

    def keep_feeding() -> None:
        for _ in range(40):
            wav_filter.feed(bytes(64 * 1024))

    with pytest.raises(MalformedWav, match="before the audio"):
        keep_feeding()


def test_a_riff_size_over_the_limit_is_refused_at_the_header() -> None:
    wav = make_wav(tone_frames(1.0))
    with pytest.raises(PayloadTooLarge):
        WavFilter(pauses=[], silences=[], max_bytes=len(wav) - 1).feed(wav[:12])


def test_an_encryptor_that_fails_fails_the_upload_and_leaves_nothing(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a, customer=False)
    # The tenant's keys are gone: both encryptors fail while the body is still coming.
    vault.shred_tenant(tenant_a.tenant_id, reason="test")
    wav = make_wav(tone_frames(5.0))
    _refused(db, vault, store, call, wav, MediaUnavailable)


def test_a_subject_key_shredded_before_the_customer_is_marked_erased_gets_a_new_key(
    db: Database, vault: Vault, tenant_a: TenantContext, tmp_path: Path
) -> None:
    """The vault creates subject keys on demand: erasure must mark the customer erased,
    which is what ``plan_upload`` refuses on (see test_an_erased_customer_gets_no_media)."""
    store = MediaStore(tmp_path / "media")
    call = seed_call(db, vault, tenant_a)
    assert call.customer_id is not None
    vault.shred_subject(tenant_a.tenant_id, subject_of(call.customer_id), reason="test")
    _upload(db, vault, store, call, make_wav(tone_frames(0.2)))
    assert _status(db, call) == "stored"
