"""In process, the same queries through graphql-core's own execution and through
schema/executor.py's short paths, beside the hand-written endpoint: CPU ms per request,
medians of interleaved rounds (httpx ASGITransport, SQLite; the client's cost is in
every figure alike).

    .venv/bin/python bench/executor_ab.py [--accounts 10] [--rounds 5] [--requests 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext  # noqa: E402

import schema as schema_package  # noqa: E402
from bench.queries import BILLING_PAGE, PARTNER  # noqa: E402
from bench.raw_app import app_factory  # noqa: E402
from bench.run import _NoProvider  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.db import close_db, init_db, migrate  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from models import ApiKeyRole  # noqa: E402
from schema.executor import PlainFieldsExecutor  # noqa: E402
from services.auth import create_api_key, create_partner_key  # noqa: E402
from services.clock import SystemClock  # noqa: E402
from services.context import ServiceContext  # noqa: E402
from tests.bulk import billed_accounts  # noqa: E402

EXECUTORS = {"graphql-core": StrawberryGraphQLCoreExecutionContext, "short": PlainFieldsExecutor}


async def _cpu_ms(client: httpx.AsyncClient, path: str, body: Any, key: str, n: int) -> float:
    headers = {"Authorization": f"Bearer {key}"}
    start = time.process_time()
    for _ in range(n):
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 200, response.text[:300]
    return (time.process_time() - start) / n * 1000


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        url = f"sqlite://{Path(tmp) / 'ab.sqlite3'}"
        await migrate(url)
        await init_db(url)
        try:
            now = SystemClock().now()
            accounts = await billed_accounts(args.accounts, invoices=12, now=now, prefix="ab")
            emails = [a.email for a in accounts]
            viewer = await create_api_key(account_email=emails[0], role=ApiKeyRole.VIEWER, now=now)
            partner = await create_partner_key(account_emails=emails, now=now)
            services = ServiceContext(provider=_NoProvider(), clock=SystemClock())  # type: ignore[arg-type]
            settings = Settings(database_url=url, max_query_cost=10_000_000)
            gateway = create_app(settings, services=services, manage_db=False, renderer=object())
            cases = {
                "billing page": (viewer, BILLING_PAGE, "/raw/billing-page"),
                f"partner, {args.accounts} accounts": (partner, PARTNER, "/raw/partner"),
            }
            g = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://g")
            r = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app_factory()), base_url="http://r"
            )
            async with g, r:
                for case, (key, query, raw_path) in cases.items():
                    samples: dict[str, list[float]] = {name: [] for name in [*EXECUTORS, "raw"]}
                    for round_ in range(args.rounds):
                        order = list(samples) if round_ % 2 == 0 else list(samples)[::-1]
                        for name in order:
                            if name == "raw":
                                ms = await _cpu_ms(r, raw_path, {}, key, args.requests)
                            else:
                                schema_package.schema.execution_context_class = EXECUTORS[name]
                                ms = await _cpu_ms(
                                    g, "/graphql", {"query": query}, key, args.requests
                                )
                            samples[name].append(ms)
                    schema_package.schema.execution_context_class = PlainFieldsExecutor
                    med = {name: statistics.median(v) for name, v in samples.items()}
                    print(
                        f"{case}: "
                        + ", ".join(f"{n} {m:.2f} ms" for n, m in med.items())
                        + " | over raw: "
                        + ", ".join(f"{n} {med[n] / med['raw']:.2f}" for n in EXECUTORS)
                    )
        finally:
            await close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
