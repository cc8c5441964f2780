"""payInvoice on PostgreSQL against localstripe, for bench/run.py: the gateway's p50 next to
the provider's own create+confirm p50 (the same SDK call, made directly, same run), and
payments per second at concurrency 1, 8 and 32.

The gateway is pinned to the server core; localstripe and this client share the other.
localstripe is a single Python process that pickles its whole store after every write,
so at high concurrency it, not the gateway, is the likely ceiling: compare with the
provider figure before blaming the gateway.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import _procs
from bench.queries import PAY_INVOICE
from gateway.db import close_db, init_db, migrate
from gateway.sandbox import Sandbox, start_sandbox
from models import Account, ApiKeyRole, PaymentMethod
from resolvers.ids import to_global_id
from services.clock import SystemClock
from services.context import ServiceContext
from services.provider.stripe import StripeProvider
from tests.factories import add_card, api_key, make_account, make_invoice, subscribe

ACCOUNTS = 32
INVOICES_EACH = 10
SAMPLES = 20
THROUGHPUT = {1: 20, 8: 64, 32: 128}  # concurrency: payments


async def _create_database(url: str) -> str | None:
    """Recreate the bench database; None when PostgreSQL does not answer."""
    import asyncpg

    base, _, name = url.rpartition("/")
    try:
        conn = await asyncpg.connect(
            f"{base}/postgres".replace("postgres://", "postgresql://", 1), timeout=3
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL not reachable at {base}: {exc.__class__.__name__}"
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return None


def _provider(sandbox: Sandbox) -> StripeProvider:
    return StripeProvider(
        sandbox.secret_key,
        sandbox.publishable_key,
        api_base=sandbox.api_base,
        js_url=sandbox.js_url,
        timeout_s=30,
    )


async def _seed(
    url: str, sandbox: Sandbox
) -> tuple[list[tuple[str, list[str]]], Account, PaymentMethod]:
    await migrate(url)
    await init_db(url)
    provider = _provider(sandbox)
    services = ServiceContext(provider=provider, clock=SystemClock())
    try:
        work: list[tuple[str, list[str]]] = []
        first: tuple[Account, PaymentMethod] | None = None
        for n in range(ACCOUNTS):
            account = await make_account(f"payer-{n}@example.test", name=f"Payer {n}")
            sub = await subscribe(account)
            card = await add_card(services, sandbox, account, make_default=True)
            first = first or (account, card)
            invoices = [await make_invoice(account, subscription=sub) for _ in range(INVOICES_EACH)]
            work.append(
                (
                    await api_key(account, ApiKeyRole.ADMIN),
                    [to_global_id("Invoice", i.id) for i in invoices],
                )
            )
        assert first is not None
        account = await Account.get(id=first[0].id)
        return work, account, first[1]
    finally:
        await provider.close()
        await close_db()


async def _provider_p50(sandbox: Sandbox, account: Account, card: PaymentMethod) -> float:
    provider = _provider(sandbox)
    samples = []
    try:
        assert account.provider_customer_id is not None
        for _ in range(SAMPLES):
            start = time.perf_counter()
            result = await provider.charge(
                customer_id=account.provider_customer_id,
                payment_method_id=card.provider_id,
                amount=2900,
                currency="USD",
                idempotency_key=uuid.uuid4().hex,
                off_session=False,
                metadata={"bench": "direct"},
            )
            samples.append((time.perf_counter() - start) * 1000)
            assert result.status == "succeeded", result
    finally:
        await provider.close()
    return statistics.median(samples)


async def _pay_all(port: int, jobs: list[tuple[str, str]], concurrency: int) -> tuple[float, float]:
    """Pay every (key, invoice) with `concurrency` in flight: (payments/s, p50 ms)."""
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    samples: list[float] = []

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            key, invoice = queue.get_nowait()
            start = time.perf_counter()
            response = await http.post(
                "/graphql",
                json={"query": PAY_INVOICE, "variables": {"invoiceId": invoice}},
                headers={"Authorization": f"Bearer {key}"},
            )
            samples.append((time.perf_counter() - start) * 1000)
            body = response.json()
            result = (body.get("data") or {}).get("payInvoice") or {}
            if result.get("__typename") != "PayInvoiceSuccess":
                raise RuntimeError(f"payInvoice failed: {body}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as http:
        start = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return len(jobs) / elapsed, statistics.median(samples)


async def _warm(port: int, keys: list[str]) -> None:
    """Authenticate every key once (the gateway caches a key for 5 s and writes its first
    use in the background), so the samples time payInvoice, not a cold key lookup."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        for key in keys:
            response = await http.post(
                "/graphql",
                json={"query": "{ viewer { role } }"},
                headers={"Authorization": f"Bearer {key}"},
            )
            response.raise_for_status()


def run_pay_bench(url: str, workdir: Path) -> dict[str, Any]:
    problem = asyncio.run(_create_database(url))
    if problem:
        return {"skipped": problem}
    server_core, client_core = _procs.cores()
    sandbox = start_sandbox()
    gateway = None
    previous = os.sched_getaffinity(0)
    try:
        process = getattr(sandbox, "_process", None)  # keep localstripe off the server core
        if process is not None:
            os.sched_setaffinity(process.pid, {client_core})
        work, account, card = asyncio.run(_seed(url, sandbox))
        port = _procs.free_port()
        env = _procs.server_env(
            url,
            port,
            BILLING_STRIPE_API_BASE=sandbox.api_base,
            BILLING_STRIPE_API_KEY=sandbox.secret_key,
            BILLING_STRIPE_PUBLISHABLE_KEY=sandbox.publishable_key,
            BILLING_STRIPE_JS_URL=sandbox.js_url,
        )
        gateway = _procs.gateway_server(env, port, server_core, workdir / "gateway-pay.log")
        gateway.wait_ready("/healthz")
        os.sched_setaffinity(0, {client_core})
        # Round-robin over accounts: consecutive payments hit different accounts.
        jobs = [(key, invoices[i]) for i in range(INVOICES_EACH) for key, invoices in work]
        provider_p50 = asyncio.run(_provider_p50(sandbox, account, card))
        asyncio.run(_warm(port, sorted({key for key, _ in jobs[:SAMPLES]})))
        _, gateway_p50 = asyncio.run(_pay_all(port, jobs[:SAMPLES], 1))
        del jobs[:SAMPLES]
        throughput = {}
        for concurrency, count in THROUGHPUT.items():
            batch, jobs = jobs[:count], jobs[count:]
            rate, p50 = asyncio.run(_pay_all(port, batch, concurrency))
            throughput[str(concurrency)] = {"per_second": round(rate, 1), "p50_ms": round(p50, 1)}
        return {
            "database": "postgresql",
            "provider_p50_ms": round(provider_p50, 1),
            "gateway_p50_ms": round(gateway_p50, 1),
            "overhead_ms": round(gateway_p50 - provider_p50, 1),
            "throughput": throughput,
        }
    finally:
        os.sched_setaffinity(0, previous)
        if gateway is not None:
            gateway.stop()
        sandbox.stop()


if __name__ == "__main__":
    # Its own interpreter: Tortoise caches per-model SQL for the first backend it saw
    # (bench/run.py's SQLite), which PostgreSQL would then be sent.
    sys.stdout.write(json.dumps(run_pay_bench(sys.argv[1], Path(sys.argv[2]))) + "\n")
