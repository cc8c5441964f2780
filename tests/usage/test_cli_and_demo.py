"""`billing-gateway usage report` and the demo's usage: run as a person would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gateway.sandbox import Sandbox
from models import Account, ApiKeyRole, Notification, OutboxMessage
from services.auth import authenticate
from services.context import ServiceContext
from services.usage import MICROS
from services.usage.reading import usage_of
from tests.conftest import NOW
from tests.factories import make_account

SEED = """
import asyncio
from datetime import UTC, datetime, timedelta
from gateway.db import db_context, migrate
from gateway.demo import seed_allowances
from models import Account, Plan, PlanTier, Subscription, SubscriptionStatus

async def main(url):
    await migrate(url)
    async with db_context(url):
        now = datetime.now(UTC)
        plan = await Plan.create(
            code="plus-monthly", name="Plus", tier=PlanTier.PLUS, price_amount=2900
        )
        await seed_allowances({"plus-monthly": plan})
        account = await Account.create(
            name="P", email="plus@demo.test", tier=PlanTier.PLUS, created_at=now
        )
        await Subscription.create(
            account=account, plan=plan, status=SubscriptionStatus.ACTIVE,
            current_period_start=now - timedelta(days=1),
            current_period_end=now + timedelta(days=29), created_at=now,
        )

import sys
asyncio.run(main(sys.argv[1]))
"""


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [sys.executable, "-m", "gateway.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_usage_report_records_an_event_and_shows_the_meter(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    env = {**os.environ, "BILLING_DATABASE_URL": url}
    seed = [sys.executable, "-c", SEED, url]
    subprocess.run(seed, check=True, env=env, timeout=120)  # noqa: S603

    done = _cli(
        "usage",
        "report",
        "--account",
        "plus@demo.test",
        "--meter",
        "credits",
        "--quantity",
        "850",
        "--id",
        "cli-1",
        "--data-dir",
        str(tmp_path),
        env=env,
    )
    again = _cli(
        "usage",
        "report",
        "--account",
        "plus@demo.test",
        "--quantity",
        "850",
        "--id",
        "cli-1",
        "--data-dir",
        str(tmp_path),
        env=env,
    )
    bad = _cli(
        "usage",
        "report",
        "--account",
        "plus@demo.test",
        "--quantity",
        "-1",
        "--data-dir",
        str(tmp_path),
        env=env,
    )

    assert done.returncode == 0, done.stderr
    assert "cli-1: ACCEPTED" in done.stdout
    assert "credits: 850.00 of 1,000 (85.0 %), allowed: yes" in done.stdout
    assert "cli-1: DUPLICATE" in again.stdout and "850.00 of 1,000" in again.stdout
    assert bad.returncode == 1 and "REJECTED (quantity is negative)" in bad.stdout


async def test_demo_credentials_carry_a_service_key(db: str, tmp_path: Path) -> None:
    from gateway.demo import DEMO_EMAILS, write_credentials

    for email in DEMO_EMAILS:
        await make_account(email)

    data = await write_credentials(tmp_path / "demo-credentials.json", NOW)

    principal = await authenticate(f"Bearer {data['service']}", now=NOW)
    assert principal.role is ApiKeyRole.SERVICE and principal.account_ids == frozenset()
    on_disk = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert on_disk["service"] == data["service"]


async def test_the_demo_seeds_usage(services: ServiceContext, sandbox: Sandbox) -> None:
    from gateway.demo import seed_if_absent

    assert await seed_if_absent(services, sandbox.api_base, sandbox.secret_key)

    plus = await usage_of(await Account.get(email="plus@demo.test"))
    free = await usage_of(await Account.get(email="free@demo.test"))
    assert plus is not None and free is not None
    assert (plus.meters[0].used_micros, plus.meters[0].allowed) == (850 * MICROS, True)
    assert (free.meters[0].used_micros, free.meters[0].allowed) == (50 * MICROS, False)
    plus_notes = await Notification.filter(account__email="plus@demo.test")
    assert [(n.kind.value, n.threshold) for n in plus_notes] == [("USAGE_THRESHOLD", 80)]
    assert await OutboxMessage.filter(template="usage_notification").count() == 4  # 80 + 3 free
