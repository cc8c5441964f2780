"""Scale-out on PostgreSQL: CPU seconds per request with 2 serve processes over 1.

On 2 cores a second process cannot show much throughput (PostgreSQL and the load
generator share the cores), so what is measured is what decides scaling on bigger
machines: the CPU time per request of the gateway processes plus the PostgreSQL
backends of the benchmark's database (from /proc), with `BILLING_WORKERS=1` and `=2`,
interleaved over the rounds. Near 1.0: no lock, pool or shared state makes a second
process pay more per request.

    .venv/bin/python -m bench.scaling postgres://postgres@127.0.0.1:5432/bench_scaling DIR

Prints progress, then one JSON line (bench/run.py reads the last line).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
from pathlib import Path

from bench import _procs
from bench.pay import _create_database
from bench.queries import BILLING_PAGE
from gateway.db import close_db, init_db, migrate
from models import ApiKeyRole
from services.auth import create_api_key
from services.clock import SystemClock
from tests.bulk import billed_accounts

ROUNDS = 4
DURATION = 5.0


async def _seed(url: str) -> str:
    await migrate(url)
    await init_db(url)
    try:
        now = SystemClock().now()
        accounts = await billed_accounts(20, invoices=14, now=now, prefix="scale")
        return await create_api_key(
            account_email=accounts[0].email, role=ApiKeyRole.VIEWER, now=now
        )
    finally:
        await close_db()


def _ticks(pid: str) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _cpu_seconds(group: int, database: str) -> tuple[float, float]:
    """(gateway processes of process group `group`, PostgreSQL backends of `database`)."""
    gateway = backends = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[2]) == group:
            gateway += _ticks(entry.name)
        elif cmdline.startswith(b"postgres: ") and f" {database} ".encode() in cmdline:
            backends += _ticks(entry.name)
    ticks = os.sysconf("SC_CLK_TCK")
    return gateway / ticks, backends / ticks


def main() -> None:
    url, workdir = sys.argv[1], Path(sys.argv[2])
    database = url.rsplit("/", 1)[1]
    error = asyncio.run(_create_database(url))
    if error:
        print(json.dumps({"skipped": error}))
        return
    key = asyncio.run(_seed(url))
    _, client_core = _procs.cores()
    servers = {}
    for workers in (1, 2):
        port = _procs.free_port()
        env = _procs.server_env(url, port, BILLING_WORKERS=str(workers))
        servers[workers] = _procs.Server(
            f"gateway x{workers}",
            [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
            env,
            port,
            -1,
            workdir / f"scaling-{workers}.log",
        )
    try:
        for server in servers.values():
            server.wait_ready("/healthz")
        runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
        for r in range(ROUNDS):
            for workers in (1, 2) if r % 2 == 0 else (2, 1):
                server = servers[workers]
                g0, b0 = _cpu_seconds(server.proc.pid, database)
                result = _procs.load(
                    server.port,
                    "/graphql",
                    {"query": BILLING_PAGE},
                    key,
                    core=client_core,
                    concurrency=8,
                    duration=DURATION,
                    warmup=1.0,
                )
                g1, b1 = _cpu_seconds(server.proc.pid, database)
                done = max(1, int(result["total_requests"]))
                row = {
                    "rps": result["rps"],
                    "gateway_cpu_ms": (g1 - g0) * 1000 / done,
                    "postgres_cpu_ms": (b1 - b0) * 1000 / done,
                }
                row["cpu_ms"] = row["gateway_cpu_ms"] + row["postgres_cpu_ms"]
                runs[workers].append(row)
                print(
                    f"  round {r + 1} workers={workers} {row['rps']:7.1f} rps  cpu "
                    f"{row['cpu_ms']:.2f} ms/req (gateway {row['gateway_cpu_ms']:.2f}, "
                    f"postgres {row['postgres_cpu_ms']:.2f})",
                    flush=True,
                )
    finally:
        for server in servers.values():
            server.stop()
    med = {
        w: {k: round(statistics.median(r[k] for r in rs), 3) for k in rs[0]}
        for w, rs in runs.items()
    }
    pairs = list(zip(runs[1], runs[2], strict=True))
    print(
        json.dumps(
            {
                "database": "postgresql",
                "query": "billing_page",
                "processes": {str(w): m for w, m in med.items()},
                "cpu_per_request_2_over_1": round(med[2]["cpu_ms"] / med[1]["cpu_ms"], 3),
                "rps_2_over_1": round(med[2]["rps"] / med[1]["rps"], 3),
                "rounds": {
                    "cpu_per_request_2_over_1": [
                        round(b["cpu_ms"] / a["cpu_ms"], 3) for a, b in pairs
                    ]
                },
            }
        )
    )


if __name__ == "__main__":
    main()
