"""`billing-gateway demo`: sandbox provider + migrated database + demo data + server."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import aiohttp
import uvicorn
from pydantic import SecretStr

from gateway import db
from gateway.app import build_services, create_app
from gateway.demo import revault_cards, seed_if_absent, write_credentials
from gateway.demo_mail import start_mailbox
from gateway.sandbox import start_sandbox
from gateway.security import key_hasher
from gateway.settings import Settings
from gateway.worker import run_worker, smtp_config
from services.clock import OffsetClock

CLOCK_FILE = "clock.json"
DEMO_WORKER_INTERVAL_S = 2.0

log = logging.getLogger("gateway.demo")


async def run_demo(
    settings: Settings,
    *,
    host: str,
    port: int,
    sandbox_port: int,
    data_dir: Path,
    database_url_from_env: bool,
) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = (
        settings.database_url if database_url_from_env else f"sqlite://{data_dir / 'demo.sqlite3'}"
    )
    sandbox = start_sandbox(port=sandbox_port)
    try:
        settings = settings.model_copy(
            update={
                "environment": "demo",
                "database_url": database_url,
                "stripe_api_base": sandbox.api_base,
                "stripe_api_key": SecretStr(sandbox.secret_key),
                "stripe_publishable_key": sandbox.publishable_key,
                "stripe_js_url": sandbox.js_url,
                "public_url": f"http://{host}:{port}",
            }
        )
        mailbox = start_mailbox(data_dir / "mail")
        settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": mailbox.port})
        await db.migrate(database_url)
        await db.init_db(database_url)
        services = build_services(settings, clock=OffsetClock(data_dir / CLOCK_FILE))
        stop = asyncio.Event()
        worker: asyncio.Task[None] | None = None
        try:
            seeded = await seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
            if not seeded:
                count = await revault_cards(services, sandbox.api_base, sandbox.secret_key)
                log.info("demo data kept; %d card(s) vaulted again in the fresh sandbox", count)
            credentials_path = data_dir / "demo-credentials.json"
            credentials = await write_credentials(
                credentials_path, services.clock.now(), key_hasher(settings)
            )
            _print_welcome(host, port, credentials_path, credentials)
            await _register_webhook(settings, sandbox.api_base, f"http://{host}:{port}")
            worker = asyncio.create_task(
                run_worker(services, smtp_config(settings), DEMO_WORKER_INTERVAL_S, stop)
            )
            app = create_app(settings, services=services, manage_db=False)
            app.state.demo_credentials = credentials  # the portal's sign-in picker
            server = uvicorn.Server(
                uvicorn.Config(app, host=host, port=port, log_level=settings.log_level.lower())
            )
            await server.serve()
        finally:
            stop.set()
            if worker is not None:
                await worker
            mailbox.stop()
            await services.provider.close()
            await db.close_db()
    finally:
        sandbox.stop()
    return 0


async def _register_webhook(settings: Settings, api_base: str, gateway_url: str) -> None:
    """Point the sandbox's webhooks at us (localstripe's own config endpoint)."""
    form = {
        "url": f"{gateway_url}/webhooks/stripe",
        "secret": settings.stripe_webhook_secret.get_secret_value(),
    }
    headers = {"Authorization": f"Bearer {settings.stripe_api_key.get_secret_value()}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{api_base}/_config/webhooks/gateway", data=form) as response:
            if response.status >= 300:
                log.warning("sandbox refused the webhook endpoint (%s)", response.status)


def _print_welcome(host: str, port: int, path: Path, credentials: dict[str, object]) -> None:
    accounts = credentials["accounts"]
    assert isinstance(accounts, dict)
    plus_admin = accounts["plus@demo.test"]["admin"]
    print(
        f"""
Billing gateway demo: http://{host}:{port}/graphql  (GraphiQL in a browser)
Billing portal:       http://{host}:{port}/portal   (pick a demo account to sign in)

Demo keys are in {path}. In GraphiQL's Headers tab paste, e.g. for plus@demo.test:
  {json.dumps({"Authorization": f"Bearer {plus_admin}"})}
Accounts: free@demo.test, plus@demo.test, enterprise@demo.test, pastdue@demo.test
(each has an "admin" and a "viewer" key; "partner" reads all four).
Mail the worker sends lands in {path.parent / "mail"} as .eml files.
Move the demo's clock:  billing-gateway clock advance --days 30 --data-dir {path.parent}
Ctrl+C stops the gateway, the worker and the sandbox.
""",
        flush=True,
    )
