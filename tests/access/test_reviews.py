"""Access reviews: every entitlement before a reviewer, flags, decisions, deadline, export."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from rempart.access import (
    GrantKind,
    GrantRefused,
    GrantStatus,
    ObjectType,
    Permission,
    Relation,
    RelationKind,
    TenantAccess,
    decide,
)
from rempart.access.grants import Grant
from rempart.access.reviews import (
    Campaign,
    Flag,
    ItemStatus,
    ReviewItem,
    close_overdue,
    export_csv,
    export_json,
    start_campaign,
)
from rempart.access.reviews import decide as review
from rempart.errors import ValidationFailed
from tests.access.helpers import NOW, T2, call, make_state, who

DEADLINE = NOW + timedelta(days=14)


def campaign(state: TenantAccess) -> Campaign:
    for user in state.users():
        state.last_login[user] = NOW - timedelta(days=1)
    return start_campaign(state, now=NOW, deadline=DEADLINE, fallback_reviewers=["sam", "tess"])


def item(c: Campaign, user: str, entitlement: str) -> ReviewItem:
    return next(i for i in c.items if i.user_id == user and i.entitlement == entitlement)


def test_every_role_relation_and_live_grant_is_listed_once() -> None:
    state = make_state()
    c = campaign(state)
    listed = {(i.user_id, i.entitlement) for i in c.items}
    for user in state.users():
        for role in state.roles_of(user):
            assert (user, f"role:{role}") in listed
    for rel in state.relations():
        key = f"relation:{rel.kind.value}:{rel.object_type.value}:{rel.object_id}"
        assert (rel.user_id, key) in listed
    assert len(listed) == len(c.items)


def test_team_members_are_reviewed_by_their_supervisor_others_by_a_fallback() -> None:
    c = campaign(make_state())
    assert item(c, "alice", "role:agent").reviewer_id == "bob"
    assert item(c, "bob", "role:supervisor").reviewer_id == "sam"
    assert item(c, "sam", "role:security_officer").reviewer_id == "tess"
    per = c.by_reviewer()
    assert {i.user_id for i in per["bob"]} == {"alice"}


def test_dormant_accounts_are_flagged() -> None:
    state = make_state()
    c = campaign(state)
    assert Flag.DORMANT.value not in item(c, "alice", "role:agent").flags
    state.last_login["alice"] = NOW - timedelta(days=46)
    del state.last_login["bob"]
    c = start_campaign(state, now=NOW, deadline=DEADLINE, fallback_reviewers=["sam", "tess"])
    assert Flag.DORMANT.value in item(c, "alice", "role:agent").flags
    assert Flag.DORMANT.value in item(c, "bob", "role:supervisor").flags


def test_toxic_combinations_and_separation_of_duty_are_flagged() -> None:
    state = make_state()
    state.assign_role("tess", "supervisor")  # role:assign + grant:approve
    state.set_roles_unchecked("aude", {"auditor", "tenant_admin"})
    c = campaign(state)
    assert Flag.TOXIC.value in item(c, "tess", "role:tenant_admin").flags
    assert Flag.TOXIC.value in item(c, "tess", "role:supervisor").flags
    assert Flag.TOXIC.value not in item(c, "alice", "role:agent").flags
    assert Flag.SOD_CONFLICT.value in item(c, "aude", "role:auditor").flags
    assert Flag.SOD_CONFLICT.value not in item(c, "sam", "role:security_officer").flags


def test_relations_and_grants_beyond_the_role_are_flagged() -> None:
    state = make_state()
    state.add_relation(Relation("tess", RelationKind.SUPERVISES, ObjectType.TEAM, "team-a"))
    state.put_grant(
        Grant(
            "g1",
            "alice",
            GrantKind.JIT,
            frozenset({Permission.RECORDING_PLAY}),
            "i-1",
            "reason long enough",
            NOW,
            NOW + timedelta(hours=1),
            GrantStatus.ACTIVE,
            1,
        )
    )
    c = campaign(state)
    assert Flag.EXCEEDS_ROLE.value in item(c, "tess", "relation:supervises:team:team-a").flags
    assert Flag.EXCEEDS_ROLE.value not in item(c, "bob", "relation:supervises:team:team-a").flags
    assert Flag.EXCEEDS_ROLE.value in item(c, "alice", "grant:g1").flags


def test_revoking_an_item_applies_to_the_next_decision() -> None:
    state = make_state()
    c = campaign(state)
    rel = item(c, "bob", "relation:supervises:team:team-a")
    assert decide(state, who("bob"), Permission.INTERACTION_READ, call(agent="x"), now=NOW)
    c = review(c, state, state, who("sam"), rel.id, "revoke", now=NOW)
    assert c.item(rel.id).status is ItemStatus.REVOKED
    assert not decide(state, who("bob"), Permission.INTERACTION_READ, call(agent="x"), now=NOW)


def test_certify_keeps_access() -> None:
    state = make_state()
    c = campaign(state)
    it = item(c, "alice", "role:agent")
    c = review(c, state, state, who("bob"), it.id, "certify", now=NOW)
    assert c.item(it.id).status is ItemStatus.CERTIFIED
    assert c.item(it.id).decided_by == "bob"
    assert "agent" in state.roles_of("alice")
    with pytest.raises(GrantRefused, match="already"):
        review(c, state, state, who("bob"), it.id, "revoke", now=NOW)


def test_only_the_assigned_reviewer_or_a_manager_decides() -> None:
    state = make_state()
    c = campaign(state)
    it = item(c, "alice", "role:agent")
    with pytest.raises(GrantRefused):
        review(c, state, state, who("quinn"), it.id, "revoke", now=NOW)
    with pytest.raises(GrantRefused, match="another tenant"):
        review(c, state, state, who("bob", T2), it.id, "revoke", now=NOW)
    review(c, state, state, who("sam"), it.id, "certify", now=NOW)  # access_review:manage


def test_nobody_reviews_their_own_access() -> None:
    state = make_state()
    c = campaign(state)
    with pytest.raises(GrantRefused, match="own"):
        review(
            c,
            state,
            state,
            who("sam"),
            item(c, "sam", "role:security_officer").id,
            "certify",
            now=NOW,
        )


def test_no_decision_after_the_deadline() -> None:
    state = make_state()
    c = campaign(state)
    with pytest.raises(GrantRefused, match="deadline"):
        review(
            c, state, state, who("bob"), item(c, "alice", "role:agent").id, "certify", now=DEADLINE
        )


def test_pending_items_are_revoked_at_the_deadline() -> None:
    state = make_state()
    c = campaign(state)
    keep = item(c, "alice", "role:agent")
    c = review(c, state, state, who("bob"), keep.id, "certify", now=NOW)
    assert close_overdue(c, state, now=NOW) is c  # before the deadline nothing happens
    c = close_overdue(c, state, now=DEADLINE)
    assert c.item(keep.id).status is ItemStatus.CERTIFIED
    assert "agent" in state.roles_of("alice")
    assert state.roles_of("bob") == frozenset()
    assert not decide(state, who("bob"), Permission.INTERACTION_READ, call(agent="x"), now=NOW)
    statuses = {i.status for i in c.items if i.id != keep.id}
    assert statuses == {ItemStatus.AUTO_REVOKED}


def test_campaign_needs_a_future_deadline_and_a_reviewer() -> None:
    state = make_state()
    with pytest.raises(ValidationFailed):
        start_campaign(state, now=NOW, deadline=NOW, fallback_reviewers=["sam"])
    with pytest.raises(ValidationFailed):
        start_campaign(state, now=NOW, deadline=DEADLINE, fallback_reviewers=[])


def test_exports_for_auditors() -> None:
    state = make_state()
    c = campaign(state)
    doc = json.loads(export_json(c))
    assert doc["summary"] == {"pending": len(c.items)}
    assert len(doc["items"]) == len(c.items)
    rows = list(csv.DictReader(io.StringIO(export_csv(c))))
    assert {(r["user_id"], r["entitlement"]) for r in rows} == {
        (i.user_id, i.entitlement) for i in c.items
    }


def test_csv_export_neutralises_formula_cells() -> None:
    state = make_state()
    state.set_user("=HYPERLINK(1)")
    state.assign_role("=HYPERLINK(1)", "agent")
    c = campaign(state)
    rows = list(csv.DictReader(io.StringIO(export_csv(c))))
    assert "'=HYPERLINK(1)" in {r["user_id"] for r in rows}
    assert not any(r["user_id"].startswith("=") for r in rows)
