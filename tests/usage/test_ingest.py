"""Usage ingestion: each event ACCEPTED, DUPLICATE or REJECTED; totals kept with the insert."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from models import ApiKeyRole, PlanTier, Subscription, UsageEvent, UsagePeriodTotal
from services.auth import Principal
from services.context import ServiceContext
from services.errors import InvalidInput, PermissionDenied
from services.usage.ingest import EventIn, report_usage
from tests.conftest import NOW
from tests.usage.helpers import event, event_sum, metered_account, report, used


async def test_accepts_and_sums_decimal_quantities(services: ServiceContext) -> None:
    account, _ = await metered_account()

    results = await report(
        services, event(account, "e1", "0.1"), event(account, "e2", "0.2"), event(account, "e3", 12)
    )

    assert [(r.id, r.status, r.reason) for r in results] == [
        ("e1", "ACCEPTED", None),
        ("e2", "ACCEPTED", None),
        ("e3", "ACCEPTED", None),
    ]
    assert await used(account) == Decimal("12.3")  # exact: no float drift
    assert await event_sum(account) == Decimal("12.3")


async def test_a_repeated_id_is_a_duplicate_counted_once(services: ServiceContext) -> None:
    account, _ = await metered_account()
    await report(services, event(account, "e1", "5"))

    results = await report(
        services, event(account, "e1", "5"), event(account, "e2", "1"), event(account, "e2", "1")
    )

    assert [r.status for r in results] == ["DUPLICATE", "ACCEPTED", "DUPLICATE"]
    assert await used(account) == 6
    assert await UsageEvent.filter(account_id=account.id).count() == 2


async def test_the_same_id_on_two_accounts_is_two_events(services: ServiceContext) -> None:
    a, _ = await metered_account("a@example.test")
    b, _ = await metered_account("b@example.test")

    results = await report(services, event(a, "same", "1"), event(b, "same", "2"))

    assert [r.status for r in results] == ["ACCEPTED", "ACCEPTED"]
    assert (await used(a), await used(b)) == (1, 2)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"quantity": "-1"}, "quantity is negative"),
        ({"quantity": "abc"}, "quantity is not a number"),
        ({"quantity": "NaN"}, "quantity is not a number"),
        ({"quantity": None}, "quantity is not a number"),
        ({"quantity": True}, "quantity is not a number"),
        ({"quantity": "0.0000001"}, "quantity has more than six decimal places"),
        ({"quantity": "1e9"}, "quantity is too large"),
        ({"id": 42}, "id must be a string"),
        ({"meter": "tokens"}, "unknown meter 'tokens'"),
        ({"id": "x" * 256}, "id is longer than 255 characters"),
        ({"id": ""}, "id is required"),
        ({"timestamp": NOW + timedelta(minutes=5, seconds=1)}, "more than 5 minutes"),
        ({"timestamp": NOW - timedelta(days=11)}, "already invoiced"),
        ({"timestamp": NOW - timedelta(days=91)}, "timestamp is before the subscription started"),
    ],
)
async def test_bad_events_are_rejected_and_change_no_total(
    services: ServiceContext, kwargs: dict[str, object], reason: str
) -> None:
    account, _ = await metered_account()
    await report(services, event(account, "before", "3"))
    fields: dict[str, object] = {"id": "bad", "quantity": "1", "meter": "credits", **kwargs}

    results = await report(
        services,
        EventIn(account_id=account.id, **fields),  # type: ignore[arg-type]
        event(account, "good", "2"),
    )

    assert results[0].status == "REJECTED"
    assert results[0].reason is not None and reason in results[0].reason
    assert results[1].status == "ACCEPTED"  # the rest of the batch still counts
    assert await used(account) == 5
    assert await UsageEvent.filter(account_id=account.id).count() == 2


async def test_within_five_minutes_ahead_is_accepted(services: ServiceContext) -> None:
    account, _ = await metered_account()

    results = await report(
        services, event(account, "soon", "1", timestamp=NOW + timedelta(minutes=5))
    )

    assert results[0].status == "ACCEPTED"


async def test_unknown_account_and_no_subscription_are_rejected(services: ServiceContext) -> None:
    account, sub = await metered_account()
    await Subscription.filter(id=sub.id).delete()

    results = await report(services, event(None, "x"), event(account, "y"))

    assert [(r.status, r.reason) for r in results] == [
        ("REJECTED", "unknown account"),
        ("REJECTED", "the account has no active subscription"),
    ]
    assert await UsagePeriodTotal.all().count() == 0


async def test_an_account_id_that_names_no_account_is_unknown(services: ServiceContext) -> None:
    account, _ = await metered_account()
    missing = event(account.id + 1000, "z")

    results = await report(services, missing)

    assert [(r.status, r.reason) for r in results] == [("REJECTED", "unknown account")]
    assert await UsagePeriodTotal.all().count() == 0


async def test_more_than_1000_events_are_refused_whole(services: ServiceContext) -> None:
    account, _ = await metered_account()

    with pytest.raises(InvalidInput) as info:
        await report(services, *[event(account, f"e{n}") for n in range(1001)])

    assert info.value.field == "events"
    assert await UsageEvent.all().count() == 0
    assert await UsagePeriodTotal.all().count() == 0


async def test_1000_events_of_several_accounts_in_one_batch(services: ServiceContext) -> None:
    a, _ = await metered_account("a@example.test")
    b, _ = await metered_account("b@example.test", tier=PlanTier.FREE)

    results = await report(
        services, *[event(a if n % 2 else b, f"e{n}", "0.01") for n in range(1000)]
    )

    assert {r.status for r in results} == {"ACCEPTED"}
    assert (await used(a), await used(b)) == (Decimal("5"), Decimal("5"))


@pytest.mark.parametrize("role", [ApiKeyRole.ADMIN, ApiKeyRole.VIEWER, ApiKeyRole.PARTNER])
async def test_only_service_keys_report(services: ServiceContext, role: ApiKeyRole) -> None:
    account, _ = await metered_account()
    caller = Principal(role=role, account_ids=frozenset({account.id}))

    with pytest.raises(PermissionDenied):
        await report_usage(services, caller, [event(account, "e1")])

    assert await UsageEvent.all().count() == 0


async def test_an_event_after_the_period_end_counts_in_the_next_period(
    services: ServiceContext,
) -> None:
    """The renewal has not run yet: the event belongs to the period after this one."""
    account, sub = await metered_account()
    end = NOW - timedelta(minutes=1)
    await Subscription.filter(id=sub.id).update(current_period_end=end)

    await report(
        services,
        event(account, "late", "2"),
        event(account, "early", "1", timestamp=end - timedelta(seconds=1)),
    )

    totals = {t.period_start: t.quantity_micros for t in await UsagePeriodTotal.all()}
    assert totals == {sub.current_period_start: 1_000_000, end: 2_000_000}


async def test_a_periods_total_has_a_ceiling_and_beyond_it_events_are_rejected(
    services: ServiceContext,
) -> None:
    # given an account reporting the largest quantity an event may carry, batch after
    # batch, and a second account reporting beside it
    a, _ = await metered_account("a@example.test")
    b, _ = await metered_account("b@example.test")
    largest = "999999999.999999"

    # when ten full batches go in (about 10^13 credits: past what the total could hold)
    last = []
    for batch in range(10):
        last = await report(
            services,
            *[event(a, f"big-{batch}-{n}", largest) for n in range(999)],
            event(b, f"small-{batch}", "1"),
        )

    # then nothing failed: the total stopped at the ceiling, what would pass it was
    # REJECTED with the reason, the other account's events all counted, and every total
    # still equals its events
    statuses = {(r.status, r.reason) for r in last if r.id.startswith("big-")}
    assert statuses == {("REJECTED", "the period's total would pass 1,000,000,000,000")}
    assert last[-1].status == "ACCEPTED"
    assert await used(a) == await event_sum(a) <= Decimal(10) ** 12
    assert await used(b) == await event_sum(b) == Decimal(10)
