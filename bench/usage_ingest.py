"""POST /usage/events on PostgreSQL, for bench/run.py: events per second through one
gateway process, in batches of 1,000 events over 100 accounts, and the p50 / p99 time
per batch; plus the serve process's CPU seconds per batch (from /proc, which leaves
out the load generator and PostgreSQL sharing the machine).

The gateway is pinned to the server core, this client to the other. Two batches are in
flight at a time, so the gateway parses one while PostgreSQL writes the other.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import _procs
from bench.pay import _create_database
from gateway.db import close_db, init_db, migrate
from models import (
    Account,
    BillingInterval,
    Meter,
    Plan,
    PlanAllowance,
    PlanTier,
    Subscription,
    SubscriptionStatus,
)
from resolvers.ids import to_global_id
from services.auth import create_service_key
from services.clock import SystemClock

ACCOUNTS = 100
BATCH = 1_000
WARMUP_BATCHES = 3
BATCHES = 40
IN_FLIGHT = 2


async def _seed(url: str) -> tuple[str, list[str]]:
    await migrate(url)
    await init_db(url)
    try:
        now = SystemClock().now()
        plan = await Plan.create(
            code="plus-monthly",
            name="Plus",
            tier=PlanTier.PLUS,
            price_amount=2900,
            interval=BillingInterval.MONTH,
        )
        meter = await Meter.create(code="credits", name="Credits", unit="credit")
        await PlanAllowance.create(
            plan=plan, meter=meter, included_micros=10**15, overage_unit_amount=4
        )
        ids = []
        for n in range(ACCOUNTS):
            account = await Account.create(
                name=f"Usage {n}", email=f"usage-{n}@example.test", created_at=now
            )
            await Subscription.create(
                account=account,
                plan=plan,
                status=SubscriptionStatus.ACTIVE,
                current_period_start=now - timedelta(days=1),
                current_period_end=now + timedelta(days=29),
                created_at=now,
            )
            ids.append(to_global_id("Account", account.id))
        return await create_service_key(now=now, label="bench"), ids
    finally:
        await close_db()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _send(port: int, key: str, accounts: list[str], batches: int, tag: str) -> list[float]:
    """`batches` batches, IN_FLIGHT at a time; the milliseconds each took."""
    samples: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for b in range(batches):
        queue.put_nowait(b)

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            b = queue.get_nowait()
            events = [
                {
                    "id": f"{tag}-{b}-{n}",
                    "account": accounts[n % len(accounts)],
                    "meter": "credits",
                    "quantity": "1.25",
                }
                for n in range(BATCH)
            ]
            body = json.dumps({"events": events})
            start = time.perf_counter()
            response = await http.post(
                "/usage/events",
                content=body,
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )
            samples.append((time.perf_counter() - start) * 1000)
            results = response.json()["results"]
            if response.status_code != 200 or any(r["status"] != "ACCEPTED" for r in results):
                raise RuntimeError(f"batch {b}: {response.status_code} {results[:2]}")

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        await asyncio.gather(*(worker(http) for _ in range(IN_FLIGHT)))
    return samples


def run_usage_bench(url: str, workdir: Path) -> dict[str, Any]:
    problem = asyncio.run(_create_database(url))
    if problem:
        return {"skipped": problem}
    server_core, client_core = _procs.cores()
    key, accounts = asyncio.run(_seed(url))
    port = _procs.free_port()
    gateway = _procs.gateway_server(
        _procs.server_env(url, port), port, server_core, workdir / "gateway-usage.log"
    )
    previous = os.sched_getaffinity(0)
    try:
        gateway.wait_ready("/healthz")
        os.sched_setaffinity(0, {client_core})
        asyncio.run(_send(port, key, accounts, WARMUP_BATCHES, "warmup"))
        cpu_before = _cpu_seconds(gateway.proc.pid)
        start = time.perf_counter()
        samples = asyncio.run(_send(port, key, accounts, BATCHES, "run"))
        elapsed = time.perf_counter() - start
        cpu = _cpu_seconds(gateway.proc.pid) - cpu_before
        ordered = sorted(samples)
        return {
            "database": "postgresql",
            "batch_size": BATCH,
            "batches": BATCHES,
            "in_flight": IN_FLIGHT,
            "events_per_s": round(BATCHES * BATCH / elapsed),
            "batch_p50_ms": round(statistics.median(samples), 1),
            "batch_p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            "server_cpu_ms_per_batch": round(cpu * 1000 / BATCHES, 1),
        }
    finally:
        os.sched_setaffinity(0, previous)
        gateway.stop()


if __name__ == "__main__":
    # Its own interpreter, like bench/pay.py: Tortoise caches SQL per backend.
    sys.stdout.write(json.dumps(run_usage_bench(sys.argv[1], Path(sys.argv[2]))) + "\n")
