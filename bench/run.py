"""`make bench`: the GraphQL tax measured side by side, SQL statements per request, the
cost of payInvoice over the provider's own latency, and the serve process's memory.

    make bench                          # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --rounds 5 --duration 8
    .venv/bin/python bench/run.py --skip-pay          # no PostgreSQL / sandbox part

1. Seeds a SQLite file: 100 PLUS accounts, 14 monthly invoices each (lines, payments).
2. Counts SQL statements of the partner query over 1, 10 and 100 accounts (in process).
3. Starts `billing-gateway serve` and bench/raw_app.py (same settings, uvloop +
   httptools, no access log), each pinned to core 0, checks that both answer the same
   JSON, then loads them interleaved from bench/load.py pinned to core 1 (5 rounds): the
   billing page and the partner query over 10 and 100 accounts. ratio = raw rps /
   GraphQL rps; cpu_ratio = GraphQL / raw server CPU ms per request (from /proc).
   Then the billing page as a GET persisted query: 304 (If-None-Match) vs answered in full.
4. On PostgreSQL when reachable (bench/pay.py): payInvoice against localstripe.
5. On PostgreSQL (bench/usage_ingest.py): POST /usage/events, batches of 1,000 events.
6. On PostgreSQL (bench/events.py): billing events, commit to subscriber (p50/p99, two
   gateway processes, 100 SSE subscribers), and the RSS of 1,000 idle streams.
7. On PostgreSQL (bench/scaling.py): CPU per request of the gateway processes and the
   PostgreSQL backends with BILLING_WORKERS=2 over 1, interleaved.
Prints a table and writes bench/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench import _procs  # noqa: E402
from bench.queries import BILLING_PAGE, PARTNER  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.db import close_db, init_db, migrate  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from models import ApiKeyRole  # noqa: E402
from services.auth import LAST_USED, create_api_key, create_partner_key  # noqa: E402
from services.clock import SystemClock  # noqa: E402
from services.context import ServiceContext  # noqa: E402
from tests.bulk import billed_accounts  # noqa: E402
from tests.sql_counter import count_statements  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"


class _NoProvider:
    name = "none"
    publishable_key = ""
    js_url = ""

    async def close(self) -> None:
        return None


async def seed_and_count(url: str) -> tuple[dict[str, str], dict[str, int]]:
    """Seed the read benchmark's data; return its keys and the SQL counts per request."""
    await migrate(url)
    await init_db(url)
    try:
        now = SystemClock().now()
        accounts = await billed_accounts(100, invoices=14, now=now, prefix="bench")
        emails = [a.email for a in accounts]
        keys = {
            "viewer": await create_api_key(
                account_email=emails[0], role=ApiKeyRole.VIEWER, now=now
            ),
            **{
                f"partner{n}": await create_partner_key(account_emails=emails[:n], now=now)
                for n in (1, 10, 100)
            },
        }
        provider: Any = _NoProvider()
        services = ServiceContext(provider=provider, clock=SystemClock())
        settings = Settings(database_url=url, max_query_cost=10_000_000)
        renderer: Any = object()
        app = create_app(settings, services=services, manage_db=False, renderer=renderer)
        counts: dict[str, int] = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for label, key, query in [
                *((f"partner_{n}_accounts", keys[f"partner{n}"], PARTNER) for n in (1, 10, 100)),
                ("billing_page", keys["viewer"], BILLING_PAGE),
                ("viewer_role", keys["viewer"], "{ viewer { role } }"),
            ]:
                # the second request: the key authenticated moments ago (cached, 5 s) and
                # its first use's last_used_at written, as for a client that keeps calling
                for _ in range(2):
                    with count_statements() as statements:
                        response = await http.post(
                            "/graphql",
                            json={"query": query},
                            headers={"Authorization": f"Bearer {key}"},
                        )
                    assert response.status_code == 200 and "errors" not in response.json()
                    await LAST_USED.flush()
                counts[label] = len(statements)
        return keys, counts
    finally:
        await close_db()


def _same_json(gql: dict[str, Any], raw: dict[str, Any], what: str) -> None:
    if gql != raw:
        a, b = json.dumps(gql, sort_keys=True), json.dumps(raw, sort_keys=True)
        at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), 0)
        raise SystemExit(
            f"{what}: GraphQL and raw JSON differ near: {a[at - 80 : at + 80]!r}\n"
            f"                                   raw: {b[at - 80 : at + 80]!r}"
        )


#: (key name, GraphQL document, raw path, connections, at least this many requests a run)
TARGETS: dict[str, tuple[str, str, str, int, int]] = {
    "billing_page": ("viewer", BILLING_PAGE, "/raw/billing-page", 8, 20),
    "partner_10_accounts": ("partner10", PARTNER, "/raw/partner", 8, 20),
    "partner_100_accounts": ("partner100", PARTNER, "/raw/partner", 2, 6),
}


