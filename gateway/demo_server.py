"""`billing-gateway demo`: sandbox provider + migrated database + demo data + server.

Stopping cleans up, whatever stops it: SIGINT (Ctrl+C), SIGTERM (kill, systemd,
containers) and SIGHUP (a closed terminal) all end the gateway (its lifespan stops
the PDF render pool), the worker, the mailbox and the sandbox, then exit 0. uvicorn
is kept from installing its own handlers: it would re-raise the signal after its
shutdown and kill the process before the sandbox is stopped. A signal during
start-up cancels it, and the same `finally` blocks run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import aiohttp
import uvicorn
from pydantic import SecretStr

from gateway import db
from gateway.app import build_services, create_app
from gateway.demo import revault_cards, seed_if_absent, write_credentials
from gateway.demo_mail import start_mailbox
from gateway.demo_webhooks import start_webhook_sink
from gateway.sandbox import die_with_parent, port_in_use, start_sandbox
from gateway.security import key_hasher
from gateway.settings import Settings
from gateway.worker import run_worker, smtp_config
from services.clock import OffsetClock
from services.documents.pool import RenderPool
from services.events.webhooks import target_policy

CLOCK_FILE = "clock.json"
DEMO_WORKER_INTERVAL_S = 2.0

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

log = logging.getLogger("gateway.demo")


class DemoStartError(RuntimeError):
    """The demo cannot start (a port is taken): one line for the person running it."""


class _Server(uvicorn.Server):
    """uvicorn without its signal handling: the demo's own handlers stop it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _DemoRenderPool(RenderPool):
    """Stops at once: a stopping demo does not wait for a worker's warm-up import (a few
    seconds on a busy machine) or a render nobody will download. Its workers die with
    the demo even when it is SIGKILLed (started from the main thread: see sandbox.py)."""

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None and not self._closed:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
        return super()._pool()

    def shutdown(self) -> None:
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        super().shutdown()


class _Shutdown:
    """Turns a stop signal into a graceful stop: the server's when it runs, else a
    cancellation of the start-up. A second signal makes the server stop waiting for
    open connections."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.server: uvicorn.Server | None = None
        self.signal: int | None = None

    def __enter__(self) -> _Shutdown:
        for sig in STOP_SIGNALS:
            self.loop.add_signal_handler(sig, self._received, sig)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig in STOP_SIGNALS:
            self.loop.remove_signal_handler(sig)

    def _received(self, sig: int) -> None:
        again, self.signal = self.signal is not None, sig
        log.info("demo: %s received, stopping", signal.Signals(sig).name)
        if self.server is not None:
            self.server.force_exit = again
            self.server.should_exit = True
        elif self.task is not None and not again:
            self.task.cancel()


async def run_demo(
    settings: Settings,
    *,
    host: str,
    port: int,
    sandbox_port: int,
    data_dir: Path,
    database_url_from_env: bool,
) -> int:
    """Run until a stop signal; returns the exit code. Raises DemoStartError when a port
    it needs is taken (`SandboxError` when the sandbox fails otherwise)."""
    for what, taken in (("gateway", port), ("sandbox", sandbox_port)):
        if port_in_use(taken):
            raise DemoStartError(
                f"{what} port {taken} is already in use by another process; stop it or "
                f"choose another --{'port' if what == 'gateway' else 'sandbox-port'}"
            )
    with _Shutdown() as shutdown:
        try:
            return await _run(
                settings, shutdown, host, port, sandbox_port, data_dir, database_url_from_env
            )
        except asyncio.CancelledError:
            if shutdown.signal is None:
                raise
            return 0  # stopped during start-up; everything started is stopped


async def _run(
    settings: Settings,
    shutdown: _Shutdown,
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
    # Everything started is stopped in reverse order, however this ends (a signal during
    # start-up arrives here as a cancellation at the next await).
    async with contextlib.AsyncExitStack() as started:
        sandbox = start_sandbox(port=sandbox_port)
        started.callback(sandbox.stop)
        settings = settings.model_copy(
            update={
                "environment": "demo",
                "database_url": database_url,
                "stripe_api_base": sandbox.api_base,
                "stripe_api_key": SecretStr(sandbox.secret_key),
                "stripe_publishable_key": sandbox.publishable_key,
                "stripe_js_url": sandbox.js_url,
                "public_url": f"http://{host}:{port}",
                # the demo's webhook sink listens on loopback (gateway/demo_webhooks.py)
                "webhook_allowed_targets": ["127.0.0.0/8", "::1/128"],
            }
        )
        mailbox = start_mailbox(data_dir / "mail")
        started.callback(mailbox.stop)
        settings = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": mailbox.port})
        await db.migrate(database_url)
        await db.init_db(database_url)
        started.push_async_callback(db.close_db)
        services = build_services(settings, clock=OffsetClock(data_dir / CLOCK_FILE))
        started.push_async_callback(services.provider.close)
        seeded = await seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
        if not seeded:
            count = await revault_cards(services, sandbox.api_base, sandbox.secret_key)
            log.info("demo data kept; %d card(s) vaulted again in the fresh sandbox", count)
        credentials_path = data_dir / "demo-credentials.json"
        credentials = await write_credentials(
            credentials_path, services.clock.now(), key_hasher(settings)
        )
        stop_sink = await start_webhook_sink(
            data_dir / "webhooks",
            partner_key=str(credentials["partner"]),
            hasher=key_hasher(settings),
            policy=target_policy(services.policy),
            now=services.clock.now(),
        )
        started.push_async_callback(stop_sink)
        _print_welcome(host, port, credentials_path, credentials)
        await _register_webhook(settings, sandbox.api_base, f"http://{host}:{port}")
        stop = asyncio.Event()
        worker = asyncio.create_task(
            run_worker(services, smtp_config(settings), DEMO_WORKER_INTERVAL_S, stop)
        )
        started.push_async_callback(_stop_worker, worker, stop)
        render_pool = _DemoRenderPool(settings.document_render_workers)
        started.callback(render_pool.shutdown)
        render_pool.warm()
        app = create_app(settings, services=services, manage_db=False, renderer=render_pool)
        app.state.demo_credentials = credentials  # the portal's sign-in picker
        server = _Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level=settings.log_level.lower(),
                # open event streams (portal tabs, `events tail`) end this long into a stop
                timeout_graceful_shutdown=2,
            )
        )
        shutdown.server = server
        await server.serve()
    return 0


async def _stop_worker(worker: asyncio.Task[None], stop: asyncio.Event) -> None:
    stop.set()
    await worker


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
Mail the worker sends lands in {path.parent / "mail"} as .eml files; signed webhooks
(every demo account's billing events) in {path.parent / "webhooks"} as .json files.
Follow an account live:  billing-gateway events tail --account plus@demo.test
Move the demo's clock:  billing-gateway clock advance --days 30 --data-dir {path.parent}
Ctrl+C (or SIGTERM, SIGHUP) stops the gateway, the worker and the sandbox.
""",
        flush=True,
    )
