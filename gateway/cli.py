"""`billing-gateway`: demo, serve, migrate, and key management."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from gateway import db
from gateway.cli_events import add_event_commands
from gateway.cli_keys import add_key_commands
from gateway.cli_trusted import add_trusted_commands
from gateway.cli_usage import add_usage_commands
from gateway.logs import configure_logging
from gateway.settings import Settings, get_settings

log = logging.getLogger("gateway.cli")


def _configure_logging(settings: Settings) -> None:
    configure_logging(settings)  # structlog; JSON lines in production


async def _with_db(settings: Settings, body: object) -> None:
    await db.init_db(db.settings_url(settings))
    try:
        await body  # type: ignore[misc]
    finally:
        await db.close_db()


def _settings_refused(settings: Settings) -> bool:
    """Print one line and refuse when production still runs on a public default secret."""
    from gateway.app import trusted_documents
    from gateway.security import check_production_settings

    try:
        check_production_settings(settings)
        trusted_documents(settings)  # a manifest whose ids are not its bodies' hashes
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return True
    return False


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    applied = asyncio.run(db.migrate(db.settings_url(settings)))
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def cmd_makemigrations(args: argparse.Namespace, settings: Settings) -> int:
    written = asyncio.run(db.makemigrations(args.name, empty=args.empty))
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("no model changes")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if _settings_refused(settings):
        return 2
    asyncio.run(db.migrate(db.settings_url(settings)))
    uvicorn.run(
        "gateway.asgi:app_factory",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        # uvloop and httptools (dependencies; the fallbacks are for odd platforms): less
        # per-request overhead in the event loop and the HTTP parser.
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        access_log=settings.access_log,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        # Event streams (SSE, WebSocket) never finish by themselves: a stop ends them after
        # this long; clients resubscribe `after` their last cursor on another process.
        timeout_graceful_shutdown=10,
    )
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Runs until SIGINT, SIGTERM or SIGHUP, which stop everything it started; a port
    already taken is one line on stderr and exit 1."""
    from gateway.demo_server import DemoStartError, run_demo
    from gateway.sandbox import SandboxError

    try:
        return asyncio.run(
            run_demo(
                settings,
                host=args.host,
                port=args.port,
                sandbox_port=args.sandbox_port,
                data_dir=Path(args.data_dir),
                database_url_from_env="BILLING_DATABASE_URL" in os.environ,
            )
        )
    except (DemoStartError, SandboxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.app import build_services
    from gateway.worker import run_worker, smtp_config

    if _settings_refused(settings):
        return 2

    async def run() -> None:
        await db.init_db(db.settings_url(settings))
        services = build_services(settings)
        if settings.worker_metrics_port and not args.once:
            from gateway import metrics

            metrics.start_worker_metrics(settings.worker_metrics_port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        try:
            if args.once:
                from gateway.worker import tick

                print(await tick(services, smtp_config(settings)))
            else:
                await run_worker(
                    services, smtp_config(settings), settings.worker_interval_seconds, stop
                )
        finally:
            await services.provider.close()
            await db.close_db()

    asyncio.run(run())
    return 0


def cmd_clock(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from gateway.demo_server import CLOCK_FILE
    from services.clock import OffsetClock

    if settings.environment == "production":
        print("error: the clock only moves in the demo; production uses real time", file=sys.stderr)
        return 2
    data_dir = Path(args.data_dir)
    if not (data_dir / "demo-credentials.json").exists():
        print(f"error: no demo in {data_dir} (run `billing-gateway demo` first)", file=sys.stderr)
        return 2
    clock = OffsetClock(data_dir / CLOCK_FILE)
    if args.action == "advance":
        now = clock.advance(timedelta(days=args.days, hours=args.hours))
        print(f"demo clock is now {now:%Y-%m-%d %H:%M} UTC; the worker acts within seconds")
    else:
        print(f"demo clock: {clock.now():%Y-%m-%d %H:%M} UTC (offset {clock.offset()})")
    return 0


def cmd_render_documents(args: argparse.Namespace, settings: Settings) -> int:
    """Pre-render invoice and receipt PDFs (backfills): all of them, or only the missing."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from gateway.documents import render_options
    from services.clock import SystemClock
    from services.documents.content import DocumentKind
    from services.documents.pool import RenderPool
    from services.documents.store import DocumentStore, backfill_targets
    from services.errors import BillingError

    pool = RenderPool(settings.document_render_workers)
    store = DocumentStore(pool, render_options(settings), SystemClock())
    counts = {"rendered": 0, "skipped": 0, "failed": 0}

    async def run() -> None:
        await db.init_db(db.settings_url(settings))
        try:
            targets = await backfill_targets(args.account)
            gate = asyncio.Semaphore(2 * pool.workers)  # keeps every worker busy
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            ) as progress:
                task = progress.add_task("rendering documents", total=len(targets))

                async def one(invoice_id: int, kind: DocumentKind) -> None:
                    async with gate:
                        try:
                            if args.missing_only and await store.is_stored(invoice_id, kind):
                                counts["skipped"] += 1
                            elif args.missing_only:
                                await store.get(invoice_id, kind)
                                counts["rendered"] += 1
                            else:
                                await store.rerender(invoice_id, kind)
                                counts["rendered"] += 1
                        except Exception:
                            log.exception("%s for invoice %s failed", kind, invoice_id)
                            counts["failed"] += 1
                        progress.advance(task)

                await asyncio.gather(*(one(i, kind) for i, kind in targets))
        finally:
            await db.close_db()

    try:
        asyncio.run(run())
    except BillingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        pool.shutdown()
    print(
        f"{counts['rendered']} rendered, {counts['skipped']} already stored, "
        f"{counts['failed']} failed"
    )
    return 1 if counts["failed"] else 0


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when our books and the provider's agree, 1 on drift (for cron and CI)."""
    from datetime import UTC, datetime

    from gateway.app import build_services
    from services.drift import find_drift

    since = datetime.fromisoformat(args.since).replace(tzinfo=UTC) if args.since else None

    async def run() -> list[object]:
        await db.init_db(db.settings_url(settings))
        services = build_services(settings)
        try:
            return list(await find_drift(services.provider, since=since))
        finally:
            await services.provider.close()
            await db.close_db()

    drift = asyncio.run(run())
    if not drift:
        print(
            "no drift: every provider charge matches a payment"
            + (f" since {since:%Y-%m-%d}" if since else "")
        )
        return 0
    print(f"{len(drift)} drift item(s):")
    print(f"{'kind':<16} {'invoice':>8} {'payment':>8}  {'provider id':<28} detail")
    for item in drift:
        d = vars(item)
        print(
            f"{d['kind']:<16} {d['invoice_id'] or '-':>8} {d['payment_id'] or '-':>8}  "
            f"{d['provider_id'] or '-':<28} {d['detail']}"
        )
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billing-gateway", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the gateway with demo data on the sandbox provider")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--sandbox-port", type=int, default=8420)
    demo.add_argument("--data-dir", default="var/demo")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser(
        "serve", help="migrate, then serve the gateway (settings from BILLING_*)"
    )
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="default: BILLING_WORKERS (1)")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    rec = sub.add_parser("reconcile", help="compare provider charges with our payments")
    rec.add_argument("--since", metavar="DATE", help="only charges created since (YYYY-MM-DD)")
    rec.set_defaults(func=cmd_reconcile)

    worker = sub.add_parser("worker", help="renewals, dunning retries, reconciliation, email")
    worker.add_argument("--once", action="store_true", help="run one pass and exit")
    worker.set_defaults(func=cmd_worker)

    clock = sub.add_parser("clock", help="show or move the demo's clock (demo only)")
    clock.add_argument("action", choices=["advance", "show"])
    clock.add_argument("--days", type=int, default=0)
    clock.add_argument("--hours", type=int, default=0)
    clock.add_argument("--data-dir", default="var/demo")
    clock.set_defaults(func=cmd_clock)

    docs = sub.add_parser(
        "render-documents", help="pre-render invoice and receipt PDFs (backfills)"
    )
    docs.add_argument("--account", metavar="EMAIL", help="only this account's documents")
    docs.add_argument("--missing-only", action="store_true", help="skip documents already stored")
    docs.set_defaults(func=cmd_render_documents)

    mk = sub.add_parser("makemigrations", help="write a migration for model changes (developers)")
    mk.add_argument("--name")
    mk.add_argument("--empty", action="store_true")
    mk.set_defaults(func=cmd_makemigrations)

    add_key_commands(sub)
    add_usage_commands(sub)
    add_event_commands(sub)
    add_trusted_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    _configure_logging(settings)
    result: int = args.func(args, settings)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
