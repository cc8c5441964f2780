"""Races that only show on PostgreSQL: concurrent batches, duplicates, threshold crossings."""

from __future__ import annotations

import asyncio

import pytest

from models import Notification, OutboxMessage, UsageEvent
from services.context import ServiceContext
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
