"""Invoice PDF benchmark: cold, warm and stored latency, pool throughput, and GraphQL p99
while documents render, all in one run.

    make bench-documents                      # or: .venv/bin/python bench/documents.py
    .venv/bin/python bench/documents.py --workers 4 --queries 400

Everything runs in this process against a throw-away SQLite database, through the
real app (httpx's ASGI transport): the GraphQL queries and the PDF downloads share
one event loop, as they do in a gateway process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from gateway.app import create_app  # noqa: E402
from gateway.db import close_db, init_db, migrate  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from models import (  # noqa: E402
    Account,
    ApiKeyRole,
    Document,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    PaymentStatus,
)
from services.auth import create_api_key  # noqa: E402
from services.clock import FixedClock  # noqa: E402
from services.context import ServiceContext  # noqa: E402
from services.documents.content import DocumentKind, RenderJob  # noqa: E402
from services.documents.pool import RenderPool  # noqa: E402
from services.invoices import issue_invoice  # noqa: E402

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
QUERY = "{ viewer { account { name tier } } }"
COLD = """
import pickle, sys
from services.documents.render import render_pdf
sys.stdout.write(str(len(render_pdf(pickle.load(open(sys.argv[1], "rb"))))))
"""


class _NoProvider:
    """The benchmark never reaches the payment provider."""

    name = "none"
    publishable_key = ""
    js_url = ""

    async def close(self) -> None:
        return None


class InlineRenderer:
    """Renders on the event loop: the mistake the process pool exists to avoid."""

    async def render(self, job: RenderJob) -> bytes:
        from services.documents.render import render_pdf

        return render_pdf(job)


def ms(seconds: float) -> float:
    return seconds * 1000


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def seed(count: int) -> tuple[Account, list[Invoice]]:
    account = await Account.create(
        name="Bench Corp",
        email="bench@example.test",
        billing_name="Bench Corp",
        address_line1="1 Market Street",
        address_city="San Francisco",
        address_state="CA",
        address_postal_code="94105",
        address_country="US",
        tax_id="US12-3456789",
        created_at=NOW - timedelta(days=400),
    )
    card = await PaymentMethod.create(
        account=account,
        provider_id="pm_bench",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
        status=PaymentMethodStatus.ACTIVE,
        is_default=True,
        created_at=NOW,
    )
    invoices = []
    for n in range(count):
        start = NOW - timedelta(days=30 * (count - n))
        draft = await Invoice.create(
            account=account,
            currency="USD",
            period_start=start,
            period_end=start + timedelta(days=30),
            subtotal=3900,
            total=3900,
            created_at=start,
        )
        await InvoiceLine.create(
            invoice=draft,
            position=0,
            description="Plus (monthly)",
            quantity=1,
            unit_amount=2900,
            amount=2900,
        )
        await InvoiceLine.create(
            invoice=draft,
            position=1,
            description="Extra seats",
            quantity=2,
            unit_amount=500,
            amount=1000,
        )
        invoice = await issue_invoice(draft, start, due_in=timedelta(days=14))
        await Invoice.filter(id=invoice.id).update(
            status=InvoiceStatus.PAID, amount_paid=3900, paid_at=start + timedelta(minutes=5)
        )
        await Payment.create(
            account=account,
            invoice=invoice,
            payment_method=card,
            amount=3900,
            currency="USD",
            status=PaymentStatus.SUCCEEDED,
            provider_idempotency_key=f"bench-{n}",
            created_at=start,
            updated_at=start,
            settled_at=start + timedelta(minutes=5),
        )
        invoices.append(await Invoice.get(id=invoice.id))
    return account, invoices


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def query_latencies(
    http: httpx.AsyncClient, key: str, until: int | Callable[[], bool]
) -> list[float]:
    """Sequential queries: `until` many, or until `until()` is true."""
    headers = {"Authorization": f"Bearer {key}"}
    samples: list[float] = []
    while not (until() if callable(until) else len(samples) >= until):
        start = time.perf_counter()
        response = await http.post("/graphql", json={"query": QUERY}, headers=headers)
        samples.append(ms(time.perf_counter() - start))
        assert response.status_code == 200 and "errors" not in response.json(), response.text
    return samples


async def graphql_under_load(
    app_http: httpx.AsyncClient, key: str, urls: list[str], min_queries: int
) -> tuple[list[float], float]:
    """Query latencies while all `urls` download (each renders), and the render wall time."""
    await Document.all().delete()
    done = asyncio.Event()

    async def downloads() -> None:
        responses = await asyncio.gather(*(app_http.get(u) for u in urls))
        assert all(r.status_code == 200 for r in responses), [r.status_code for r in responses]
        done.set()

    start = time.perf_counter()
    task = asyncio.create_task(downloads())
    await asyncio.sleep(0)  # the downloads are under way before the first query
    samples = await query_latencies(app_http, key, done.is_set)
    await task
    elapsed = time.perf_counter() - start
    if len(samples) < min_queries // 4:
        print(f"  (only {len(samples)} queries during the renders)", file=sys.stderr)
    return samples, elapsed


async def main(args: argparse.Namespace) -> None:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as tmp:
        url = f"sqlite://{Path(tmp) / 'bench.sqlite3'}"
        await migrate(url)
        await init_db(url)
        clock = FixedClock(NOW)
        pool = RenderPool(args.workers)
        settings = Settings(database_url=url, public_url="http://bench")
        services = ServiceContext(provider=_NoProvider(), clock=clock)  # type: ignore[arg-type]
        app = create_app(settings, services=services, manage_db=False, renderer=pool)
        try:
            account, invoices = await seed(max(args.concurrent, 24))
            key = await create_api_key(account_email=account.email, role=ApiKeyRole.ADMIN, now=NOW)
            store = app.state.document_store
            job = await store.render_job(invoices[0], DocumentKind.INVOICE)

            # Cold: a new interpreter that imports WeasyPrint and renders one invoice.
            job_file = Path(tmp) / "job.pickle"
            job_file.write_bytes(pickle.dumps(job))
            cold = []
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            for _ in range(3):
                start = time.perf_counter()
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    COLD,
                    str(job_file),
                    env=env,
                    stdout=asyncio.subprocess.PIPE,
                )
                await proc.communicate()
                assert proc.returncode == 0
                cold.append(ms(time.perf_counter() - start))
            rows.append(
                (
                    "cold: new process, import + render (median of 3)",
                    f"{statistics.median(cold):.0f} ms",
                )
            )

            # Warm: this process, WeasyPrint imported, same document again and again.
            from services.documents.render import render_pdf

            render_pdf(job)
            warm = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                render_pdf(job)
                warm.append(ms(time.perf_counter() - start))
            rows.append(
                (
                    f"warm render, in process (median of {args.repeat})",
                    f"{statistics.median(warm):.0f} ms (p95 {pct(warm, 0.95):.0f})",
                )
            )

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                links = app.state.documents
                urls = [links.invoice_url(i.id).removeprefix("http://bench") for i in invoices]
                await asyncio.gather(*(asyncio.wrap_future(f) for f in pool.warm()))

                # Stored: the HTTP download of a PDF already in the document table.
                assert (await http.get(urls[0])).status_code == 200
                stored = [ms(await timed(lambda: http.get(urls[0]))) for _ in range(args.repeat)]
                rows.append(
                    (
                        f"stored: GET of a stored PDF over HTTP (median of {args.repeat})",
                        f"{statistics.median(stored):.1f} ms",
                    )
                )

                # Throughput: the pool rendering a burst of distinct documents.
                await Document.all().delete()
                jobs = [await store.render_job(i, DocumentKind.INVOICE) for i in invoices]
                start = time.perf_counter()
                await asyncio.gather(*(pool.render(j) for j in jobs))
                rate = len(jobs) / (time.perf_counter() - start)
                rows.append(
                    (
                        f"pool throughput ({args.workers} workers, {len(jobs)} documents)",
                        f"{rate:.1f} docs/s",
                    )
                )

                # GraphQL p99: idle, then while `concurrent` downloads render.
                idle_samples = await query_latencies(http, key, args.queries)
                busy, busy_elapsed = await graphql_under_load(
                    http, key, urls[: args.concurrent], args.queries
                )
                rows.append(
                    (
                        "GraphQL query, idle: p50 / p99",
                        f"{pct(idle_samples, 0.5):.1f} / {pct(idle_samples, 0.99):.1f} ms "
                        f"(n={len(idle_samples)})",
                    )
                )
                rows.append(
                    (
                        f"GraphQL query, {args.concurrent} PDFs rendering: p50 / p99",
                        f"{pct(busy, 0.5):.1f} / {pct(busy, 0.99):.1f} ms "
                        f"(n={len(busy)}, renders took {busy_elapsed:.2f} s)",
                    )
                )

            if args.inline_contrast:
                inline_app = create_app(
                    settings, services=services, manage_db=False, renderer=InlineRenderer()
                )
                transport = httpx.ASGITransport(app=inline_app)
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                    busy, elapsed = await graphql_under_load(
                        http, key, urls[: args.concurrent], args.queries
                    )
                rows.append(
                    (
                        "  contrast: same, rendering ON the event loop: p50 / p99",
                        f"{pct(busy, 0.5):.1f} / {pct(busy, 0.99):.1f} ms "
                        f"(n={len(busy)}, renders took {elapsed:.2f} s)",
                    )
                )
        finally:
            pool.shutdown()
            await close_db()

    width = max(len(label) for label, _ in rows)
    print(f"\nInvoice PDFs — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    print(f"| {'measure'.ljust(width)} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for label, value in rows:
        print(f"| {label.ljust(width)} | {value} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=Settings().document_render_workers)
    parser.add_argument("--concurrent", type=int, default=8, help="PDFs rendering at once")
    parser.add_argument("--queries", type=int, default=300, help="idle GraphQL samples")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-inline-contrast", dest="inline_contrast", action="store_false")
    asyncio.run(main(parser.parse_args()))
