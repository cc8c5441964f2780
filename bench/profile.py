"""Profile one benchmark query in process with pyinstrument (the servers of bench/run.py
are separate processes; `py-spy record --pid` works on those).

    .venv/bin/python bench/profile.py partner --requests 50 [--html out.html]
    .venv/bin/python bench/profile.py billing --raw      # the hand-written baseline
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

from bench.queries import BILLING_PAGE, PARTNER  # noqa: E402
from bench.run import _NoProvider  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.db import close_db, init_db, migrate  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from models import ApiKeyRole  # noqa: E402
from services.auth import create_api_key, create_partner_key  # noqa: E402
from services.clock import SystemClock  # noqa: E402
from services.context import ServiceContext  # noqa: E402
from tests.bulk import billed_accounts  # noqa: E402
from tests.sql_counter import count_statements  # noqa: E402


async def main(args: argparse.Namespace) -> Profiler:
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        url = f"sqlite://{Path(tmp) / 'p.sqlite3'}"
        await migrate(url)
        await init_db(url)
        try:
            now = SystemClock().now()
            accounts = await billed_accounts(10, invoices=14, now=now, prefix="prof")
            emails = [a.email for a in accounts]
            if args.query == "billing":
                key = await create_api_key(account_email=emails[0], role=ApiKeyRole.VIEWER, now=now)
                path, body = (
                    ("/raw/billing-page", {}) if args.raw else ("/graphql", {"query": BILLING_PAGE})
                )
            else:
                key = await create_partner_key(account_emails=emails, now=now)
                path, body = ("/raw/partner", {}) if args.raw else ("/graphql", {"query": PARTNER})
            if args.raw:
                from bench.raw_app import app_factory

                app = app_factory()
            else:
                provider: Any = _NoProvider()
                services = ServiceContext(provider=provider, clock=SystemClock())
                settings = Settings(database_url=url, max_query_cost=10_000_000)
                renderer: Any = object()
                app = create_app(settings, services=services, manage_db=False, renderer=renderer)
            headers = {"Authorization": f"Bearer {key}"}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://p") as http:
                with count_statements() as statements:
                    first = await http.post(path, json=body, headers=headers)
                assert first.status_code == 200, first.text
                print(f"{len(statements)} statements:")
                for s in statements:
                    print("   ", s[:160])
                profiler = Profiler(interval=0.0005, async_mode="enabled")
                start = time.perf_counter()
                with profiler:
                    for _ in range(args.requests):
                        await http.post(path, json=body, headers=headers)
                per = (time.perf_counter() - start) / args.requests * 1000
        finally:
            await close_db()
    print(f"{per:.2f} ms per request (in process, profiled)")
    return profiler


def report(profiler: Profiler, html: str | None) -> None:
    if html:
        Path(html).write_text(profiler.output_html())
    else:
        print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("query", choices=["billing", "partner"])
    parser.add_argument("--raw", action="store_true")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--html")
    arguments = parser.parse_args()
    report(asyncio.run(main(arguments)), arguments.html)
