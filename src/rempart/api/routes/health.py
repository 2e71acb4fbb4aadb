"""Liveness and readiness probes (no authentication, no tenant data)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from rempart.api.deps import Ctx
from rempart.api.problems import problem_response
from rempart.storage.migrate import is_up_to_date

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers and its schema is current")
def readyz(request: Request, ctx: Ctx) -> JSONResponse:
    try:
        ready = ctx.db.ping() and is_up_to_date(ctx.db.engine)
    except SQLAlchemyError:
        ready = False
    if not ready:
        return problem_response(
            request,
            503,
            "not-ready",
            "Not ready",
            "the database is unreachable or its schema is not current",
        )
    return JSONResponse({"status": "ready"})
