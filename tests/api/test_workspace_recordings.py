"""People play recordings through access decisions: the silenced rendition, or the original
under an unmask grant. The sensitive span comes from ingest: the card number the caller
read out, found by redaction and mapped to the audio through the word timings."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.access import ObjectType, RelationKind
from rempart.contact.models import Team
from rempart.identity.assurance import Level
from rempart.storage import Database
from tests.api.conftest import Caller, MutableClock
from tests.api.people import Person, person, relate
from tests.api.test_workspace import WS, call, keep_originals, push
from tests.contact.test_media import RATE, make_wav, read_wav, tone_frames

WORDS = [("le", 1000, 1100), ("4970", 1200, 1400), ("1012", 1400, 1600)]
WORDS += [("3456", 1600, 1800), ("7899", 1800, 2000), ("merci", 2100, 2300)]
CARD_AUDIO_MS = (1100, 2100)  # the four groups of digits, padded by 100 ms


def timed_call(agent: Person) -> dict[str, Any]:
    text = " ".join(w for w, _, _ in WORDS)
    return call(
        agent,
        "call-rec-1",
        segments=[
            {"speaker": "agent", "text": "Votre numéro de carte ?", "start_ms": 0, "end_ms": 900},
            {
                "speaker": "customer",
                "text": text,
                "start_ms": 1000,
                "end_ms": 2300,
                "words": [{"text": w, "start_ms": a, "end_ms": b} for w, a, b in WORDS],
            },
        ],
        recordings=[{"media_type": "audio/wav", "duration_ms": 3000, "channels": 1}],
    )


def team_of(db: Database, caller: Caller, name: str = "Team A") -> str:
    with db.tenant_session(caller.ctx) as s:
        return s.scalars(select(Team.id).where(Team.name == name)).one()


def frames_at(data: bytes, ms: tuple[int, int]) -> bytes:
    return data[ms[0] * RATE // 1000 * 2 : ms[1] * RATE // 1000 * 2]


def setup_recording(client: TestClient, alice: Caller, agent: Person) -> tuple[str, str, bytes]:
    iid = push(client, alice, timed_call(agent))
    body = client.get(f"/api/v1/interactions/{iid}", headers=alice.headers).json()
    rid = body["recordings"][0]["id"]
    tone = tone_frames(3.0)
    r = client.put(
        f"/api/v1/interactions/{iid}/recordings/{rid}/media",
        content=make_wav(tone),
        headers={**alice.headers, "Content-Type": "audio/wav"},
    )
    assert r.status_code in (200, 201), r.text
    return iid, rid, tone


def test_a_supervisor_hears_the_card_number_silenced_an_agent_and_another_team_do_not_play(
    client: TestClient, alice: Caller, cast: dict[str, Person]
) -> None:
    iid, rid, tone = setup_recording(client, alice, cast["agent_a"])
    url = f"{WS}/interactions/{iid}/recordings/{rid}"
    r = client.get(url, headers=cast["sup_a"].headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    _, _, played = read_wav(r.content)
    assert set(frames_at(played, CARD_AUDIO_MS)) == {0}
    assert frames_at(played, (0, 1000)) == frames_at(tone, (0, 1000))
    assert frames_at(played, (2200, 3000)) == frames_at(tone, (2200, 3000))
    # Agents do not hold recording:play; another team's supervisor has no need-to-know.
    assert client.get(url, headers=cast["agent_a"].headers).status_code == 403
    assert client.get(url, headers=cast["sup_b"].headers).status_code == 404
    # The original needs an unmask grant.
    assert client.get(f"{url}/original", headers=cast["sup_a_mfa"].headers).status_code == 403


def test_the_original_recording_plays_under_an_approved_grant(
    client: TestClient,
    alice: Caller,
    cast: dict[str, Person],
    db: Database,
    clock: MutableClock,
) -> None:
    keep_originals(db, alice.ctx, clock)
    iid, rid, tone = setup_recording(client, alice, cast["agent_a"])
    ask = {"reason": "Dispute 4512: confirm what the caller said", "recording": True}
    url = f"{WS}/interactions/{iid}/unmask-requests"
    # Supervisors may not ask to hear originals in the built-in catalog...
    refused = client.post(url, json=ask, headers=cast["sup_a_mfa"].headers)
    assert refused.status_code == 403
    assert "recording:unmask" in refused.json()["detail"]
    # ...a supervisor who is also the team's security officer may.
    lead = person(
        db,
        alice.ctx,
        clock,
        "lead",
        ["supervisor", "security_officer"],
        assurance=Level.MULTI_FACTOR,
    )
    relate(db, alice.ctx, clock, lead, RelationKind.SUPERVISES, ObjectType.TEAM, team_of(db, alice))
    asked = client.post(url, json=ask, headers=lead.headers)
    assert asked.status_code == 201, asked.text
    grant = asked.json()
    assert "recording:unmask" in grant["permissions"]
    approved = client.post(f"{WS}/grants/{grant['id']}/approve", headers=cast["sup_b"].headers)
    assert approved.status_code == 200, approved.text
    r = client.get(f"{WS}/interactions/{iid}/recordings/{rid}/original", headers=lead.headers)
    assert r.status_code == 200, r.text
    _, _, played = read_wav(r.content)
    assert played == tone
