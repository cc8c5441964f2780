"""GET /portal and its helpers, without a browser (tests/portal/ drives chromium)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.portal import content_security_policy
from gateway.settings import Settings
from services.context import ServiceContext
from services.documents.pool import RenderPool

CREDENTIALS = {
    "accounts": {"plus@demo.test": {"admin": "bgw_admin", "viewer": "bgw_viewer"}},
    "partner": "bgw_partner",
}


def _directives(csp: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in csp.split(";"))


def test_csp_allows_only_the_provider_origin_besides_self() -> None:
    directives = _directives(content_security_policy("http://127.0.0.1:8420/js.stripe.com/v3/"))
    assert directives["script-src"] == "'self' http://127.0.0.1:8420"
    assert directives["connect-src"] == "'self' http://127.0.0.1:8420"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_csp_for_stripe_adds_its_documented_origins() -> None:
    directives = _directives(content_security_policy("https://js.stripe.com/v3/"))
    assert directives["script-src"] == "'self' https://js.stripe.com"
    assert "https://api.stripe.com" in directives["connect-src"].split()
    assert "https://hooks.stripe.com" in directives["frame-src"].split()


async def _client(
    services: ServiceContext, db: str, render_pool: RenderPool, **state: Any
) -> httpx.AsyncClient:
    settings = Settings(database_url=db, **state.pop("settings", {}))
    app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
    for name, value in state.items():
        setattr(app.state, name, value)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def http(
    services: ServiceContext, db: str, render_pool: RenderPool
) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(services, db, render_pool, demo_credentials=CREDENTIALS) as client:
        yield client


async def test_page_and_assets_are_served(http: httpx.AsyncClient) -> None:
    page = await http.get("/portal")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self' " in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    for asset in ("/portal/assets/js/main.js", "/portal/assets/portal.css"):
        assert (await http.get(asset)).status_code == 200, asset
    assert (await http.get("/portal/assets/../index.html")).status_code == 404


async def test_demo_keys_are_listed_only_in_demo_mode(
    http: httpx.AsyncClient, services: ServiceContext, db: str, render_pool: RenderPool
) -> None:
    # outside demo mode nothing, even with credentials on the app
    assert (await http.get("/portal/demo-accounts.json")).json() == {"demo": False, "accounts": []}

    demo = await _client(
        services, db, render_pool, settings={"environment": "demo"}, demo_credentials=CREDENTIALS
    )
    async with demo:
        body = (await demo.get("/portal/demo-accounts.json")).json()
    assert body["demo"] is True
    assert body["accounts"] == [
        {
            "email": "plus@demo.test",
            "description": "Plus, monthly: two cards, paid history and one open invoice.",
            "keys": {"admin": "bgw_admin", "viewer": "bgw_viewer"},
        }
    ]
    assert "bgw_partner" not in str(body)
