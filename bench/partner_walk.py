"""A partner walking 1,000 accounts page by page (100 a page, the bench's partner query
with a cursor), in process on SQLite: accounts/s and p50 per page.

    .venv/bin/python bench/partner_walk.py [--accounts 1000] [--walks 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.queries import PARTNER  # noqa: E402
from bench.run import _NoProvider  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.db import close_db, init_db, migrate  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from services.auth import create_partner_key  # noqa: E402
from services.clock import SystemClock  # noqa: E402
from services.context import ServiceContext  # noqa: E402
from tests.bulk import billed_accounts  # noqa: E402

#: The bench's partner query, paged: `accounts(first: 100, after: $after)`.
WALK = (
    PARTNER.replace("query Partner {", "query Walk($after: String) {")
    .replace("accounts(first: 100)", "accounts(first: 100, after: $after)")
    .replace(
        "      nodes {\n        id name",
        "      pageInfo { hasNextPage endCursor }\n      nodes {\n        id name",
        1,
    )
)


async def walk(accounts: int, walks: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="walk-") as tmp:
        url = f"sqlite://{tmp}/walk.sqlite3"
        await migrate(url)
        await init_db(url)
        try:
            now = SystemClock().now()
            seeded = await billed_accounts(accounts, invoices=14, now=now, prefix="walk")
            key = await create_partner_key(account_emails=[a.email for a in seeded], now=now)
            services: Any = ServiceContext(provider=_NoProvider(), clock=SystemClock())  # type: ignore[arg-type]
            settings = Settings(
                database_url=url,
                max_query_cost=10_000_000,
                rate_limit_per_key=10**9,
                rate_limit_per_address=10**9,
            )
            app = create_app(settings, services=services, manage_db=False, renderer=object())
            transport = httpx.ASGITransport(app=app)
            rates, pages = [], []
            async with httpx.AsyncClient(transport=transport, base_url="http://walk") as http:
                for _ in range(walks):
                    after, seen, started = None, 0, time.perf_counter()
                    while True:
                        page_started = time.perf_counter()
                        response = await http.post(
                            "/graphql",
                            json={"query": WALK, "variables": {"after": after}},
                            headers={"Authorization": f"Bearer {key}"},
                        )
                        pages.append((time.perf_counter() - page_started) * 1000)
                        body = response.json()
                        assert "errors" not in body, body["errors"]
                        conn = body["data"]["viewer"]["accounts"]
                        seen += len(conn["nodes"])
                        if not conn["pageInfo"]["hasNextPage"]:
                            break
                        after = conn["pageInfo"]["endCursor"]
                    assert seen == accounts
                    rates.append(seen / (time.perf_counter() - started))
            return {
                "accounts": accounts,
                "page_size": 100,
                "accounts_per_s": round(statistics.median(rates), 1),
                "runs_accounts_per_s": [round(r, 1) for r in rates],
                "page_p50_ms": round(statistics.median(pages), 1),
            }
        finally:
            await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--walks", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(walk(args.accounts, args.walks))))


if __name__ == "__main__":
    main()
