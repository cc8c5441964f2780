"""`billing-gateway usage report`: record usage by hand, e.g. to watch a threshold fire.

    billing-gateway usage report --account plus@demo.test --meter credits --quantity 100

With a demo in `--data-dir` (default var/demo) and no BILLING_DATABASE_URL, it writes to
the demo's database on the demo's clock; otherwise to BILLING_DATABASE_URL. It goes
through the same service as `POST /usage/events`, as a service caller.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from gateway import db
from gateway.settings import Settings


def cmd_usage_report(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.demo_server import CLOCK_FILE
    from models import Account, ApiKeyRole
    from services.auth import Principal
    from services.clock import Clock, OffsetClock, SystemClock
    from services.context import ServiceContext
    from services.errors import BillingError
    from services.usage.ingest import EventIn, report_usage
    from services.usage.reading import usage_of

    data_dir = Path(args.data_dir)
    demo = (data_dir / "demo-credentials.json").exists() and (
        "BILLING_DATABASE_URL" not in os.environ
    )
    database_url = f"sqlite://{data_dir / 'demo.sqlite3'}" if demo else settings.database_url
    clock: Clock = OffsetClock(data_dir / CLOCK_FILE) if demo else SystemClock()
    # Reporting usage never calls the payment provider.
    ctx = ServiceContext(provider=_NoProvider(), clock=clock)  # type: ignore[arg-type]
    service = Principal(role=ApiKeyRole.SERVICE, account_ids=frozenset(), caller="cli")

    async def run() -> int:
        await db.init_db(database_url)
        try:
            account = await Account.get_or_none(email=args.account)
            if account is None:
                print(f"error: no account with email {args.account!r}", file=sys.stderr)
                return 1
            event = EventIn(
                account_id=account.id,
                id=args.id or f"cli-{uuid.uuid4().hex}",
                meter=args.meter,
                quantity=args.quantity,
            )
            (result,) = await report_usage(ctx, service, [event])
            print(
                f"{result.id}: {result.status}" + (f" ({result.reason})" if result.reason else "")
            )
            usage = await usage_of(account)
            for meter in [] if usage is None else usage.meters:
                a = meter.allowance
                print(
                    f"{a.meter_code}: {meter.used_micros / 1e6:,.2f} of "
                    f"{a.included_micros / 1e6:,.0f} ({meter.percent_used:.1f} %), "
                    f"allowed: {'yes' if meter.allowed else 'no'}"
                )
            return 0 if result.status != "REJECTED" else 1
        except BillingError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        finally:
            await db.close_db()

    return asyncio.run(run())


class _NoProvider:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"usage reporting does not call the provider ({name})")


def add_usage_commands(sub: Any) -> None:
    usage = sub.add_parser("usage", help="report usage by hand (e.g. in the demo)")
    actions = usage.add_subparsers(dest="usage_command", required=True)
    report = actions.add_parser("report", help="record one usage event for an account")
    report.add_argument("--account", required=True, metavar="EMAIL")
    report.add_argument("--meter", default="credits")
    report.add_argument("--quantity", required=True, help="a decimal, e.g. 100 or 0.5")
    report.add_argument("--id", help="the event id (default: a random one)")
    report.add_argument("--data-dir", default="var/demo")
    report.set_defaults(func=cmd_usage_report)
