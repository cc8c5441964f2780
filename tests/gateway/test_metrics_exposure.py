"""`/metrics` is not public on the API port in production; it is where docs/production.md says."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.settings import Settings
from services.context import ServiceContext
from services.documents.pool import RenderPool
from tests.gateway.test_production_settings import REAL

TOKEN = "metrics-" + "t" * 32


@pytest.fixture
def app_for(services: ServiceContext, db: str, render_pool: RenderPool) -> Any:
    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
        settings = Settings(database_url=db, **overrides)
        app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield app, http

    return make


async def test_production_does_not_serve_metrics_on_the_api_port(app_for: Any) -> None:
    async with app_for(**REAL) as (_, http):
        response = await http.get("/metrics")

    assert response.status_code == 404
    assert "billing_" not in response.text


async def test_production_serves_metrics_with_the_bearer_token(app_for: Any) -> None:
    async with app_for(**REAL, metrics_token=SecretStr(TOKEN)) as (_, http):
        missing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert "billing_" not in missing.text + wrong.text
    assert right.status_code == 200 and "billing_graphql_request_seconds" in right.text


async def test_outside_production_metrics_stay_open(app_for: Any) -> None:
    async with app_for() as (_, http):
        response = await http.get("/metrics")

    assert response.status_code == 200 and "billing_provider_request_seconds" in response.text


async def test_production_serves_metrics_on_its_own_port(app_for: Any) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    async with app_for(**REAL, metrics_port=port) as (app, http), httpx.AsyncClient() as scraper:
        async with app.router.lifespan_context(app):
            assert (await http.get("/metrics")).status_code == 404
            scraped = await scraper.get(url)
            assert scraped.status_code == 200
            assert "billing_graphql_request_seconds" in scraped.text
        with pytest.raises(httpx.ConnectError):  # stopped with the app
            await scraper.get(url)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
