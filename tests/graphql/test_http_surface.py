"""The HTTP around GraphQL: GraphiQL served locally, GET queries, health and readiness."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from gateway.ide import ASSETS_PREFIX, assets_installed
from gateway.settings import Settings
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import api_key, make_account

HTML = {"Accept": "text/html"}


@pytest.fixture
async def production_client(services: ServiceContext, db: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        Settings(database_url=db, environment="production"), services=services, manage_db=False
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_graphiql_page_for_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers=HTML)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "GraphiQL" in response.text
    assert f"{ASSETS_PREFIX}/graphiql.min.js" in response.text
    assert "unpkg.com" not in response.text
    assert "esm.sh" not in response.text


@pytest.mark.skipif(not assets_installed(), reason="GraphiQL assets not installed (make setup)")
async def test_graphiql_assets_are_served_locally(client: httpx.AsyncClient) -> None:
    for name in ("graphiql.min.js", "graphiql.min.css", "react.production.min.js", "init.js"):
        response = await client.get(f"{ASSETS_PREFIX}/{name}")
        assert response.status_code == 200, name
    assert (await client.get(f"{ASSETS_PREFIX}/../package.json")).status_code == 404


async def test_no_graphiql_in_production(production_client: httpx.AsyncClient) -> None:
    response = await production_client.get("/graphql", headers=HTML)

    assert "GraphiQL" not in response.text


async def test_no_graphiql_assets_in_production(production_client: httpx.AsyncClient) -> None:
    response = await production_client.get(f"{ASSETS_PREFIX}/init.js")

    assert response.status_code == 404


async def test_queries_over_get(client: httpx.AsyncClient, db: str) -> None:
    key = await api_key(await make_account())

    response = await client.get(
        "/graphql",
        params={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": {"role": "ADMIN"}}}


async def test_no_mutations_over_get(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    key = await api_key(account)

    response = await client.get(
        "/graphql",
        params={"query": 'mutation { updateBillingInfo(input: {name: "X"}) { __typename } }'},
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
    )

    assert response.status_code == 405  # GraphQL over HTTP: mutations only over POST
    assert response.headers["allow"] == "POST"
    await account.refresh_from_db()
    assert account.billing_name == "Alice Ltd"


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_provider(
    client: httpx.AsyncClient, provider: RecordingProvider
) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "provider": "ok"}
    assert provider.names() == ["ping"]
