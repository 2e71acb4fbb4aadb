"""Audit one request's unit of work: the route names the act, the request gives the origin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy.orm import Session

from rempart.api.context import AppContext
from rempart.api.deps import origin_of, tenant_of
from rempart.audit import AuditNote, audited
from rempart.identity.tokens import MachinePrincipal


@contextmanager
def audited_request(
    request: Request,
    ctx: AppContext,
    principal: MachinePrincipal,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
) -> Iterator[tuple[Session, AuditNote]]:
    """A tenant session for the caller's tenant whose outcome is audited (see ``audited``)."""
    with audited(
        ctx.db,
        tenant_of(principal),
        origin_of(request, ctx, principal),
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        clock=ctx.clock,
    ) as unit:
        yield unit


__all__ = ["audited_request"]
