"""Billing events on PostgreSQL, for bench/run.py (`events` in bench/results.json).

1. Latency, commit to subscriber: two gateway processes, 100 SSE subscribers (one per
   account, half on each process). This process commits events (one transaction each,
   like a state change) round-robin over the accounts at a steady rate and notes when
   each commit returned; each subscriber notes when its event arrived. Both clocks are
   this process's, so the difference is commit → LISTEN/NOTIFY → tailer → stream → SSE.
2. Memory: one gateway process holding 1,000 idle SSE streams (10 per account): its
   RSS before and after, and the cost per stream.

Its last output line is the JSON.
"""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tortoise.transactions import in_transaction

from bench import _procs
from bench.pay import _create_database
from gateway.db import close_db, init_db, migrate
from models import Account, ApiKeyRole
from models.events import BillingEventType
from services.auth import create_api_key
from services.clock import SystemClock
from services.events import log

ACCOUNTS = 100
EVENTS = 1_000
RATE_PER_S = 100
IDLE_STREAMS = 1_000
SUBSCRIPTION = "subscription { billingEvents { id } }"
_STREAMING = httpx.Timeout(30.0, read=None)  # streams stay open and quiet


async def _seed(url: str) -> list[tuple[int, str]]:
    await migrate(url)
    now = SystemClock().now()
    accounts = []
    for i in range(ACCOUNTS):
        account = await Account.create(name=f"Bench {i}", email=f"b{i}@bench.test", created_at=now)
        key = await create_api_key(account_email=account.email, role=ApiKeyRole.ADMIN, now=now)
        # a second key: the idle-stream run holds 10 streams per account (20 per key max)
        accounts.append((account.id, key))
    return accounts


class Subscriber:
    def __init__(self, base_url: str, key: str) -> None:
        self.base_url, self.key = base_url, key
        self.received: dict[int, float] = {}
        self.ready = asyncio.Event()

    async def run(self, http: httpx.AsyncClient) -> None:
        headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {self.key}"}
        body = {"query": SUBSCRIPTION}
        async with http.stream("POST", f"{self.base_url}/graphql", json=body, headers=headers) as r:
            async for line in r.aiter_lines():
                if line.startswith(":") and not self.ready.is_set():
                    self.ready.set()
                elif line.startswith("data: {"):
                    gid = json.loads(line[6:])["data"]["billingEvents"]["id"]
                    pk = int(base64.b64decode(gid).decode().split(":")[1])
                    self.received[pk] = time.perf_counter()


async def _commit(account_id: int) -> tuple[int, float]:
    async with in_transaction():
        event_id = await log.append(
            BillingEventType.BILLING_INFO_UPDATED, account_id=account_id, now=SystemClock().now()
        )
    return event_id, time.perf_counter()


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _latency(url: str, accounts: list[tuple[int, str]], ports: list[int]) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=_STREAMING, limits=limits) as http:
        subscribers = [
            Subscriber(f"http://127.0.0.1:{ports[i % len(ports)]}", key)
            for i, (_, key) in enumerate(accounts)
        ]
        tasks = [asyncio.create_task(s.run(http)) for s in subscribers]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in subscribers)), 60)
        await asyncio.sleep(1.0)  # every stream registered with its process's fanout
        committed: dict[int, float] = {}
        by_event: dict[int, Subscriber] = {}
        started = time.perf_counter()
        for n in range(EVENTS):
            account_id, _ = accounts[n % len(accounts)]
            event_id, at = await _commit(account_id)
            committed[event_id] = at
            by_event[event_id] = subscribers[n % len(accounts)]
            delay = started + (n + 1) / RATE_PER_S - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(  # noqa: ASYNC110
            e not in by_event[e].received for e in committed
        ):
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(
        (by_event[e].received[e] - at) * 1000
        for e, at in committed.items()
        if e in by_event[e].received
    )
    lost = len(committed) - len(latencies)
    return {
        "processes": len(ports),
        "subscribers": len(accounts),
        "events": EVENTS,
        "rate_per_s": RATE_PER_S,
        "delivered": len(latencies),
        "lost": lost,
        "latency_p50_ms": round(statistics.median(latencies), 1),
        "latency_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
        "latency_max_ms": round(latencies[-1], 1),
    }


async def _idle_streams(accounts: list[tuple[int, str]], port: int, pid: int) -> dict[str, Any]:
    before = _rss_kb(pid)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=_STREAMING, limits=limits) as http:
        per_account = IDLE_STREAMS // len(accounts)
        subscribers = [
            Subscriber(f"http://127.0.0.1:{port}", key)
            for _, key in accounts
            for _ in range(per_account)
        ]
        tasks = []
        for s in subscribers:
            tasks.append(asyncio.create_task(s.run(http)))
            await asyncio.sleep(0.002)
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in subscribers)), 120)
        await asyncio.sleep(2.0)
        after = _rss_kb(pid)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "streams": len(subscribers),
        "rss_mb_idle": round(before / 1024, 1),
        "rss_mb_with_streams": round(after / 1024, 1),
        "kb_per_stream": round((after - before) / len(subscribers), 1),
    }


async def main(url: str, workdir: Path) -> dict[str, Any]:
    problem = await _create_database(url)
    if problem:
        return {"skipped": problem}
    await init_db(url)
    try:
        accounts = await _seed(url)
        server_core, _ = _procs.cores()
        ports = [_procs.free_port(), _procs.free_port()]
        servers = [
            _procs.gateway_server(
                _procs.server_env(url, port), port, server_core, workdir / f"events-{port}.log"
            )
            for port in ports
        ]
        try:
            for server in servers:
                server.wait_ready("/healthz")
            latency = await _latency(url, accounts, ports)
            memory = await _idle_streams(accounts, ports[0], servers[0].proc.pid)
        finally:
            for server in servers:
                server.stop()
    finally:
        await close_db()
    return {**latency, **memory}


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
    print(json.dumps(result))