def _median_row(results: list[dict[str, float]]) -> dict[str, float]:
    return {
        k: round(statistics.median(r[k] for r in results), 3 if k == "cpu_ms" else 2)
        for k in ("rps", "p50_ms", "p99_ms", "cpu_ms")
    }


def _measured(server: _procs.Server, run: Any) -> dict[str, float]:
    """One load run, with the server process's CPU milliseconds per request answered."""
    before = server.cpu_seconds()
    result: dict[str, float] = run()
    spent = server.cpu_seconds() - before
    result["cpu_ms"] = spent * 1000 / max(1, result["total_requests"])
    return result


def compare(
    url: str, keys: dict[str, str], args: argparse.Namespace, workdir: Path
) -> tuple[dict[str, Any], dict[str, Any], float]:
    """GraphQL vs raw, interleaved (G R R G ...) over the rounds, and the persisted-query
    304 vs the same GET answered in full. Medians over rounds, with every round kept."""
    server_core, client_core = _procs.cores()
    gport, rport = _procs.free_port(), _procs.free_port()
    gateway = _procs.gateway_server(
        _procs.server_env(url, gport), gport, server_core, workdir / "gateway.log"
    )
    raw = _procs.raw_server(_procs.server_env(url, rport), rport, server_core, workdir / "raw.log")
    try:
        gateway.wait_ready("/healthz")
        raw.wait_ready("/raw/partner")
        for name, (key, query, raw_path, _, _) in TARGETS.items():
            _same_json(
                _procs.post(gport, "/graphql", {"query": query}, keys[key]),
                _procs.post(rport, raw_path, {}, keys[key]),
                name,
            )
        runs: dict[str, dict[str, list[dict[str, float]]]] = {
            t: {"graphql": [], "raw": []} for t in TARGETS
        }
        for r in range(args.rounds):
            for name, (key, query, raw_path, connections, at_least) in TARGETS.items():
                order = [
                    ("graphql", gateway, "/graphql", {"query": query}),
                    ("raw", raw, raw_path, {}),
                ]
                for side, server, path, body in order if r % 2 == 0 else order[::-1]:
                    run = functools.partial(
                        _procs.load,
                        server.port,
                        path,
                        body,
                        keys[key],
                        core=client_core,
                        concurrency=min(connections, args.concurrency),
                        duration=args.duration,
                        warmup=args.warmup,
                        min_requests=at_least,
                    )
                    result = _measured(server, run)
                    if result["errors"]:
                        raise SystemExit(f"{side} {name}: {result['errors']} errors")
                    runs[name][side].append(result)
                    print(
                        f"  round {r + 1} {name:20} {side:7} {result['rps']:8.1f} rps "
                        f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
                        f"cpu {result['cpu_ms']:7.2f} ms/req",
                        flush=True,
                    )
        table = {}
        for name, sides in runs.items():
            row: dict[str, Any] = {side: _median_row(results) for side, results in sides.items()}
            gql, rw = row["graphql"], row["raw"]
            row["ratio"] = round(rw["rps"] / gql["rps"], 2) if gql["rps"] else None
            row["cpu_ratio"] = round(gql["cpu_ms"] / rw["cpu_ms"], 2) if rw["cpu_ms"] else None
            pairs = list(zip(sides["graphql"], sides["raw"], strict=True))
            row["rounds"] = {
                "ratio": [round(b["rps"] / a["rps"], 2) for a, b in pairs],
                "cpu_ratio": [round(a["cpu_ms"] / b["cpu_ms"], 2) for a, b in pairs],
            }
            table[name] = row
        persisted = persisted_queries(gateway, keys["viewer"], args, client_core)
        return table, persisted, gateway.rss_mb()
    finally:
        gateway.stop()
        raw.stop()


