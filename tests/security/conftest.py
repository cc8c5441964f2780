"""Fixtures for the security tests: apps with chosen settings, a JWKS served on
loopback, and the gateway itself as a real server on a loopback port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from services.context import ServiceContext
from services.documents.pool import RenderPool

ROOT = Path(__file__).resolve().parents[2]

AppClient = Callable[..., Any]


@pytest.fixture
def app_client(services: ServiceContext, db: str, render_pool: RenderPool) -> AppClient:
    """`async with app_client(max_query_depth=3) as http:` an app with those settings."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = Settings(database_url=db, **overrides)
        app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    return make


class JWKSServer:
    """Serves a JWKS document on loopback; tests swap the keys and count fetches."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.fetches += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    try:
        yield server
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def loopback_gateway() -> Iterator[str]:
    """The gateway served by uvicorn in its own process on a loopback port, with its own
    SQLite database (development settings); yields the GraphQL URL."""
    with tempfile.TemporaryDirectory(prefix="billing-loopback-") as tmp:
        env = {
            **os.environ,
            "BILLING_DATABASE_URL": f"sqlite://{Path(tmp) / 'gateway.sqlite3'}",
            "BILLING_ENVIRONMENT": "development",
            "BILLING_DOCUMENT_RENDER_WORKERS": "1",
            "BILLING_LOG_LEVEL": "WARNING",
        }
        env.pop("BILLING_REDIS_URL", None)
        subprocess.run(
            [sys.executable, "-m", "gateway.cli", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        port = free_port()
        process = subprocess.Popen(  # noqa: S603 - our own server, fixed argv
            [
                sys.executable,
                "-m",
                "uvicorn",
                "gateway.asgi:app_factory",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    err = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"the loopback gateway did not start: {err[-2000:]}")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/graphql"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
