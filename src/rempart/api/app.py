"""The FastAPI application factory: routers under /api/v1, problem+json errors, middleware."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

import rempart
from rempart.api.context import AppContext
from rempart.api.idempotency import IdempotencyMiddleware
from rempart.api.middleware import RequestContextMiddleware
from rempart.api.problems import (
    database_unavailable_handler,
    http_error_handler,
    rempart_error_handler,
    unhandled_error_handler,
    validation_error_handler,
)
from rempart.api.routes import (
    audit,
    auth,
    chat,
    health,
    ingest,
    interactions,
    payments,
    privacy,
    recordings,
    scim,
    workspace,
)
from rempart.errors import RempartError

API_PREFIX = "/api/v1"


def create_app(ctx: AppContext) -> FastAPI:
    """Build the application around an already-migrated database."""
    docs = ctx.settings.api_docs_enabled
    app = FastAPI(
        title="Rempart",
        version=rempart.__version__,
        summary="Security and risk management for contact centers",
        openapi_url=f"{API_PREFIX}/openapi.json" if docs else None,
        docs_url=f"{API_PREFIX}/docs" if docs else None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(interactions.router)
    api.include_router(ingest.router)
    api.include_router(chat.router)
    api.include_router(audit.router)
    api.include_router(payments.router)
    api.include_router(recordings.router)
    api.include_router(workspace.router)
    api.include_router(privacy.router)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(scim.router)
    app.include_router(api)

    app.add_exception_handler(RempartError, rempart_error_handler)
    app.add_exception_handler(auth.StepUpRequired, auth.step_up_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(OperationalError, database_unavailable_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)

    # Inside the body limit: keyed retries of bearer-token ingestion get the first answer.
    app.add_middleware(IdempotencyMiddleware, paths=ingest.IDEMPOTENT_PATHS)
    # Added last = outermost: the request id exists before anything else runs.
    # Recording uploads are limited by their route (max_recording_bytes), streamed.
    app.add_middleware(recordings.BodyLimitExceptMedia, max_bytes=ctx.settings.max_request_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app


__all__ = ["API_PREFIX", "create_app"]
