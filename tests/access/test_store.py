"""Access state in the database, on SQLite and on PostgreSQL under row-level security."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rempart.access import (
    Allow,
    Deny,
    DenyReason,
    GrantService,
    MemorySink,
    ObjectType,
    Permission,
    Principal,
    Relation,
    RelationKind,
    SeparationOfDutyViolation,
    SessionAuditSink,
    TenantResource,
)
from rempart.access.models import AccessRelation, AccessState
from rempart.access.review_store import load_campaign, open_campaigns, save_campaign
from rempart.access.reviews import start_campaign
from rempart.access.roles import RoleDefinition, build_catalog, default_catalog
from rempart.access.store import (
    SqlWriter,
    decision_point,
    interaction_resource,
    load_catalog,
    load_tenant,
    read_version,
    record_login,
    save_catalog,
)
from rempart.audit import AuditRecord
from rempart.contact.models import Interaction, Queue, Team
from rempart.identity.models import User
from rempart.storage import Database, TenantContext
from tests.access.helpers import NOW, FixedClock
from tests.conftest import make_tenant

READ = Permission.INTERACTION_READ


def seed(db: Database, ctx: TenantContext) -> dict[str, str]:
    """Two users (agent, supervisor), a team, a queue and one call handled by nobody."""
    with db.tenant_session(ctx) as s:
        team = Team(name="Billing")
        s.add(team)
        s.flush()
        queue = Queue(name="billing-fr", team_id=team.id)
        agent = User(issuer="https://idp", subject="agent", display_name="A", created_at=NOW)
        sup = User(issuer="https://idp", subject="sup", display_name="S", created_at=NOW)
        s.add_all([queue, agent, sup])
        s.flush()
        call = Interaction(
            external_id="c-1",
            channel="voice",
            direction="inbound",
            queue_id=queue.id,
            agent_id=None,
            started_at=NOW - timedelta(hours=1),
            created_at=NOW,
            created_by="test",
            content_sha256="0" * 64,
        )
        s.add(call)
        s.flush()
        writer = SqlWriter(s, load_catalog(s))
        assert writer.sync_idp_roles(agent.id, ["agent", "not-a-role"]) == ["not-a-role"]
        writer.sync_idp_roles(sup.id, ["supervisor"])
        writer.add_relation(Relation(sup.id, RelationKind.SUPERVISES, ObjectType.TEAM, team.id))
        return {
            "team": team.id,
            "queue": queue.id,
            "agent": agent.id,
            "sup": sup.id,
            "call": call.id,
        }


def test_supervision_stored_in_the_database_opens_the_teams_calls(db: Database) -> None:
    ctx = make_tenant(db)
    ids = seed(db, ctx)
    pdp = decision_point(clock=FixedClock())
    with db.tenant_session(ctx) as s:
        call = s.get(Interaction, ids["call"])
        assert call is not None
        res = interaction_resource(s, call)
        view = pdp.view(s, ctx.tenant_id)
    assert res.team_id == ids["team"]
    assert isinstance(view.decide(Principal(ctx.tenant_id, ids["sup"]), READ, res), Allow)
    assert view.decide(Principal(ctx.tenant_id, ids["agent"]), READ, res) == Deny(
        DenyReason.NO_RELATION
    )


def test_a_revocation_committed_elsewhere_applies_to_the_next_request(db: Database) -> None:
    ctx = make_tenant(db)
    ids = seed(db, ctx)
    pdp = decision_point(clock=FixedClock())  # this process's warm cache
    sup = Principal(ctx.tenant_id, ids["sup"])
    with db.tenant_session(ctx) as s:
        call = s.get(Interaction, ids["call"])
        assert call is not None
        res = interaction_resource(s, call)
        assert pdp.view(s, ctx.tenant_id).decide(sup, READ, res)
    reloads = pdp.reloads
    with db.tenant_session(ctx) as s:  # unchanged: no reload
        assert pdp.view(s, ctx.tenant_id).decide(sup, READ, res)
    assert pdp.reloads == reloads
    with db.tenant_session(ctx) as s:  # "another process" removes the relation
        SqlWriter(s, load_catalog(s)).remove_relation(
            ids["sup"], RelationKind.SUPERVISES, ObjectType.TEAM, ids["team"]
        )
    with db.tenant_session(ctx) as s:
        assert pdp.view(s, ctx.tenant_id).decide(sup, READ, res) == Deny(DenyReason.NO_RELATION)
    with db.tenant_session(ctx) as s:
        SqlWriter(s, load_catalog(s)).sync_idp_roles(ids["sup"], [])
    with db.tenant_session(ctx) as s:
        view = pdp.view(s, ctx.tenant_id)
    assert view.decide(sup, Permission.USER_READ, TenantResource(ctx.tenant_id)) == Deny(
        DenyReason.NO_ROLE_PERMISSION, "user:read"
    )


def test_another_tenants_state_is_invisible(db: Database) -> None:
    a = make_tenant(db, "a")
    b = make_tenant(db, "b")
    ids = seed(db, a)
    with db.tenant_session(b) as s:
        state = load_tenant(s)
        assert list(state.relations()) == []
        assert state.roles_of(ids["sup"]) == frozenset()
        assert read_version(s) == 0
        assert s.scalars(select(AccessRelation)).all() == []
    with db.tenant_session(a) as s:
        assert read_version(s) > 0
        assert len(s.scalars(select(AccessState)).all()) == 1


def test_decision_for_a_principal_of_another_tenant_is_denied(db: Database) -> None:
    a = make_tenant(db, "a")
    b = make_tenant(db, "b")
    ids = seed(db, a)
    pdp = decision_point(clock=FixedClock())
    with db.tenant_session(a) as s:
        call = s.get(Interaction, ids["call"])
        assert call is not None
        res = interaction_resource(s, call)
        view = pdp.view(s, a.tenant_id)
    intruder = Principal(b.tenant_id, ids["sup"])
    assert view.decide(intruder, READ, res) == Deny(DenyReason.CROSS_TENANT)


def test_idp_sync_refuses_separation_of_duty_and_keeps_manual_roles(db: Database) -> None:
    ctx = make_tenant(db)
    ids = seed(db, ctx)
    with db.tenant_session(ctx) as s:
        writer = SqlWriter(s, load_catalog(s), actor="admin")
        writer.assign_role(ids["agent"], "tenant_admin")
        with pytest.raises(SeparationOfDutyViolation):
            writer.sync_idp_roles(ids["agent"], ["agent", "auditor"])
        writer.sync_idp_roles(ids["agent"], [])
        assert writer.roles_of(ids["agent"]) == {"tenant_admin"}
        with pytest.raises(SeparationOfDutyViolation):
            writer.assign_role(ids["agent"], "auditor")


def test_a_tenant_defines_its_own_roles(db: Database) -> None:
    ctx = make_tenant(db)
    custom = build_catalog(
        [
            *default_catalog().roles.values(),
            RoleDefinition("night_shift", frozenset({READ}), ("agent",)),
        ]
    )
    with db.tenant_session(ctx) as s:
        before = read_version(s)
        save_catalog(s, custom)
        assert read_version(s) > before
    with db.tenant_session(ctx) as s:
        assert "night_shift" in load_catalog(s).roles
    other = make_tenant(db)
    with db.tenant_session(other) as s:
        assert "night_shift" not in load_catalog(s).roles


def test_grants_persist_and_every_unmask_is_in_the_audit_log(db: Database) -> None:
    ctx = make_tenant(db)
    ids = seed(db, ctx)
    clock = FixedClock()
    pdp = decision_point(clock=clock)
    sup = Principal(ctx.tenant_id, ids["sup"], assurance=2)
    with db.tenant_session(ctx) as s:
        view = pdp.view(s, ctx.tenant_id)
        writer = SqlWriter(s, view.state.catalog, clock=clock)
        events = MemorySink()
        svc = GrantService(view.state, writer, SessionAuditSink(s), events, clock=clock)
        grant = svc.request(
            sup,
            [Permission.INTERACTION_UNMASK],
            ids["call"],
            "chargeback dispute, case 9912",
            timedelta(minutes=15),
        )
    # An approver (the agent is not one) in another request: grant a second supervisor.
    with db.tenant_session(ctx) as s:
        approver = User(issuer="https://idp", subject="sup2", display_name="S2", created_at=NOW)
        s.add(approver)
        s.flush()
        SqlWriter(s, load_catalog(s)).sync_idp_roles(approver.id, ["security_officer"])
        approver_id = approver.id
    with db.tenant_session(ctx) as s:
        view = pdp.view(s, ctx.tenant_id)
        svc = GrantService(
            view.state, SqlWriter(s, view.state.catalog), SessionAuditSink(s), events, clock=clock
        )
        svc.approve(Principal(ctx.tenant_id, approver_id, assurance=2), grant.id)
    with db.tenant_session(ctx) as s:
        view = pdp.view(s, ctx.tenant_id)
        call = s.get(Interaction, ids["call"])
        assert call is not None
        svc = GrantService(
            view.state, SqlWriter(s, view.state.catalog), SessionAuditSink(s), events, clock=clock
        )
        allow = svc.unmask(sup, Permission.INTERACTION_UNMASK, interaction_resource(s, call))
        assert allow.grant_id == grant.id
    with db.tenant_session(ctx) as s:
        actions = [r.action for r in s.scalars(select(AuditRecord).order_by(AuditRecord.time))]
    assert actions.count("access.unmask") == 1
    assert "access.grant.request" in actions
    assert "access.grant.approve" in actions
    assert [e[1] for e in events.events] == ["access.unmask"]


def test_last_login_feeds_dormancy_and_campaigns_survive_in_the_database(db: Database) -> None:
    ctx = make_tenant(db)
    ids = seed(db, ctx)
    with db.tenant_session(ctx) as s:
        record_login(s, ids["agent"], NOW - timedelta(days=60))
        record_login(s, ids["sup"], NOW - timedelta(days=1))
        record_login(s, ids["sup"], NOW - timedelta(days=5))  # older: ignored
        state = load_tenant(s)
        campaign = start_campaign(
            state, now=NOW, deadline=NOW + timedelta(days=7), fallback_reviewers=["security-team"]
        )
        save_campaign(s, campaign)
    with db.tenant_session(ctx) as s:
        again = load_campaign(s, campaign.id)
        assert open_campaigns(s) == [campaign.id]
    flags = {(i.user_id, i.entitlement): i.flags for i in again.items}
    assert "dormant" in flags[(ids["agent"], "role:agent")]
    assert "dormant" not in flags[(ids["sup"], "role:supervisor")]
    assert again.deadline == campaign.deadline
    assert {i.id for i in again.items} == {i.id for i in campaign.items}


def test_a_refused_unmask_stays_in_the_audit_log_after_the_rollback(db: Database) -> None:
    from rempart.access import AccessDenied, DatabaseAuditSink

    ctx = make_tenant(db)
    ids = seed(db, ctx)
    clock = FixedClock()
    pdp = decision_point(clock=clock)
    sup = Principal(ctx.tenant_id, ids["sup"], assurance=2)

    def request() -> None:
        with db.tenant_session(ctx) as s:
            view = pdp.view(s, ctx.tenant_id)
            call = s.get(Interaction, ids["call"])
            assert call is not None
            svc = GrantService(
                view.state,
                SqlWriter(s, view.state.catalog),
                DatabaseAuditSink(db, ctx, s),
                MemorySink(),
                clock=clock,
            )
            svc.unmask(sup, Permission.INTERACTION_UNMASK, interaction_resource(s, call))

    with pytest.raises(AccessDenied):
        request()
    with db.tenant_session(ctx) as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.action == "access.unmask")).all()
    assert [(r.outcome, r.reason) for r in rows] == [("failure", "grant_required")]


def test_a_state_seen_in_a_rolled_back_transaction_never_looks_current(db: Database) -> None:
    ctx = make_tenant(db)
    ids = seed(db, ctx)
    pdp = decision_point(clock=FixedClock())
    sup = Principal(ctx.tenant_id, ids["sup"])

    class Abort(Exception):
        pass

    def doomed_request() -> None:
        with db.tenant_session(ctx) as s:
            SqlWriter(s, load_catalog(s)).remove_relation(
                ids["sup"], RelationKind.SUPERVISES, ObjectType.TEAM, ids["team"]
            )
            pdp.view(s, ctx.tenant_id)  # caches a state that will never be committed
            raise Abort

    with pytest.raises(Abort):
        doomed_request()
    with db.tenant_session(ctx) as s:  # one unrelated change commits
        SqlWriter(s, load_catalog(s)).add_relation(
            Relation(ids["agent"], RelationKind.MEMBER, ObjectType.TEAM, ids["team"])
        )
    with db.tenant_session(ctx) as s:
        call = s.get(Interaction, ids["call"])
        assert call is not None
        res = interaction_resource(s, call)
        view = pdp.view(s, ctx.tenant_id)
    assert isinstance(view.decide(sup, READ, res), Allow)


def test_each_tenant_keeps_its_own_policy(db: Database) -> None:
    from rempart.access import policy_from_mapping
    from rempart.access.store import load_policy, save_policy

    a = make_tenant(db, "a")
    b = make_tenant(db, "b")
    ids = seed(db, a)
    pdp = decision_point(clock=FixedClock())
    with db.tenant_session(a) as s:
        save_policy(s, policy_from_mapping({"supervises_window_days": 1}))
    with db.tenant_session(b) as s:
        assert load_policy(s).supervises_window == timedelta(days=90)
    with db.tenant_session(a) as s:
        call = s.get(Interaction, ids["call"])
        assert call is not None
        view = pdp.view(s, a.tenant_id)
        res = interaction_resource(s, call)
    assert view.state.policy.supervises_window == timedelta(days=1)
    sup = Principal(a.tenant_id, ids["sup"])
    later = FixedClock(NOW + timedelta(days=2))
    from rempart.access import decide

    assert decide(view.state, sup, READ, res, now=later()) == Deny(DenyReason.WINDOW_ELAPSED)
