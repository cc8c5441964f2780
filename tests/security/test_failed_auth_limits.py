"""Failed credentials are throttled in their own bucket per address (`authfail:<ip>`),
apart from authenticated traffic: a client guessing keys gets 429 with Retry-After,
while valid keys behind the same address (one NAT) keep working. The same rule holds
on every route that checks a credential: GraphQL, signed document links, /metrics."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from gateway.app import create_app
from gateway.settings import Settings
from models import InvoiceStatus
from services.clock import FixedClock
from services.context import ServiceContext
from services.documents.content import DocumentKind
from services.documents.links import DocumentLinks
from services.documents.pool import RenderPool
from tests.factories import api_key, make_account, make_invoice
from tests.security.conftest import AppClient

QUERY = {"query": "{ viewer { role } }"}
GUESS = "bgw_000000000000_guess"


async def _post(http: httpx.AsyncClient, key: str, body: object = QUERY) -> httpx.Response:
    return await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {key}"})


async def test_failed_keys_are_throttled_apart_from_valid_ones(
    app_client: AppClient, db: str
) -> None:
    key = await api_key(await make_account())
    async with app_client(rate_limit_per_address=30, rate_limit_failed_auth_per_address=3) as http:
        # when one client behind the NAT keeps guessing, far past the address's budget
        failures = [await _post(http, GUESS) for _ in range(40)]
        # then a valid key from the same address still gets through, and keeps doing so
        valid = [await _post(http, key) for _ in range(5)]
        # and the guesser is still refused
        after = await _post(http, GUESS)

    assert [r.status_code for r in failures[:3]] == [200, 200, 200]  # UNAUTHENTICATED in body
    assert failures[0].json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert {r.status_code for r in failures[3:]} == {429}
    refused = failures[3]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert [r.status_code for r in valid] == [200] * 5
    assert all(r.json()["data"]["viewer"]["role"] == "ADMIN" for r in valid)
    assert after.status_code == 429


async def test_failed_oidc_style_tokens_count_in_the_same_bucket(
    app_client: AppClient, db: str
) -> None:
    async with app_client(rate_limit_failed_auth_per_address=2) as http:
        statuses = [
            (await _post(http, token)).status_code for token in (GUESS, "a.b.c", "not-a-key", GUESS)
        ]

    assert statuses == [200, 200, 429, 429]


async def test_anonymous_requests_keep_the_address_budget(app_client: AppClient, db: str) -> None:
    key = await api_key(await make_account())
    async with app_client(rate_limit_per_address=2) as http:
        anonymous = [(await http.post("/graphql", json=QUERY)).status_code for _ in range(3)]
        valid = await _post(http, key)

    assert anonymous == [200, 200, 429]
    assert valid.status_code == 200  # keyed traffic has its own budget


async def test_bad_document_links_are_throttled_valid_links_are_not(
    services: ServiceContext, db: str, render_pool: RenderPool, clock: FixedClock
) -> None:
    settings = Settings(
        database_url=db,
        public_url="https://billing.example.test",
        document_link_secret=SecretStr("s3cret"),
        rate_limit_failed_auth_per_address=2,
    )
    links = DocumentLinks("s3cret", settings.public_url, 3600, clock)
    invoice = await make_invoice(await make_account(), status=InvoiceStatus.PAID)
    good = urlsplit(links.url(DocumentKind.INVOICE, invoice.id))
    app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=settings.public_url
    ) as http:
        bad = [
            await http.get(f"/documents/invoices/{invoice.id}.pdf?sig=forged{i}") for i in range(4)
        ]
        valid = await http.get(f"{good.path}?{good.query}")

    assert [r.status_code for r in bad] == [403, 403, 429, 429]
    assert int(bad[-1].headers["retry-after"]) >= 1
    assert valid.status_code == 200


async def test_wrong_metrics_tokens_are_throttled(
    services: ServiceContext, db: str, render_pool: RenderPool
) -> None:
    settings = Settings(
        database_url=db,
        metrics_token=SecretStr("m" * 32),
        rate_limit_failed_auth_per_address=2,
    )
    app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        wrong = [
            (await http.get("/metrics", headers={"Authorization": "Bearer nope"})).status_code
            for _ in range(3)
        ]
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {'m' * 32}"})

    assert wrong == [401, 401, 429]
    assert right.status_code == 200
