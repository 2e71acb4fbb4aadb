"""Every people-facing route declares a permission; each role gets exactly what it holds.

The matrix test walks every operation that declares ``x-rempart-permission``
in the OpenAPI document, for every built-in role: a person holding only that
role, with need-to-know on the interaction (assigned to it), is allowed iff
the role carries the route's permission (and, for a route about one
interaction, ``interaction:read``). Obligations: every route that returns
interaction data is checked to return the masked form unless an unmask
grant says otherwise.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rempart.access import (
    Grant,
    GrantKind,
    GrantStatus,
    ObjectType,
    Obligation,
    ObligationKind,
    Permission,
    RelationKind,
    SensitiveField,
    default_catalog,
    role_permission_matrix,
)
from rempart.access.store import SqlWriter, load_catalog
from rempart.api.access import PERMISSION_EXTENSION
from rempart.api.deps import SCOPE_EXTENSION
from rempart.api.presentation import HIDDEN, present
from rempart.contact.schemas import InteractionOut, SegmentOut
from rempart.identity.assurance import Level
from rempart.storage import Database
from tests.api.conftest import Caller, MutableClock, issue
from tests.api.people import Person, person, relate
from tests.api.test_workspace import EMAIL, PAN, PHONE, call, keep_originals, push
from tests.contact.test_media import make_wav, tone_frames

PEOPLE_ROUTES = {
    ("get", "/api/v1/workspace/interactions"),
    ("get", "/api/v1/workspace/interactions/{interaction_id}"),
    ("post", "/api/v1/workspace/interactions/{interaction_id}/unmask-requests"),
    ("post", "/api/v1/workspace/grants/{grant_id}/approve"),
    ("get", "/api/v1/workspace/interactions/{interaction_id}/original"),
    ("get", "/api/v1/workspace/interactions/{interaction_id}/recordings/{recording_id}"),
    ("get", "/api/v1/workspace/interactions/{interaction_id}/recordings/{recording_id}/original"),
    ("get", "/api/v1/workspace/captures/{capture_id}"),
    ("get", "/api/v1/workspace/captures/{capture_id}/events"),
    ("post", "/api/v1/workspace/break-glass"),
    ("get", "/api/v1/workspace/grants"),
    ("get", "/api/v1/privacy/subjects"),
    ("post", "/api/v1/privacy/erasures"),
    ("post", "/api/v1/privacy/exports"),
}
# What each people route is called with in the matrix; the routes that change what
# the caller may do afterwards (break-glass) or destroy the data (erasure) run last.
LAST = ("/api/v1/workspace/break-glass", "/api/v1/privacy/erasures")
CALLS: dict[str, dict[str, Any]] = {
    "/api/v1/workspace/break-glass": {"json": {"reason": "matrix test: major incident 42"}},
    "/api/v1/privacy/subjects": {"params": {"customer_id": "CUST-123456"}},
    "/api/v1/privacy/erasures": {
        "json": {"customer_id": "CUST-123456", "reason": "matrix test: art. 17 request"}
    },
    "/api/v1/privacy/exports": {
        "json": {"customer_id": "CUST-123456", "passphrase": "correct horse battery staple"}
    },
}
# Signed CCaaS callbacks authenticate by their signature (tests/api/test_webhooks.py).
AUTH_EXTENSION = "x-rempart-auth"
MATRIX = role_permission_matrix(default_catalog())
ROLES = sorted(r for r in MATRIX if not default_catalog().roles[r].machine)


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    doc = client.get("/api/v1/openapi.json").json()
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/api/v1")
        for method, op in item.items()
    ]


def test_every_operation_declares_a_scope_or_a_permission(client: TestClient) -> None:
    declared = {}
    for method, path, op in operations(client):
        kinds = [k for k in (SCOPE_EXTENSION, PERMISSION_EXTENSION, AUTH_EXTENSION) if k in op]
        assert len(kinds) == 1, f"{method.upper()} {path} declares {kinds or 'nothing'}"
        if PERMISSION_EXTENSION in op:
            Permission(op[PERMISSION_EXTENSION])  # a known permission
            declared[(method, path)] = op[PERMISSION_EXTENSION]
    assert set(declared) == PEOPLE_ROUTES


def test_people_routes_refuse_machine_tokens_and_anonymous_callers(
    client: TestClient, alice: Caller
) -> None:
    for method, path, op in operations(client):
        if PERMISSION_EXTENSION not in op:
            continue
        url = (
            path.replace("{interaction_id}", str(uuid.uuid4()))
            .replace("{grant_id}", str(uuid.uuid4()))
            .replace("{recording_id}", str(uuid.uuid4()))
            .replace("{capture_id}", str(uuid.uuid4()))
        )
        for headers in ({}, alice.headers):
            r = client.request(method, url, headers=headers, json={"reason": "x" * 20})
            assert r.status_code == 401, f"{method.upper()} {path}: {r.status_code}"


def _grant(
    db: Database,
    caller: Caller,
    clock: MutableClock,
    who: Person,
    iid: str,
    permissions: frozenset[Permission],
) -> None:
    now = clock()
    with db.tenant_session(caller.ctx) as s:
        SqlWriter(s, load_catalog(s), actor="test", clock=clock).put_grant(
            Grant(
                id=str(uuid.uuid4()),
                user_id=who.user_id,
                kind=GrantKind.JIT,
                permissions=permissions,
                interaction_id=iid,
                reason="matrix test: approved unmask grant",
                requested_at=now,
                expires_at=now + timedelta(minutes=10),
                status=GrantStatus.ACTIVE,
                min_assurance=2,
                approver_id="someone-else",
                decided_at=now,
            )
        )


def _upload(client: TestClient, caller: Caller, iid: str) -> str:
    body = client.get(f"/api/v1/interactions/{iid}", headers=caller.headers).json()
    rid = str(body["recordings"][0]["id"])
    r = client.put(
        f"/api/v1/interactions/{iid}/recordings/{rid}/media",
        content=make_wav(tone_frames(1.0, channels=2), channels=2),
        headers={**caller.headers, "Content-Type": "audio/wav"},
    )
    assert r.status_code in (200, 201), r.text
    return rid


def _capture(
    client: TestClient, db: Database, caller: Caller, clock: MutableClock, iid: str
) -> str:
    """A payment capture on the call, closed at once (so its event stream ends)."""
    ivr = issue(db, caller.ctx, scopes=["payment:capture"], clock=clock)
    opened = client.post(
        "/api/v1/payments/captures", json={"interaction_id": iid}, headers=ivr.headers
    )
    assert opened.status_code == 201, opened.text
    capture_id = str(opened.json()["capture_id"])
    closed = client.post(f"/api/v1/payments/captures/{capture_id}/cancel", headers=ivr.headers)
    assert closed.status_code == 200, closed.text
    return capture_id


@pytest.mark.parametrize("role", ROLES)
def test_role_route_matrix(
    client: TestClient, alice: Caller, db: Database, clock: MutableClock, role: str
) -> None:
    keep_originals(db, alice.ctx, clock)
    handler = person(db, alice.ctx, clock, "handler", ["agent"])
    iid = push(client, alice, call(handler))
    who = person(db, alice.ctx, clock, f"p-{role}", [role], assurance=Level.MULTI_FACTOR)
    relate(db, alice.ctx, clock, who, RelationKind.ASSIGNED, ObjectType.INTERACTION, iid)
    holds = MATRIX[role]
    unmasks = frozenset(
        p for p in (Permission.INTERACTION_UNMASK, Permission.RECORDING_UNMASK) if holds[p]
    )
    if unmasks:
        _grant(db, alice, clock, who, iid, unmasks)
    rid = _upload(client, alice, iid)
    capture_id = _capture(client, db, alice, clock, iid)
    # A pending request by someone else, for the approve route.
    asker = person(db, alice.ctx, clock, "asker", ["supervisor"], assurance=Level.MULTI_FACTOR)
    relate(db, alice.ctx, clock, asker, RelationKind.ASSIGNED, ObjectType.INTERACTION, iid)
    asked = client.post(
        f"/api/v1/workspace/interactions/{iid}/unmask-requests",
        json={"reason": "matrix test: pending request to approve"},
        headers=asker.headers,
    )
    assert asked.status_code == 201, asked.text
    grant_id = asked.json()["id"]
    people = [(m, p, op) for m, p, op in operations(client) if PERMISSION_EXTENSION in op]
    people.sort(key=lambda x: LAST.index(x[1]) if x[1] in LAST else -1)
    for method, path, op in people:
        permission = Permission(op[PERMISSION_EXTENSION])
        # A route about one interaction also needs the need-to-know permission it reads
        # through: recording:play for recordings, interaction:read for the rest.
        needs = {permission}
        if "{capture_id}" in path:
            pass  # payment:observe is itself decided on the capture's call
        elif "{recording_id}" in path:
            needs.add(Permission.RECORDING_PLAY)
        elif "{interaction_id}" in path:
            needs.add(Permission.INTERACTION_READ)
        allowed = all(holds[p] for p in needs)
        url = (
            path.replace("{interaction_id}", iid)
            .replace("{grant_id}", grant_id)
            .replace("{recording_id}", rid)
            .replace("{capture_id}", capture_id)
        )
        body = {"reason": "matrix test: reason long enough"} if method == "post" else None
        kwargs = CALLS.get(path, {"json": body})
        r = client.request(method, url, headers=who.headers, **kwargs)
        where = f"{role}: {method.upper()} {path} -> {r.status_code} {r.text[:200]}"
        if allowed:
            assert 200 <= r.status_code < 300, where
        else:
            assert r.status_code in (403, 404), where


def _out(view: str = "redacted") -> InteractionOut:
    return InteractionOut(
        id="i",
        external_id="e",
        channel="call",
        direction="inbound",
        language="fr",
        queue=None,
        customer_id="CUST-1",
        started_at="2026-11-02T09:00:00Z",
        ended_at=None,
        created_at="2026-11-02T09:00:00Z",
        subject="objet",
        agent=None,
        segments=[
            SegmentOut(
                seq=0, speaker="customer", text="t", start_ms=None, end_ms=None, sent_at=None
            )
        ],
        recordings=[],
        protection="redacted+original",
        view=view,
        customer_phone=PHONE,
        customer_email=EMAIL,
    )


def test_presentation_masks_hides_what_it_does_not_know_and_never_shows_originals_unasked() -> None:
    masked = present(_out(), (Obligation(ObligationKind.PHONE_PARTIAL, SensitiveField.PHONE),))
    assert masked.customer_phone is not None
    assert masked.customer_phone != PHONE
    # No obligation for e-mail or transcript: hidden outright (the safe default).
    assert masked.customer_email == HIDDEN
    assert masked.segments[0].text == HIDDEN
    unknown = present(_out(), (Obligation(ObligationKind.HIDE, SensitiveField.TRANSCRIPT),))
    assert unknown.segments[0].text == HIDDEN
    with pytest.raises(Exception, match="unmask grant"):
        present(
            _out("original"),
            (Obligation(ObligationKind.TRANSCRIPT_REDACTED, SensitiveField.TRANSCRIPT),),
        )


def test_no_response_path_returns_clear_identifiers_without_an_unmask_grant(
    client: TestClient, alice: Caller, db: Database, clock: MutableClock
) -> None:
    """Every operation returning interaction data, for a person allowed to read it."""
    keep_originals(db, alice.ctx, clock)
    agent = person(db, alice.ctx, clock, "agent", ["agent"])
    iid = push(client, alice, call(agent))
    seen = 0
    for method, path, op in operations(client):
        if method != "get" or "interactions" not in path:
            continue
        url = path.replace("{interaction_id}", iid)
        headers = agent.headers if PERMISSION_EXTENSION in op else alice.headers
        r = client.get(url, headers=headers)
        if r.status_code != 200 or "json" not in r.headers.get("content-type", ""):
            continue
        seen += 1
        text = r.text
        for secret in (PAN, PAN.replace(" ", ""), PHONE, "612345678", EMAIL, "Jeanne"):
            assert secret not in text, f"{path} leaks {secret!r}"
    assert seen >= 3
