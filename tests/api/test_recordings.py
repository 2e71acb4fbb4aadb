"""PUT /api/v1/interactions/{id}/recordings/{id}/media: streamed, encrypted, refusals precise."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rempart.api import AppContext, create_app
from rempart.audit.log import query
from rempart.config import load_settings
from rempart.contact.media import MediaStore
from rempart.contact.models import Interaction, Recording
from rempart.contact.recording_playback import open_rendition
from rempart.storage import Database
from rempart.vault import Vault, open_local_vault
from rempart.vault.sql_store import SqlKeyringStore
from tests.api.conftest import Caller, MutableClock, issue
from tests.contact.test_media import (
    PAUSE_MS,
    SILENCE_MS,
    Call,
    byte_range,
    make_wav,
    read_wav,
    seed_call,
    tone_frames,
)

API = "/api/v1"
MAX_RECORDING = 200_000
WAV = {"Content-Type": "audio/wav"}


@pytest.fixture
def vault(db: Database, tmp_path: Path) -> Vault:
    settings = load_settings(data_dir=tmp_path / "vault")
    return open_local_vault(settings, store=SqlKeyringStore(db))


def _app(db: Database, tmp_path: Path, clock: MutableClock, vault: Vault | None) -> TestClient:
    settings = load_settings(
        data_dir=tmp_path / "data",
        max_request_bytes=64 * 1024,
        max_recording_bytes=MAX_RECORDING,
    )
    app = create_app(AppContext(settings=settings, db=db, clock=clock, vault=vault))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def media_client(
    db: Database, tmp_path: Path, clock: MutableClock, vault: Vault
) -> Iterator[TestClient]:
    with _app(db, tmp_path, clock, vault) as client:
        yield client


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "data" / "media")


def _url(call: Call) -> str:
    return f"{API}/interactions/{call.interaction_id}/recordings/{call.recording_id}/media"


def _put(
    client: TestClient,
    caller: Caller,
    call: Call,
    body: bytes | Iterator[bytes],
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, object]]:
    response = client.put(_url(call), content=body, headers={**caller.headers, **(headers or WAV)})
    return response.status_code, response.json()


def _state(db: Database, store: MediaStore, call: Call) -> tuple[str, bool]:
    with db.tenant_session(call.ctx) as session:
        recording = session.get(Recording, call.recording_id)
        assert recording is not None
        status = recording.media_status
    directory = store.root / call.ctx.tenant_id
    partials = directory.exists() and any(p.name.startswith(".") for p in directory.iterdir())
    return status, partials or store.exists(call.ctx.tenant_id, call.recording_id)


def _play(db: Database, vault: Vault, store: MediaStore, call: Call, *, original: bool) -> bytes:
    with db.tenant_session(call.ctx) as session:
        interaction = session.get(Interaction, call.interaction_id)
        recording = session.get(Recording, call.recording_id)
        assert interaction is not None
        assert recording is not None
        return b"".join(open_rendition(vault, store, interaction, recording, original=original))


def _events(db: Database, call: Call) -> list[tuple[str, str | None, dict[str, object]]]:
    with db.tenant_session(call.ctx) as session:
        return [
            (e.outcome, e.reason, dict(e.details))
            for e in query(session, action="recording.upload", resource_id=call.recording_id)
        ]


def test_upload_larger_than_the_request_limit_is_stored_encrypted_and_audited(
    db: Database, vault: Vault, store: MediaStore, media_client: TestClient, alice: Caller
) -> None:
    call = seed_call(db, vault, alice.ctx)
    frames = tone_frames(5.0)  # 80 kB: over max_request_bytes (64 KiB)
    wav = make_wav(frames)
    status, body = _put(media_client, alice, call, wav)
    assert status == 201, body
    assert body["media_status"] == "stored"
    assert body["size_bytes"] == len(wav)
    assert body["sha256"] == hashlib.sha256(wav).hexdigest()
    assert (body["duration_ms"], body["channels"], body["sample_rate"]) == (5000, 1, 8000)
    assert (body["pause_windows"], body["silenced_spans"]) == (1, 1)
    assert _state(db, store, call) == ("stored", True)

    for path in (
        store.paths(alice.ctx.tenant_id, call.recording_id).of(k) for k in ("original", "redacted")
    ):
        blob = path.read_bytes()
        assert frames[4000:4064] not in blob
        assert frames[60_000:60_064] not in blob

    pcm = read_wav(_play(db, vault, store, call, original=True))[2]
    pause = byte_range(PAUSE_MS)
    assert pcm[pause] == bytes(pause.stop - pause.start)
    assert pcm[pause.stop :] == frames[pause.stop :]
    redacted = read_wav(_play(db, vault, store, call, original=False))[2]
    span = byte_range(SILENCE_MS)
    assert redacted[span] == bytes(span.stop - span.start)
    assert redacted[span.stop :] == frames[span.stop :]

    with db.tenant_session(call.ctx) as session:
        recording = session.get(Recording, call.recording_id)
        assert recording is not None
        assert recording.stored_bytes == body["stored_bytes"]
        assert recording.stored_at is not None
    [(outcome, _reason, details)] = _events(db, call)
    assert outcome == "success"
    assert details["size_bytes"] == len(wav)
    assert details["key"] == "subject"
    assert "sha256" not in details
    assert all(not isinstance(v, bytes) for v in details.values())


def test_a_chunked_upload_without_content_length_is_streamed(
    db: Database, vault: Vault, store: MediaStore, media_client: TestClient, alice: Caller
) -> None:
    call = seed_call(db, vault, alice.ctx, pause=False, silence=False)
    frames = tone_frames(4.0)
    wav = make_wav(frames)
    chunks = iter([wav[i : i + 7001] for i in range(0, len(wav), 7001)])
    status, body = _put(media_client, alice, call, chunks)
    assert status == 201, body
    assert read_wav(_play(db, vault, store, call, original=False))[2] == frames


def _refused(
    db: Database,
    store: MediaStore,
    client: TestClient,
    caller: Caller,
    call: Call,
    body: bytes | Iterator[bytes],
    expected: int,
    slug: str,
    headers: dict[str, str] | None = None,
) -> None:
    status, problem = _put(client, caller, call, body, headers)
    assert status == expected, problem
    assert problem["type"] == f"urn:rempart:problem:{slug}"
    assert _state(db, store, call) == ("pending", False)


def test_every_bad_upload_gets_a_precise_4xx_and_leaves_nothing(
    db: Database, vault: Vault, store: MediaStore, media_client: TestClient, alice: Caller
) -> None:
    call = seed_call(db, vault, alice.ctx)
    wav = make_wav(tone_frames(3.0))
    big = make_wav(tone_frames(13.0))  # 208 kB > MAX_RECORDING
    cases: list[tuple[bytes | Iterator[bytes], int, str, dict[str, str] | None]] = [
        (big, 413, "payload-too-large", None),
        (
            iter([big[i : i + 8192] for i in range(0, len(big), 8192)]),
            413,
            "payload-too-large",
            None,
        ),
        (wav[:-500], 400, "truncated-upload", None),
        (iter([wav[:20_000]]), 400, "truncated-upload", None),
        (wav + b"\x00\x00", 400, "malformed-wav", None),
        (wav, 415, "unsupported-audio", {"Content-Type": "audio/mpeg"}),
        (wav, 415, "unsupported-audio", {"Content-Type": "application/json"}),
        (b"ID3\x04" + wav[4:], 415, "unsupported-audio", None),
        (
            wav,
            422,
            "validation-failed",
            {**WAV, "Content-Digest": "sha-256=:" + base64.b64encode(bytes(32)).decode() + ":"},
        ),
        (wav, 400, "bad-request", {**WAV, "Content-Digest": "sha-256=:not base64:"}),
    ]
    for body, expected, slug, headers in cases:
        _refused(db, store, media_client, alice, call, body, expected, slug, headers)
    events = _events(db, call)
    assert len(events) == len(cases)
    assert {outcome for outcome, _r, _d in events} == {"failure"}
    assert {reason for _o, reason, _d in events} == {
        "payload-too-large",
        "truncated-upload",
        "malformed-wav",
        "unsupported-audio",
        "validation-failed",
        "bad-request",
    }
    good = {
        **WAV,
        "Content-Digest": "sha-256=:"
        + base64.b64encode(hashlib.sha256(wav).digest()).decode()
        + ":",
    }
    status, answer = _put(media_client, alice, call, wav, good)
    assert status == 201, answer


def test_content_length_that_disagrees_with_the_body_is_a_400(
    db: Database, vault: Vault, store: MediaStore, media_client: TestClient, alice: Caller
) -> None:
    call = seed_call(db, vault, alice.ctx)
    wav = make_wav(tone_frames(1.0))
    for declared in (len(wav) + 100, len(wav) - 100):
        _refused(
            db,
            store,
            media_client,
            alice,
            call,
            wav,
            400,
            "bad-request",
            {**WAV, "Content-Length": str(declared)},
        )


def test_a_second_upload_is_409_and_the_first_stays(
    db: Database, vault: Vault, store: MediaStore, media_client: TestClient, alice: Caller
) -> None:
    call = seed_call(db, vault, alice.ctx)
    first = make_wav(tone_frames(1.0))
    assert _put(media_client, alice, call, first)[0] == 201
    before = store.paths(alice.ctx.tenant_id, call.recording_id).original.read_bytes()
    status, problem = _put(media_client, alice, call, make_wav(tone_frames(0.5)))
    assert status == 409
    assert problem["type"] == "urn:rempart:problem:conflict"
    assert store.paths(alice.ctx.tenant_id, call.recording_id).original.read_bytes() == before


def test_a_declared_checksum_that_differs_is_422(
    db: Database, vault: Vault, store: MediaStore, media_client: TestClient, alice: Caller
) -> None:
    call = seed_call(db, vault, alice.ctx, declared={"sha256": "f" * 64})
    wav = make_wav(tone_frames(1.0))
    _refused(db, store, media_client, alice, call, wav, 422, "validation-failed")


def test_another_tenant_gets_404_and_cannot_overwrite(
    db: Database,
    vault: Vault,
    store: MediaStore,
    media_client: TestClient,
    alice: Caller,
    bob: Caller,
) -> None:
    pending = seed_call(db, vault, alice.ctx)
    stored = seed_call(db, vault, alice.ctx)
    wav = make_wav(tone_frames(1.0))
    assert _put(media_client, alice, stored, wav)[0] == 201
    before = store.paths(alice.ctx.tenant_id, stored.recording_id).original.read_bytes()
    for call in (pending, stored):
        status, problem = _put(media_client, bob, call, make_wav(tone_frames(0.5)))
        assert status == 404, problem
    assert _state(db, store, pending) == ("pending", False)
    assert store.paths(alice.ctx.tenant_id, stored.recording_id).original.read_bytes() == before
    assert not (store.root / bob.ctx.tenant_id).exists() or not any(
        (store.root / bob.ctx.tenant_id).iterdir()
    )


def test_recording_of_another_interaction_is_404(
    db: Database, vault: Vault, store: MediaStore, media_client: TestClient, alice: Caller
) -> None:
    one = seed_call(db, vault, alice.ctx)
    two = seed_call(db, vault, alice.ctx)
    mixed = Call(alice.ctx, one.interaction_id, two.recording_id, None)
    status, _problem = _put(media_client, alice, mixed, make_wav(tone_frames(0.5)))
    assert status == 404
    assert _state(db, store, two) == ("pending", False)


def test_the_write_scope_is_required(
    db: Database, vault: Vault, store: MediaStore, media_client: TestClient, alice: Caller
) -> None:
    reader = issue(db, alice.ctx, ["interaction:read"])
    call = seed_call(db, vault, alice.ctx)
    status, problem = _put(media_client, reader, call, make_wav(tone_frames(0.5)))
    assert status == 403
    assert problem["required_scope"] == "interaction:write"
    assert _state(db, store, call) == ("pending", False)


def test_without_a_vault_uploads_fail_closed(
    db: Database, vault: Vault, tmp_path: Path, clock: MutableClock, alice: Caller
) -> None:
    call = seed_call(db, vault, alice.ctx)
    with _app(db, tmp_path, clock, None) as client:
        status, problem = _put(client, alice, call, make_wav(tone_frames(0.5)))
    assert status == 503
    assert problem["type"] == "urn:rempart:problem:media-unavailable"
    assert _state(db, MediaStore(tmp_path / "data" / "media"), call) == ("pending", False)


def test_other_routes_keep_the_generic_body_limit(media_client: TestClient, alice: Caller) -> None:
    response = media_client.post(
        f"{API}/interactions",
        content=b"{" + b" " * 70_000 + b"}",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_the_route_is_published_with_its_scope_and_wav_body(media_client: TestClient) -> None:
    spec = media_client.get(f"{API}/openapi.json").json()
    op = spec["paths"][f"{API}/interactions/{{interaction_id}}/recordings/{{recording_id}}/media"][
        "put"
    ]
    assert op["x-rempart-scope"] == "interaction:write"
    assert "audio/wav" in op["requestBody"]["content"]
