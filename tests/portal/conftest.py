"""The billing portal in a real browser: Debian's chromium driven by Playwright.

The gateway runs for real (uvicorn on a loopback port, in the test's event loop so it
shares the test database) against the localstripe sandbox, whose Stripe.js stand-in the
page loads like it would load Stripe.js. No browser is ever downloaded: Playwright
drives /usr/bin/chromium (`apt-get install chromium`; `make setup` does it as root).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from gateway.app import create_app
from gateway.sandbox import Sandbox
from gateway.settings import Settings
from services.context import ServiceContext
from services.documents.pool import RenderPool

CHROMIUM = Path(os.environ.get("BILLING_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = (
    Path(os.environ.get("BILLING_TEST_ARTIFACTS", ROOT / "var" / "test-artifacts")) / "portal"
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

SKIP_REASON = (
    f"PORTAL BROWSER TESTS SKIPPED: {CHROMIUM} is missing. Install Debian's chromium "
    "(`apt-get install chromium`, or `make setup` as root); Playwright must never download "
    "a browser."
)
#: Applied by the test modules: the only reason these tests may skip.
requires_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # Loud on purpose: CI installs chromium, so a skip there means a broken setup.
    if not CHROMIUM.exists():
        terminalreporter.write_sep("!", SKIP_REASON, red=True, bold=True)


class _InLoopServer(uvicorn.Server):
    """uvicorn in the test's event loop; leaves signal handling to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Portal:
    """A running gateway: `url` is its /portal page."""

    base_url: str
    app: Any

    @property
    def url(self) -> str:
        return f"{self.base_url}/portal"


PortalFactory = Callable[..., Awaitable[Portal]]


@pytest.fixture
async def start_portal(
    services: ServiceContext, db: str, render_pool: RenderPool, sandbox: Sandbox
) -> AsyncIterator[PortalFactory]:
    """Start the real app on a free loopback port; `await start_portal(environment=...)`."""
    servers: list[tuple[_InLoopServer, asyncio.Task[None]]] = []

    async def start(
        *, environment: str = "development", demo_credentials: Any = None, **overrides: Any
    ) -> Portal:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        settings = Settings(
            environment=environment,
            database_url=db,
            public_url=base_url,
            stripe_js_url=sandbox.js_url,
            stripe_publishable_key=sandbox.publishable_key,
            stripe_api_base=sandbox.api_base,
            **overrides,
        )
        app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
        if demo_credentials is not None:
            app.state.demo_credentials = demo_credentials
        server = _InLoopServer(
            # Open event streams (the page follows billingEvents) end 1 s into shutdown.
            uvicorn.Config(
                app,
                log_level="warning",
                lifespan="on",
                access_log=False,
                timeout_graceful_shutdown=1,
            )
        )
        task = asyncio.create_task(server.serve(sockets=[sock]))
        servers.append((server, task))
        for _ in range(200):
            if server.started or task.done():
                break
            await asyncio.sleep(0.025)
        if task.done():
            task.result()  # raises what went wrong
        assert server.started, "the gateway did not start"
        return Portal(base_url=base_url, app=app)

    yield start
    for server, task in servers:
        # End the pages' event streams cleanly first: a stream cut off by the stop would
        # be a console error ("incomplete chunked encoding") in the page.
        await server.config.app.state.event_streams.close()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class PageProblems:
    """Everything the page logged as an error; a test ends with none."""

    messages: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        # The browser's own favicon request from a PDF tab is not the page's doing.
        if message.location.get("url", "").endswith("/favicon.ico"):
            return
        if message.type == "error":
            self.messages.append(f"console: {message.text} @ {message.location}")

    def on_page_error(self, error: Exception) -> None:
        self.messages.append(f"uncaught: {error}")


@pytest.fixture
def console_errors() -> PageProblems:
    return PageProblems()


def _watch(page: Page, problems: PageProblems) -> Page:
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
async def page(
    browser: Browser, console_errors: PageProblems, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    """A fresh desktop-sized tab; fails the test on any console error, keeps a failure shot."""
    context = await browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    watched: set[int] = set()

    def watch(new: Page) -> None:
        if id(new) not in watched:
            watched.add(id(new))
            _watch(new, console_errors)

    context.on("page", watch)  # new tabs too (the PDF links open one)
    tab = await context.new_page()
    watch(tab)
    try:
        yield tab
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            await save_screenshot(tab, f"FAILED-{request.node.name}")
    finally:
        await context.close()
    assert console_errors.messages == [], "the page logged errors:\n" + "\n".join(
        console_errors.messages
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


async def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path
