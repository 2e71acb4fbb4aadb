"""``Idempotency-Key`` on the ingestion POSTs: the first answer is kept, retries get it back.

Bearer-token routes (push, batch) go through ``IdempotencyMiddleware``: for a
POST to one of its paths carrying the header, it authenticates the token (the
tenant names the key space), reserves the key, lets the route run, and keeps
the answer; a retry with the same body gets the kept answer with
``Idempotent-Replayed: true``. A request it cannot authenticate, or whose
token lacks the path's scope, passes through untouched and is refused by the
route as usual. The signed-webhook route, which learns its tenant from the
signature, calls ``open_key`` / ``close_key`` itself once the signature holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rempart.api.context import AppContext
from rempart.api.deps import client_ip
from rempart.api.problems import database_unavailable_handler, problem_response
from rempart.errors import RempartError
from rempart.identity.scopes import Scope as TokenScope
from rempart.identity.tokens import MachinePrincipal, authenticate
from rempart.ingest import idempotency
from rempart.ingest.config import DEFAULT_CONFIG, IngestConfig
from rempart.ingest.errors import VaultUnavailable
from rempart.ingest.idempotency import Reserved, StoredResponse
from rempart.logs import get_logger
from rempart.storage import TenantContext
from rempart.types import TenantId

log = get_logger("rempart.api")


def ingest_config(state: Any) -> IngestConfig:
    """The app's ingestion settings (``app.state.ingest``), or the defaults."""
    config = getattr(state, "ingest", None)
    return config if isinstance(config, IngestConfig) else DEFAULT_CONFIG


def open_key(
    ctx: AppContext, config: IngestConfig, tenant: TenantId, key: str, request_sha256: str
) -> Reserved | StoredResponse:
    """Reserve the key (committed at once) or get the answer kept for it."""
    if ctx.vault is None:
        raise VaultUnavailable("no vault is configured: idempotent answers cannot be kept")
    with ctx.db.tenant_session(TenantContext(tenant)) as session:
        return idempotency.begin(
            session,
            ctx.vault,
            key=key,
            request_sha256=request_sha256,
            now=ctx.clock(),
            ttl=config.idempotency_ttl,
            lease=config.idempotency_lease,
        )


def close_key(ctx: AppContext, reserved: Reserved, response: StoredResponse) -> None:
    """Keep the answer for the retries, or free the key when the answer is not to be kept."""
    with ctx.db.tenant_session(TenantContext(reserved.tenant_id)) as session:
        if idempotency.keeps(response.status) and ctx.vault is not None:
            idempotency.complete(session, ctx.vault, reserved, response, now=ctx.clock())
        else:
            idempotency.release(session, reserved)


def release_key(ctx: AppContext, reserved: Reserved) -> None:
    with ctx.db.tenant_session(TenantContext(reserved.tenant_id)) as session:
        idempotency.release(session, reserved)


def replayed(stored: StoredResponse) -> Response:
    headers = {**stored.headers, idempotency.REPLAYED_HEADER: "true"}
    return Response(content=stored.body, status_code=stored.status, headers=headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client left (or the body limit cut it)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay_receive(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class IdempotencyMiddleware:
    """Idempotency keys for bearer-token POST routes: ``paths`` maps each path to its scope."""

    def __init__(self, app: ASGIApp, paths: Mapping[str, TokenScope]) -> None:
        self.app = app
        self.paths = dict(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        required = self.paths.get(scope.get("path", ""))
        if key is None or required is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client left, or the body limit already answered 413
        downstream = _replay_receive(body)
        ctx: AppContext = scope["app"].state.ctx
        config = ingest_config(scope["app"].state)
        request = Request(scope, downstream)
        try:
            idempotency.check_key(key)
            principal = await run_in_threadpool(self._principal, ctx, scope, required)
            if principal is None:
                await self.app(scope, downstream, send)
                return
            sha = idempotency.fingerprint("POST", scope["path"], body)
            outcome = await run_in_threadpool(
                open_key, ctx, config, TenantId(principal.tenant_id), key, sha
            )
        except RempartError as exc:
            problem = problem_response(
                request, exc.status, exc.slug, exc.title, exc.detail, **exc.extensions
            )
            await problem(scope, downstream, send)
            return
        except OperationalError as exc:
            await (await database_unavailable_handler(request, exc))(scope, downstream, send)
            return
        if isinstance(outcome, StoredResponse):
            await replayed(outcome)(scope, downstream, send)
            return
        await self._run_and_keep(scope, downstream, send, ctx, outcome)

    @staticmethod
    def _principal(ctx: AppContext, scope: Scope, required: TokenScope) -> MachinePrincipal | None:
        header = _header(scope, b"authorization") or ""
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            return None
        try:
            principal = authenticate(
                ctx.db,
                token.strip(),
                clock=ctx.clock,
                source_ip=client_ip(Request(scope), ctx),
                check_network=True,
            )
        except RempartError:
            return None  # the route refuses it, with its own audit record
        return principal if required in principal.scopes else None

    async def _run_and_keep(
        self, scope: Scope, receive: Receive, send: Send, ctx: AppContext, reserved: Reserved
    ) -> None:
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await run_in_threadpool(release_key, ctx, reserved)
            raise
        body = b"".join(chunks)
        kept = StoredResponse(
            status, {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}, body
        )
        try:
            await run_in_threadpool(close_key, ctx, reserved, kept)
        except Exception as exc:  # noqa: BLE001 - the answer stands; the lease frees the key
            log.warning("idempotent answer not kept", error_type=type(exc).__name__)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


__all__ = [
    "IdempotencyMiddleware",
    "close_key",
    "ingest_config",
    "open_key",
    "release_key",
    "replayed",
]
