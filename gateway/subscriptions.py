"""GraphQL subscriptions on /graphql: graphql-transport-ws (WebSocket) and GraphQL over SSE.

- WebSocket (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md): the
  credential is the `connection_init` payload's `Authorization` (browsers cannot set
  headers on a WebSocket); no valid one closes the socket 4403. The server pings every
  `KEEPALIVE_S`.
- SSE (https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md, distinct
  connections mode): POST (or GET) /graphql with `Accept: text/event-stream` and an
  `Authorization` header; `event: next` per result, `event: complete` at the end, a
  comment line every `KEEPALIVE_S` so proxies keep the connection open.

Both re-check the credential every `RECHECK_S`: a revoked key or an expired token ends
the stream within seconds (WebSocket: close 4403; SSE: a final `next` carrying an
UNAUTHENTICATED error, then `complete`). The check result is cached per credential for
that interval, so a thousand streams of one key cost one lookup per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.types.execution import ExecutionResult

from resolvers.context import Context
from schema.limits import document_error, operation_choice_error
from services.auth import Principal
from services.errors import Unauthenticated

#: gateway.graphql_http.GraphQLEndpoint (not imported: it imports this module).
GraphQLEndpoint = Any

PROTOCOL = "graphql-transport-ws"
KEEPALIVE_S = 15.0
RECHECK_S = 5.0
INIT_TIMEOUT_S = 10.0
MAX_OPERATIONS_PER_SOCKET = 20
EVENT_STREAM = "text/event-stream"


def wants_event_stream(request: Request) -> bool:
    return EVENT_STREAM in request.headers.get("accept", "")


class CredentialCheck:
    """Re-authenticates a credential at most once per RECHECK_S, shared by its streams."""

    def __init__(self, recheck_s: float = RECHECK_S) -> None:
        self.recheck_s = recheck_s
        self._seen: dict[str, tuple[float, Principal | None]] = {}

    async def still_valid(self, endpoint: GraphQLEndpoint, header: str, clock: Any) -> bool:
        key = hashlib.sha256(header.encode()).hexdigest()
        now = time.monotonic()
        cached = self._seen.get(key)
        if cached is not None and now - cached[0] < self.recheck_s:
            return cached[1] is not None
        try:
            principal: Principal | None = await endpoint.security.authenticator(clock).authenticate(
                header
            )
        except Unauthenticated:
            principal = None
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[key] = (now, principal)
        return principal is not None


async def pump(
    results: AsyncGenerator[ExecutionResult, None],
    send: Callable[[ExecutionResult], Awaitable[None]],
    idle: Callable[[], Awaitable[bool]],
    idle_s: float,
) -> None:
    """Send each result; call `idle` whenever `idle_s` passes without one, and stop when it
    answers False. The generator is closed in every case (its stream unregistered)."""
    pending: asyncio.Task[ExecutionResult] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(results.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=idle_s)
            if pending in done:
                task, pending = pending, None
                try:
                    result = task.result()
                except StopAsyncIteration:
                    return
                await send(result)
            elif not await idle():
                return
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        with contextlib.suppress(Exception):
            await results.aclose()


def _payload(result: ExecutionResult) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    return body


def _unauthenticated() -> dict[str, Any]:
    error = GraphQLError(
        "The credential was revoked or expired: the stream ended.",
        extensions={"code": "UNAUTHENTICATED"},
    )
    return {"data": None, "errors": [error.formatted]}


class EventTransports:
    """The WebSocket and SSE sides of one GraphQLEndpoint."""

    def __init__(
        self,
        endpoint: GraphQLEndpoint,
        *,
        recheck_s: float = RECHECK_S,
        keepalive_s: float = KEEPALIVE_S,
    ) -> None:
        self.endpoint = endpoint
        self.recheck_s = recheck_s
        self.keepalive_s = keepalive_s
        self.credentials = CredentialCheck(recheck_s)
        self.closing = asyncio.Event()
        self.open_streams = 0

    async def close(self, wait_s: float = 2.0) -> None:
        """End every stream cleanly (SSE: `complete`; WebSocket: close 1001) before the
        server stops, instead of cutting them off mid-response."""
        self.closing.set()
        deadline = time.monotonic() + wait_s
        while self.open_streams and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)

    async def _subscribe(
        self, context: Context, params: dict[str, Any]
    ) -> AsyncGenerator[ExecutionResult, None] | ExecutionResult:
        query = params.get("query")
        if not isinstance(query, str) or not query:
            return ExecutionResult(data=None, errors=[GraphQLError("The request has no query.")])
        variables = params.get("variables")
        operation = params.get("operationName")
        name = operation if isinstance(operation, str) else None
        # A parse error raised inside the stream's generator would end it with no error.
        policy = context.request_policy
        refused = (
            self.endpoint.trusted.refusal(context.principal, query)
            or document_error(query, policy)
            or operation_choice_error(query, name, policy)
        )
        if refused is not None:
            return ExecutionResult(data=None, errors=[refused])
        return await self.endpoint.schema.subscribe(
            query,
            variable_values=variables if isinstance(variables, dict) else None,
            context_value=context,
            operation_name=name,
        )

    # --- SSE ---------------------------------------------------------------------------

    async def sse(self, request: Request, body: bytes | None = None) -> Response:
        """`body`: a POST's body, read by the endpoint within its size limit."""
        if request.method == "POST":
            try:
                params = orjson.loads(body if body is not None else await request.body())
            except orjson.JSONDecodeError:
                return Response("The body is not valid JSON.", status_code=400)
        else:
            params = dict(request.query_params)
            if "variables" in params:
                with contextlib.suppress(orjson.JSONDecodeError):
                    params["variables"] = orjson.loads(params["variables"])
        if not isinstance(params, dict):
            return Response("Send one operation as a JSON object.", status_code=400)
        request.state.request_id = getattr(request.state, "request_id", "") or ""
        security = self.endpoint.security
        if not request.headers.get("authorization"):  # as for any anonymous request
            address = request.client.host if request.client else "unknown"
            await self.endpoint._limit(f"addr:{address}", security.rate_limit_per_address, 1)
        context = await self.endpoint.get_context(request)  # counts a wrong credential
        if context.principal is None:
            body = {"errors": [{"message": "Send an API key: Authorization: Bearer <key>."}]}
            return Response(orjson.dumps(body), 401, media_type="application/json")
        await self.endpoint._limit(context.principal.caller, security.rate_limit_per_key, 1)
        header = request.headers.get("authorization", "")
        clock = request.app.state.services.clock
        results = await self._subscribe(context, params)
        return StreamingResponse(
            self._sse_events(results, header, clock),
            media_type=EVENT_STREAM,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _sse_events(
        self,
        results: AsyncGenerator[ExecutionResult, None] | ExecutionResult,
        header: str,
        clock: Any,
    ) -> AsyncIterator[bytes]:
        yield b": connected\n\n"
        if isinstance(results, ExecutionResult):
            yield b"event: next\ndata: " + orjson.dumps(_payload(results)) + b"\n\n"
            yield b"event: complete\ndata:\n\n"
            return
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        last_check = time.monotonic()

        async def send(result: ExecutionResult) -> None:
            await queue.put(b"event: next\ndata: " + orjson.dumps(_payload(result)) + b"\n\n")

        async def idle() -> bool:
            nonlocal last_check
            if time.monotonic() - last_check >= self.recheck_s:
                last_check = time.monotonic()
                if not await self.credentials.still_valid(self.endpoint, header, clock):
                    await queue.put(
                        b"event: next\ndata: " + orjson.dumps(_unauthenticated()) + b"\n\n"
                    )
                    return False
            await queue.put(b": keep-alive\n\n")
            return True

        async def run() -> None:
            pumping = asyncio.ensure_future(
                pump(results, send, idle, min(self.keepalive_s, self.recheck_s))
            )
            closing = asyncio.ensure_future(self.closing.wait())
            try:
                await asyncio.wait({pumping, closing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (pumping, closing):
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
                await queue.put(None)

        task = asyncio.ensure_future(run())
        self.open_streams += 1
        try:
            while (chunk := await queue.get()) is not None:
                yield chunk
            yield b"event: complete\ndata:\n\n"
        finally:
            self.open_streams -= 1
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    # --- WebSocket ---------------------------------------------------------------------

    async def websocket(self, ws: WebSocket) -> None:
        offered = [p.strip() for p in ws.headers.get("sec-websocket-protocol", "").split(",")]
        if PROTOCOL not in offered:
            await ws.close(4406, "Subprotocol not acceptable")
            return
        await ws.accept(subprotocol=PROTOCOL)
        self.open_streams += 1
        try:
            await self._session(ws)
        except WebSocketDisconnect:
            pass
        finally:
            self.open_streams -= 1

    async def _session(self, ws: WebSocket) -> None:
        try:
            async with asyncio.timeout(INIT_TIMEOUT_S):
                first = await ws.receive_json()
        except TimeoutError:
            await ws.close(4408, "Connection initialisation timeout")
            return
        if not isinstance(first, dict) or first.get("type") != "connection_init":
            await ws.close(4400, "Expected connection_init")
            return
        payload = first.get("payload") or {}
        header = str(payload.get("Authorization") or payload.get("authorization") or "")
        clock = ws.app.state.services.clock
        try:
            principal = await self.endpoint.security.authenticator(clock).authenticate(header)
        except Unauthenticated:
            await ws.close(4403, "Forbidden")
            return
        context = Context(
            services=ws.app.state.services,
            principal=principal,
            request_id="ws",
            documents=getattr(ws.app.state, "documents", None),
            request_policy=self.endpoint.request_policy(principal),
        )
        await ws.send_json({"type": "connection_ack"})
        operations: dict[str, asyncio.Task[None]] = {}
        send_lock = asyncio.Lock()

        async def send(message: dict[str, Any]) -> None:
            async with send_lock:
                await ws.send_json(message)

        watchdog = asyncio.ensure_future(self._watch(ws, header, clock, send))
        try:
            while True:
                message = await ws.receive_json()
                kind = message.get("type") if isinstance(message, dict) else None
                if kind == "ping":
                    await send({"type": "pong"})
                elif kind == "subscribe":
                    op_id = str(message.get("id") or "")
                    if not op_id:
                        await ws.close(4400, "Subscribe needs an id")
                        return
                    if op_id in operations and not operations[op_id].done():
                        await ws.close(4409, f"Subscriber for {op_id} already exists")
                        return
                    if sum(not t.done() for t in operations.values()) >= (
                        MAX_OPERATIONS_PER_SOCKET
                    ):
                        await send(
                            {
                                "type": "error",
                                "id": op_id,
                                "payload": [{"message": "Too many operations on this socket."}],
                            }
                        )
                        continue
                    params = message.get("payload") or {}
                    operations[op_id] = asyncio.ensure_future(
                        self._operation(context, op_id, params, send)
                    )
                elif kind == "complete":
                    task = operations.pop(str(message.get("id") or ""), None)
                    if task is not None:
                        task.cancel()
                elif kind != "pong":
                    await ws.close(4400, "Unknown message type")
                    return
        finally:
            watchdog.cancel()
            for task in operations.values():
                task.cancel()
            await asyncio.gather(watchdog, *operations.values(), return_exceptions=True)

    async def _operation(
        self,
        context: Context,
        op_id: str,
        params: dict[str, Any],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        results = await self._subscribe(context, params)
        if isinstance(results, ExecutionResult):
            errors = [e.formatted for e in results.errors or []]
            await send({"type": "error", "id": op_id, "payload": errors})
            return

        async def forward(result: ExecutionResult) -> None:
            await send({"type": "next", "id": op_id, "payload": _payload(result)})

        async def idle() -> bool:
            return True

        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await pump(results, forward, idle, self.keepalive_s)
            await send({"type": "complete", "id": op_id})

    async def _watch(
        self,
        ws: WebSocket,
        header: str,
        clock: Any,
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """Keep-alive pings, and the credential re-check that ends the connection."""
        since_ping = 0.0
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that lands as its inner wait finishes (CPython gh-86296), and
            # this watcher would outlive its connection.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.recheck_s):
                    await self.closing.wait()
            if self.closing.is_set():
                await ws.close(1001, "The server is stopping: subscribe again")
                return
            if not await self.credentials.still_valid(self.endpoint, header, clock):
                await ws.close(4403, "Forbidden: the credential was revoked or expired")
                return
            since_ping += self.recheck_s
            if since_ping >= self.keepalive_s:
                since_ping = 0.0
                with contextlib.suppress(Exception):
                    await send({"type": "ping"})
