"""RFC 9457 problem details: every error leaves the API as ``application/problem+json``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from rempart.errors import RempartError
from rempart.logs import get_logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:rempart:problem:"

log = get_logger("rempart.api")


class Problem(BaseModel):
    """The problem document (RFC 9457), as published in the OpenAPI document."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": f"urn:rempart:request:{request_id}" if request_id else None,
        "request_id": request_id,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


async def rempart_error_handler(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RempartError):  # pragma: no cover - registration guarantees it
        raise exc
    headers = {"WWW-Authenticate": 'Bearer realm="rempart"'} if exc.status == 401 else None
    log.info(
        "request refused",
        request_id=getattr(request.state, "request_id", None),
        status=exc.status,
        problem=exc.slug,
    )
    return problem_response(
        request, exc.status, exc.slug, exc.title, exc.detail, headers=headers, **exc.extensions
    )


def _safe_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the offending input back: it may hold personal data or secrets.
    return [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()[:50]
    ]


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    errors = _safe_errors(exc)
    if any(e["type"] == "json_invalid" for e in errors):
        log.info("malformed json", request_id=getattr(request.state, "request_id", None))
        return problem_response(
            request,
            400,
            "malformed-json",
            "Malformed JSON",
            "the request body is not valid JSON",
        )
    log.info(
        "validation failed",
        request_id=getattr(request.state, "request_id", None),
        errors=[{"loc": e["loc"], "type": e["type"]} for e in errors],
    )
    return problem_response(
        request,
        422,
        "validation-failed",
        "Validation failed",
        f"{len(errors)} problem(s) in the request",
        errors=errors,
    )


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    slugs = {404: "not-found", 405: "method-not-allowed"}
    slug = slugs.get(exc.status_code, f"http-{exc.status_code}")
    title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem_response(
        request, exc.status_code, slug, title, detail, headers=dict(exc.headers or {})
    )


async def database_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    """The database is down, busy or locked: a retryable 503, not a 500."""
    log.warning(
        "database unavailable",
        request_id=getattr(request.state, "request_id", None),
        error_type=type(exc).__name__,
    )
    return problem_response(
        request,
        503,
        "database-unavailable",
        "Service unavailable",
        "the database is unavailable or busy; retry later",
        headers={"Retry-After": "1"},
    )


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "unhandled error",
        request_id=getattr(request.state, "request_id", None),
        error_type=type(exc).__name__,
    )
    return problem_response(
        request,
        500,
        "internal-error",
        "Internal error",
        "the server could not complete the request",
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_MEDIA_TYPE: {}}, "description": desc}
    for code, desc in {
        400: "Malformed request",
        401: "Missing, invalid, expired or revoked token",
        403: "Token lacks the scope",
        404: "Not found (including another tenant's resource)",
        413: "Body too large",
        415: "Body is not JSON",
        422: "Body does not match the schema",
    }.items()
}

__all__ = [
    "ERROR_RESPONSES",
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "database_unavailable_handler",
    "http_error_handler",
    "problem_response",
    "rempart_error_handler",
    "unhandled_error_handler",
    "validation_error_handler",
]
