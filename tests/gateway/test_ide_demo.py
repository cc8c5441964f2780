"""GraphiQL in demo mode starts ready (the Headers tab holds the plus@demo.test admin key,
three tabs hold the billing page, paying an invoice and a partner's page), and nowhere
else does the page carry a key: not in development, not in production."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from gateway.app import create_app
from gateway.ide import ASSETS_PREFIX
from gateway.settings import Settings
from models import ApiKeyRole, InvoiceStatus
from resolvers.ids import to_global_id
from schema import schema
from services.auth import create_partner_key
from services.context import ServiceContext
from services.documents.pool import RenderPool
from tests.conftest import NOW
from tests.factories import api_key, make_account, make_invoice

HTML = {"Accept": "text/html"}
Page = Callable[..., Awaitable[str]]


@pytest.fixture
async def ide_page(
    services: ServiceContext, db: str, render_pool: RenderPool
) -> AsyncIterator[Page]:
    """`await ide_page(environment=..., credentials=...)`: the HTML a browser gets."""
    clients: list[httpx.AsyncClient] = []

    async def get(*, environment: str, credentials: Any = None, **settings: Any) -> str:
        app = create_app(
            Settings(database_url=db, environment=environment, **settings),
            services=services,
            manage_db=False,
            renderer=render_pool,
        )
        if credentials is not None:
            app.state.demo_credentials = credentials
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        clients.append(http)
        response = await http.get("/graphql", headers=HTML)
        assert response.status_code == 200, response.text
        return response.text

    yield get
    for http in clients:
        await http.aclose()


async def _demo_credentials() -> tuple[dict[str, Any], str]:
    """The demo's plus account with an open invoice, and keys shaped like the demo's file."""
    plus = await make_account("plus@demo.test", name="Plus Demo Inc.")
    other = await make_account("free@demo.test", name="Free Demo")
    invoice = await make_invoice(plus, status=InvoiceStatus.OPEN)
    credentials = {
        "accounts": {
            "plus@demo.test": {
                "admin": await api_key(plus),
                "viewer": await api_key(plus, ApiKeyRole.VIEWER),
            }
        },
        "partner": await create_partner_key(account_emails=[plus.email, other.email], now=NOW),
    }
    return credentials, to_global_id("Invoice", invoice.id)


def _data_attribute(page: str, name: str) -> str | None:
    found = re.search(rf'data-{name}="([^"]*)"', page)
    return None if found is None else html.unescape(found.group(1))


async def test_demo_page_starts_with_the_admin_key_and_three_tabs(ide_page: Page) -> None:
    # given the demo's keys on the app, as the demo server puts them
    credentials, invoice_id = await _demo_credentials()
    admin = credentials["accounts"]["plus@demo.test"]["admin"]

    # when a browser opens GraphiQL
    page = await ide_page(environment="demo", credentials=credentials)

    # then the Headers tab holds the admin key
    headers = _data_attribute(page, "default-headers")
    assert headers is not None and json.loads(headers) == {"Authorization": f"Bearer {admin}"}
    # and three tabs: the billing page, paying the open invoice, a partner's page
    raw_tabs = _data_attribute(page, "default-tabs")
    assert raw_tabs is not None
    tabs = json.loads(raw_tabs)
    first_operations = [re.findall(r"(?:query|mutation) (\w+)", t["query"])[0] for t in tabs]
    assert first_operations == ["BillingPage", "PayInvoice", "PartnerPage"]
    assert [json.loads(t["headers"])["Authorization"] for t in tabs] == [
        f"Bearer {admin}",
        f"Bearer {admin}",
        f"Bearer {credentials['partner']}",
    ]
    assert json.loads(tabs[1]["variables"]) == {"input": {"invoiceId": invoice_id}}
    # and every tab's document is valid against the schema
    for tab in tabs:
        assert not validate(schema._schema, parse(tab["query"])), tab["query"]


async def test_demo_tabs_answer_without_errors(ide_page: Page, client: httpx.AsyncClient) -> None:
    # given the demo page's tabs
    credentials, _ = await _demo_credentials()
    tabs = json.loads(
        _data_attribute(await ide_page(environment="demo", credentials=credentials), "default-tabs")
        or "[]"
    )

    # when the reading tabs run with their own headers
    for tab, operation in ((tabs[0], "BillingPage"), (tabs[2], "PartnerPage")):
        response = await client.post(
            "/graphql",
            json={
                "query": tab["query"],
                "variables": json.loads(tab["variables"] or "{}"),
                "operationName": operation,
            },
            headers=json.loads(tab["headers"]),
        )

        # then they answer data, no errors
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
    assert body["data"]["viewer"]["role"] == "PARTNER"
    assert body["data"]["viewer"]["accounts"]["totalCount"] == 2


@pytest.mark.parametrize(
    ("environment", "settings"),
    [("development", {}), ("production", {"graphiql": True})],
)
async def test_outside_the_demo_the_page_carries_no_key(
    ide_page: Page, environment: str, settings: dict[str, Any]
) -> None:
    # given keys on the app state (which only the demo server puts there)
    credentials, _ = await _demo_credentials()

    # when the page is served outside demo mode
    page = await ide_page(environment=environment, credentials=credentials, **settings)

    # then it holds no key and no tabs, only the placeholder
    assert "bgw_" not in page
    assert _data_attribute(page, "default-tabs") is None
    assert "paste a key" in (_data_attribute(page, "default-headers") or "")


async def test_demo_without_its_credentials_carries_no_key(ide_page: Page) -> None:
    page = await ide_page(environment="demo")

    assert "bgw_" not in page
    assert _data_attribute(page, "default-tabs") is None


async def test_boot_script_hands_the_tabs_to_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{ASSETS_PREFIX}/init.js")

    assert response.status_code == 200
    assert "config.defaultTabs" in response.text
    assert "defaultTabs: defaultTabs" in response.text
