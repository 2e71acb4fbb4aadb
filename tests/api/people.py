"""Signed-in people for API tests: users with roles, relations and a session cookie.

The sessions are made the way a successful login makes them (the login
itself, against the real identity provider, is tested in tests/identity and
tests/e2e); here they let the data-plane tests drive people-facing routes fast
on both database lanes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from rempart.access import ObjectType, Relation, RelationKind
from rempart.access.store import SqlWriter, load_catalog
from rempart.contact.directory import add_queue, add_team
from rempart.identity.assurance import Level
from rempart.identity.idp import get_policy
from rempart.identity.models import User
from rempart.identity.sessions import COOKIE_NAME, create_session
from rempart.storage import Database, TenantContext
from rempart.storage.base import new_id
from rempart.types import Clock, TenantId

ISSUER = "https://idp.example.test"


@dataclass
class Person:
    user_id: str
    subject: str
    cookie: str
    csrf: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE_NAME}={self.cookie}", "X-CSRF-Token": self.csrf}

    @property
    def agent_ref(self) -> dict[str, str]:
        return {"issuer": ISSUER, "subject": self.subject}


def person(
    db: Database,
    ctx: TenantContext,
    clock: Clock,
    name: str,
    roles: list[str],
    *,
    assurance: Level = Level.SINGLE_FACTOR,
    auth_time: datetime | None = None,
) -> Person:
    tenant = TenantId(ctx.tenant_id)
    with db.tenant_session(ctx) as s:
        user = User(
            id=new_id(),
            tenant_id=tenant,
            issuer=ISSUER,
            subject=name,
            display_name=name,
            created_at=clock(),
            active=True,
        )
        s.add(user)
        s.flush()
        writer = SqlWriter(s, load_catalog(s), actor="test", clock=clock)
        for role in roles:
            writer.assign_role(user.id, role)
        return _signed_in(s, tenant, user, clock, assurance, auth_time)


def sign_in_again(
    db: Database,
    ctx: TenantContext,
    clock: Clock,
    who: Person,
    *,
    assurance: Level = Level.SINGLE_FACTOR,
) -> Person:
    """A new session for someone whose session expired (a later shift)."""
    with db.tenant_session(ctx) as s:
        user = s.get(User, who.user_id)
        assert user is not None
        return _signed_in(s, TenantId(ctx.tenant_id), user, clock, assurance, None)


def _signed_in(
    s: Session,
    tenant: TenantId,
    user: User,
    clock: Clock,
    assurance: Level,
    auth_time: datetime | None,
) -> Person:
    issued = create_session(
        s,
        tenant,
        user=user,
        issuer=ISSUER,
        idp_sid=None,
        assurance=assurance,
        acr=None,
        amr=("pwd",) if assurance < Level.MULTI_FACTOR else ("pwd", "otp"),
        auth_time=auth_time or clock(),
        policy=get_policy(s, tenant, clock=clock),
        source_ip=None,
        user_agent=None,
        clock=clock,
    )
    return Person(user.id, user.subject, issued.cookie_value, issued.csrf_token)


def team_with_queue(db: Database, ctx: TenantContext, team: str, queue: str) -> str:
    """A team owning a queue (by name, declared if new); returns the team id."""
    with db.tenant_session(ctx) as s:
        row = add_team(s, team)
        add_queue(s, queue, team=team)
        return row.id


def relate(
    db: Database,
    ctx: TenantContext,
    clock: Clock,
    who: Person,
    kind: RelationKind,
    object_type: ObjectType,
    object_id: str,
) -> None:
    with db.tenant_session(ctx) as s:
        writer = SqlWriter(s, load_catalog(s), actor="test", clock=clock)
        writer.add_relation(Relation(who.user_id, kind, object_type, object_id))


__all__ = ["ISSUER", "Person", "person", "relate", "sign_in_again", "team_with_queue"]
