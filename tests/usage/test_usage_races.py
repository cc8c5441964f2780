"""Races that only show on PostgreSQL: concurrent batches, duplicates, threshold crossings."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from models import Notification, OutboxMessage, UsageEvent
from services.context import ServiceContext
from services.usage import MICROS
from services.usage.rating import OverageState
from services.usage.reading import allowances_by_plan
from services.usage.thresholds import Crossing, fire_crossings
from tests.conftest import NOW
from tests.usage.helpers import event, event_sum, metered_account, report, used

pytestmark = pytest.mark.postgres


async def test_twenty_reports_crossing_a_threshold_fire_it_once(services: ServiceContext) -> None:
    account, _ = await metered_account()
    await report(services, event(account, "base", "790"))

    results = await asyncio.gather(
        *[report(services, event(account, f"race-{n}", "1")) for n in range(20)]
    )

    assert all(r[0].status == "ACCEPTED" for r in results)
    assert await used(account) == 810
    notes = await Notification.filter(account_id=account.id)
    assert [(n.kind.value, n.threshold) for n in notes] == [("USAGE_THRESHOLD", 80)]
    assert await OutboxMessage.filter(account_id=account.id).count() == 1


async def test_racing_copies_of_one_event_count_once(services: ServiceContext) -> None:
    account, _ = await metered_account()

    results = await asyncio.gather(
        *[report(services, event(account, "same", "3")) for _ in range(20)]
    )

    statuses = sorted(r[0].status for r in results)
    assert statuses == ["ACCEPTED"] + ["DUPLICATE"] * 19
    assert await used(account) == 3
    assert await UsageEvent.filter(account_id=account.id).count() == 1


async def test_concurrent_batches_over_several_accounts_keep_totals_exact(
    services: ServiceContext,
) -> None:
    """Batches touching the same accounts in different orders: no deadlock, no lost update."""
    accounts = [(await metered_account(f"a{n}@example.test"))[0] for n in range(4)]

    async def batch(n: int) -> None:
        order = accounts if n % 2 else list(reversed(accounts))
        await report(services, *[event(a, f"b{n}-{a.id}", "1.5") for a in order])

    await asyncio.gather(*[batch(n) for n in range(16)])

    for account in accounts:
        assert await used(account) == 24
        assert await event_sum(account) == 24


async def test_the_unique_key_fires_a_threshold_once_whatever_the_callers_believe(
    services: ServiceContext,
) -> None:
    """The arithmetic aside: 20 transactions that all claim the same crossing insert one
    notification and queue one email (the database's unique key decides)."""
    account, sub = await metered_account()
    (allowance,) = (await allowances_by_plan([sub.plan_id]))[sub.plan_id]
    crossing = Crossing(
        account_id=account.id,
        allowance=allowance,
        period_start=sub.current_period_start,
        old_micros=790 * MICROS,
        new_micros=810 * MICROS,
        old_overage_micros=0,
        new_overage_micros=0,
        overage=OverageState(available=True, enabled=False, cap=None),
    )

    async def claim() -> None:
        async with in_transaction() as conn:
            await fire_crossings(services, conn, [crossing], {account.id: account}, NOW)

    await asyncio.gather(*[claim() for _ in range(20)])

    assert await Notification.filter(account_id=account.id).count() == 1
    assert await OutboxMessage.filter(account_id=account.id).count() == 1