def persisted_queries(
    gateway: _procs.Server, key: str, args: argparse.Namespace, core: int
) -> dict[str, Any]:
    """The billing page as a GET persisted query: answered in full (no If-None-Match)
    vs 304 Not Modified (its ETag sent back), interleaved over the rounds."""
    digest = hashlib.sha256(BILLING_PAGE.encode()).hexdigest()
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    path = "/graphql?" + urllib.parse.urlencode({"extensions": extensions})
    register = f"http://127.0.0.1:{gateway.port}{path}&" + urllib.parse.urlencode(
        {"query": BILLING_PAGE}
    )
    request = urllib.request.Request(register, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        etag = response.headers.get("ETag")
    if not etag:
        return {"skipped": "the gateway answered no ETag for the persisted billing page"}
    runs: dict[str, list[dict[str, float]]] = {"full": [], "not_modified": []}
    for r in range(args.rounds):
        order = [("full", (), 200), ("not_modified", (f"If-None-Match: {etag}",), 304)]
        for side, headers, status in order if r % 2 == 0 else order[::-1]:
            run = functools.partial(
                _procs.load,
                gateway.port,
                path,
                {},
                key,
                core=core,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
                method="GET",
                headers=headers,
                expect_status=status,
            )
            result = _measured(gateway, run)
            if result["errors"]:
                raise SystemExit(f"persisted {side}: {result['errors']} errors")
            runs[side].append(result)
            print(
                f"  round {r + 1} persisted GET {side:12} {result['rps']:8.1f} rps "
                f"p50 {result['p50_ms']:7.2f} ms  cpu {result['cpu_ms']:7.2f} ms/req",
                flush=True,
            )
    full, cached = _median_row(runs["full"]), _median_row(runs["not_modified"])
    return {
        "full": full,
        "not_modified": cached,
        "not_modified_over_full": round(cached["rps"] / full["rps"], 2) if full["rps"] else None,
        "cpu_full_over_not_modified": (
            round(full["cpu_ms"] / cached["cpu_ms"], 2) if cached["cpu_ms"] else None
        ),
        "rounds": {
            "not_modified_over_full": [
                round(b["rps"] / a["rps"], 2)
                for a, b in zip(runs["full"], runs["not_modified"], strict=True)
            ]
        },
    }


def pay_bench(postgres_url: str, workdir: Path) -> dict[str, Any]:
    """bench/pay.py in a fresh interpreter (see there); its last line is the JSON."""
    done = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-m", "bench.pay", postgres_url, str(workdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"skipped": f"bench/pay.py failed: {done.stderr.strip().splitlines()[-1:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def usage_bench(postgres_url: str, workdir: Path) -> dict[str, Any]:
    """bench/usage_ingest.py in a fresh interpreter, on its own database next to the
    payInvoice one; its last line is the JSON."""
    url = postgres_url.rpartition("/")[0] + "/bench_usage"
    done = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-m", "bench.usage_ingest", url, str(workdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"skipped": f"bench/usage_ingest.py failed: {done.stderr.strip().splitlines()[-1:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def scaling_bench(postgres_url: str, workdir: Path) -> dict[str, Any]:
    """bench/scaling.py in a fresh interpreter: CPU per request (gateway processes and
    PostgreSQL backends) with 2 serve processes over 1; its last line is the JSON."""
    url = postgres_url.rpartition("/")[0] + "/bench_scaling"
    done = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-m", "bench.scaling", url, str(workdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"skipped": f"bench/scaling.py failed: {done.stderr.strip().splitlines()[-1:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def events_bench(postgres_url: str, workdir: Path) -> dict[str, Any]:
    """bench/events.py in a fresh interpreter (two gateway processes on PostgreSQL, 100
    subscribers; then 1,000 idle streams); its last line is the JSON."""
    url = postgres_url.rpartition("/")[0] + "/bench_events"
    done = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-m", "bench.events", url, str(workdir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"skipped": f"bench/events.py failed: {done.stderr.strip().splitlines()[-1:]}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def documents_figures() -> dict[str, Any] | None:
    """Hook for the documents benchmark (bench/documents.py, `make bench-documents`):
    return its figures here to have them in results.json."""
    return None


def print_table(results: dict[str, Any]) -> None:
    print(
        f"\n{results['machine']['cpu']} — {results['machine']['nproc']} CPUs, "
        f"Python {results['machine']['python']}\n"
    )
    print(
        "| query | GraphQL rps | p50 / p99 ms | CPU ms/req | raw rps | p50 / p99 ms | CPU ms/req "
        "| ratio (rps) | ratio (CPU) | rounds (CPU) | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    targets = {"billing_page": 2.0, "partner_10_accounts": 2.5, "partner_100_accounts": 2.5}
    for name, row in results["graphql_vs_raw"].items():
        g, r = row["graphql"], row["raw"]
        print(
            f"| {name} | {g['rps']:.1f} | {g['p50_ms']:.1f} / {g['p99_ms']:.1f} | "
            f"{g['cpu_ms']:.2f} | {r['rps']:.1f} | {r['p50_ms']:.1f} / {r['p99_ms']:.1f} | "
            f"{r['cpu_ms']:.2f} | {row['ratio']} | {row['cpu_ratio']} | "
            f"{min(row['rounds']['cpu_ratio'])} to {max(row['rounds']['cpu_ratio'])} | "
            f"≤ {targets.get(name, '?')} |"
        )
    pq = results.get("persisted_queries")
    if pq and "skipped" not in pq:
        print(
            f"\npersisted billing page over GET: 304 {pq['not_modified']['rps']:.0f} rps "
            f"({pq['not_modified']['cpu_ms']:.2f} ms CPU) vs full {pq['full']['rps']:.0f} rps "
            f"({pq['full']['cpu_ms']:.2f} ms CPU): {pq['not_modified_over_full']}x"
        )
    print(
        "\nSQL statements per request: "
        + ", ".join(f"{k} {v}" for k, v in results["sql_per_request"].items())
    )
    pay = results.get("pay_invoice")
    if pay and "skipped" not in pay:
        print(
            f"payInvoice p50 {pay['gateway_p50_ms']:.1f} ms vs provider create+confirm p50 "
            f"{pay['provider_p50_ms']:.1f} ms (overhead {pay['overhead_ms']:.1f} ms)"
        )
        print(
            "payInvoice throughput (PostgreSQL): "
            + ", ".join(
                f"c={c}: {v['per_second']:.1f}/s p50 {v['p50_ms']:.0f} ms"
                for c, v in pay["throughput"].items()
            )
        )
    elif pay:
        print(f"payInvoice: skipped ({pay['skipped']})")
    usage = results.get("usage_ingest")
    if usage and "skipped" not in usage:
        print(
            f"usage_ingest (PostgreSQL, one gateway): {usage['events_per_s']} events/s in "
            f"batches of {usage['batch_size']}, p50 {usage['batch_p50_ms']:.0f} ms / "
            f"p99 {usage['batch_p99_ms']:.0f} ms per batch"
        )
    elif usage:
        print(f"usage_ingest: skipped ({usage['skipped']})")
    scaling = results.get("scaling")
    if scaling and "skipped" not in scaling:
        one, two = scaling["processes"]["1"], scaling["processes"]["2"]
        print(
            f"scale-out (PostgreSQL, billing page): CPU per request 2 processes / 1 = "
            f"{scaling['cpu_per_request_2_over_1']} ({two['cpu_ms']:.2f} vs {one['cpu_ms']:.2f} "
            f"ms, gateway + PostgreSQL), throughput {two['rps']:.0f} vs {one['rps']:.0f} rps"
        )
    events = results.get("events")
    if events and "skipped" not in events:
        print(
            f"events (PostgreSQL, {events['processes']} gateways, {events['subscribers']} "
            f"subscribers): commit to subscriber p50 {events['latency_p50_ms']:.0f} ms / "
            f"p99 {events['latency_p99_ms']:.0f} ms, {events['lost']} lost; "
            f"{events['streams']} idle streams: RSS {events['rss_mb_idle']:.0f} -> "
            f"{events['rss_mb_with_streams']:.0f} MB ({events['kb_per_stream']:.0f} KB each)"
        )
    elif events:
        print(f"events: skipped ({events['skipped']})")
    print(f"serve process RSS after the run: {results['rss_mb']:.0f} MB\n")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "nproc": os.cpu_count(), "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per load run")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--skip-pay", action="store_true")
    parser.add_argument("--skip-usage", action="store_true")
    parser.add_argument("--skip-events", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/bench")
    args = parser.parse_args()
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine(), "settings": vars(args)}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite://{workdir / 'bench.sqlite3'}"
        print("seeding and counting statements ...", flush=True)
        keys, counts = asyncio.run(seed_and_count(url))
        results["sql_per_request"] = counts
        print("GraphQL vs raw, alternating ...", flush=True)
        results["graphql_vs_raw"], results["persisted_queries"], results["rss_mb"] = compare(
            url, keys, args, workdir
        )
        if args.skip_pay:
            results["pay_invoice"] = {"skipped": "--skip-pay"}
        else:
            print("payInvoice on PostgreSQL against localstripe ...", flush=True)
            results["pay_invoice"] = pay_bench(args.postgres_url, workdir)
        if args.skip_usage:
            results["usage_ingest"] = {"skipped": "--skip-usage"}
        else:
            print("POST /usage/events on PostgreSQL, batches of 1,000 ...", flush=True)
            results["usage_ingest"] = usage_bench(args.postgres_url, workdir)
        if args.skip_scaling:
            results["scaling"] = {"skipped": "--skip-scaling"}
        else:
            print("scale-out on PostgreSQL: 1 vs 2 serve processes ...", flush=True)
            results["scaling"] = scaling_bench(args.postgres_url, workdir)
        if args.skip_events:
            results["events"] = {"skipped": "--skip-events"}
        else:
            print("billing events on PostgreSQL: latency and idle streams ...", flush=True)
            results["events"] = events_bench(args.postgres_url, workdir)
    results["documents"] = documents_figures()
    results["seconds"] = round(time.monotonic() - started, 1)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"wrote {RESULTS.relative_to(ROOT)} in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
