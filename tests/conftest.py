"""Shared fixtures: a real database (SQLite, or PostgreSQL when asked), a real
Stripe-compatible server (localstripe) and the app wired to both.

BILLING_TEST_DATABASE=postgres runs the suite on BILLING_TEST_POSTGRES_URL; tests
marked `postgres` (races that only show there) fail, not skip, when it is missing
in that mode, and are skipped on the SQLite pass.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tortoise import connections

from gateway.app import create_app
from gateway.db import close_db, init_db, migrate
from gateway.sandbox import Sandbox, start_sandbox
from gateway.settings import Settings
from services.clock import FixedClock
from services.context import ServiceContext
from services.documents.pool import RenderPool
from services.provider.recording import RecordingProvider
from services.provider.stripe import StripeProvider
from tests.invariants import ledger_violations

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
_TABLES = [
    "webhook_delivery",
    "webhook_endpoint",
    "webhook_dispatch_cursor",
    "billing_event",
    "plan_change_quote",
    "notification",
    "usage_event",
    "usage_period_total",
    "overage_setting",
    "usage_notification_setting",
    "plan_allowance",
    "meter",
    "document",
    "outbox_message",
    "webhook_event",
    "partner_access",
    "api_key",
    "payment",
    "invoice_line",
    "invoice",
    "payment_method",
    "subscription",
    "plan",
    "account",
    "invoice_sequence",
    "demo_seed",
]


def database_kind() -> str:
    return os.environ.get("BILLING_TEST_DATABASE", "sqlite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if database_kind() == "postgres":
        return
    skip = pytest.mark.skip(reason="PostgreSQL pass only (BILLING_TEST_DATABASE=postgres)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


async def _reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    if database_kind() == "postgres":
        url = os.environ.get("BILLING_TEST_POSTGRES_URL")
        if not url:
            pytest.fail("BILLING_TEST_DATABASE=postgres needs BILLING_TEST_POSTGRES_URL")
        await _reset_postgres(url)
        await migrate(url)
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="billing-test-") as tmp:
        url = f"sqlite://{Path(tmp) / 'test.sqlite3'}"
        await migrate(url)
        yield url


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[str]:
    await init_db(database_url)
    yield database_url
    await close_db()


@pytest.fixture(autouse=True)
async def _clean_tables_and_check_ledger(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test that touches the database starts from empty tables."""
    yield
    if "db" not in request.fixturenames:
        return
    conn = connections.get("default")
    problems = (
        [] if request.node.get_closest_marker("no_ledger_check") else await ledger_violations()
    )
    if database_kind() == "postgres":
        await conn.execute_script(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE;")
    else:
        await conn.execute_script("".join(f"DELETE FROM {t};" for t in _TABLES))  # noqa: S608
    assert not problems, "ledger invariants broken: " + "; ".join(problems)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    box = start_sandbox()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="session")
async def stripe_provider(sandbox: Sandbox) -> AsyncIterator[StripeProvider]:
    provider = StripeProvider(
        sandbox.secret_key,
        sandbox.publishable_key,
        api_base=sandbox.api_base,
        js_url=sandbox.js_url,
        timeout_s=10,
    )
    yield provider
    await provider.close()


@pytest.fixture
def provider(stripe_provider: StripeProvider) -> RecordingProvider:
    """The real provider, recording every call so refusals can assert there was none."""
    return RecordingProvider(stripe_provider)


@pytest.fixture(scope="session")
def render_pool() -> Iterator[RenderPool]:
    """One PDF render worker for the session, stopped at the end so pytest exits cleanly."""
    pool = RenderPool(workers=1)
    try:
        yield pool
    finally:
        pool.shutdown()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def services(db: str, provider: RecordingProvider, clock: FixedClock) -> ServiceContext:
    return ServiceContext(provider=provider, clock=clock)


@pytest.fixture
async def client(
    services: ServiceContext, db: str, render_pool: RenderPool
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        Settings(database_url=db), services=services, manage_db=False, renderer=render_pool
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
