"""The tenant's contact-center directory: teams and the queues they own.

Need-to-know follows it (a supervisor sees the calls of their teams' queues),
so a queue is declared before interactions name it; ingest refuses an unknown
queue unless the tenant's policy lets it create queues on the fly.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.contact.models import Queue, Team
from rempart.errors import NotFound, ValidationFailed
from rempart.storage.base import new_id
from rempart.storage.tenancy import session_tenant

MAX_NAME = 200


def _name(value: str, what: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME or "\x00" in name:
        raise ValidationFailed(f"a {what} name has 1 to {MAX_NAME} characters")
    return name


def _tenant(session: Session) -> str:
    tenant = session_tenant(session)
    if tenant is None:
        raise ValidationFailed("no tenant in context")
    return tenant


def add_team(session: Session, name: str) -> Team:
    """The team called ``name``, created if absent."""
    name = _name(name, "team")
    found = session.scalar(select(Team).where(Team.name == name))
    if found is not None:
        return found
    team = Team(id=new_id(), tenant_id=_tenant(session), name=name)
    session.add(team)
    session.flush()
    return team


def add_queue(session: Session, name: str, *, team: str | None = None) -> Queue:
    """The queue called ``name``, created if absent, owned by ``team`` when given."""
    name = _name(name, "queue")
    team_id = None
    if team is not None:
        owner = session.scalar(select(Team).where(Team.name == _name(team, "team")))
        if owner is None:
            raise NotFound(f"no team called {team!r}")
        team_id = owner.id
    queue = session.scalar(select(Queue).where(Queue.name == name))
    if queue is None:
        queue = Queue(id=new_id(), tenant_id=_tenant(session), name=name, team_id=team_id)
        session.add(queue)
    elif team is not None:
        queue.team_id = team_id
    session.flush()
    return queue


def list_queues(session: Session) -> list[tuple[str, str | None]]:
    """(queue, team) names of the tenant, by queue name."""
    rows = session.execute(
        select(Queue.name, Team.name).outerjoin(Team, Team.id == Queue.team_id).order_by(Queue.name)
    )
    return [(q, t) for q, t in rows]


__all__ = ["MAX_NAME", "add_queue", "add_team", "list_queues"]
