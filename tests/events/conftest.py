"""A real gateway (uvicorn in the test's event loop, sharing the test database) for the
subscription transports, and small SSE and WebSocket clients as a partner would write."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.routing import WebSocketRoute

from gateway.app import create_app
from gateway.settings import Settings
from gateway.subscriptions import EventTransports
from services.context import ServiceContext
from services.documents.pool import RenderPool
from services.events import fanout


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Gateway:
    base_url: str
    transports: EventTransports

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"


@pytest.fixture
async def gateway(
    services: ServiceContext, db: str, render_pool: RenderPool
) -> AsyncIterator[Gateway]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(
        Settings(database_url=db, public_url=base_url),
        services=services,
        manage_db=False,
        renderer=render_pool,
    )
    (route,) = [r for r in app.routes if isinstance(r, WebSocketRoute)]
    transports: EventTransports = route.endpoint.__self__  # type: ignore[attr-defined]
    transports.recheck_s = 0.3
    transports.credentials.recheck_s = 0.3
    transports.keepalive_s = 1.0
    server = _InLoopServer(
        uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            ws="websockets-sansio",
            timeout_graceful_shutdown=1,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.025)
    if task.done():
        task.result()
    assert server.started
    try:
        yield Gateway(base_url=base_url, transports=transports)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


SUBSCRIPTION = """subscription($a: ID, $after: String, $types: [BillingEventType!]) {
  billingEvents(accountId: $a, after: $after, types: $types) {
    id cursor type account { id } invoice { id status } paymentMethod { id }
  }
}"""


async def streams_open(count: int) -> None:
    """Wait until this process's fanout holds `count` streams."""
    for _ in range(200):
        if fanout.current().stream_count >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{fanout.current().stream_count} streams open, not {count}")


class SSEStream:
    """One GraphQL-over-SSE subscription: `await next_message()` is the next `next` payload,
    or {"complete": True} at the end."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next_message(self, within: float = 5.0) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            event = None
            async for line in self._lines:
                if line.startswith("event:"):
                    event = line.partition(":")[2].strip()
                elif line.startswith("data:") and event == "next":
                    payload: dict[str, Any] = json.loads(line.partition(":")[2])
                    return payload
                elif line.startswith("data:") and event == "complete":
                    return {"complete": True}
            return {"complete": True}

        return await asyncio.wait_for(read(), within)


@contextlib.asynccontextmanager
async def sse(
    gateway: Gateway, key: str, variables: dict[str, Any] | None = None, *, live: bool = True
) -> AsyncIterator[SSEStream]:
    before = fanout.current().stream_count
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        async with http.stream(
            "POST",
            "/graphql",
            json={"query": SUBSCRIPTION, "variables": variables or {}},
            headers={"Accept": "text/event-stream", "Authorization": f"Bearer {key}"},
        ) as response:
            assert response.status_code == 200, await response.aread()
            stream = SSEStream(response)
            first = await asyncio.wait_for(stream._lines.__anext__(), 5)
            assert first.startswith(":"), first  # the server's opening comment
            if live:
                await streams_open(before + 1)  # registered with the fanout: live from here
            yield stream
