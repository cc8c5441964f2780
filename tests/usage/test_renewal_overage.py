"""The closing period's overage on the renewal invoice: one line per meter, within the cap."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import InvoiceLine, PlanTier, Subscription, UsagePeriodTotal
from services.clock import FixedClock
from services.context import ServiceContext
from services.renewals import renew_due
from services.usage.overage import update_overage_settings
from tests.factories import admin_of
from tests.usage.helpers import event, metered_account, report
from tests.usage_invariants import usage_violations


async def _renew(services: ServiceContext, clock: FixedClock, sub: Subscription) -> list[int]:
    clock.set(sub.current_period_end + timedelta(minutes=1))
    return (await renew_due(services)).invoices


async def _lines(invoice_id: int) -> list[tuple[str, int]]:
    rows = await InvoiceLine.filter(invoice_id=invoice_id).order_by("position", "id")
    return [(r.description, r.amount) for r in rows]


async def test_overage_goes_on_the_renewal_invoice(
    services: ServiceContext, clock: FixedClock
) -> None:
    account, sub = await metered_account()
    await update_overage_settings(
        services, admin_of(account), account, enabled=True, monthly_cap=None
    )
    await report(services, event(account, "e1", "1000"), event(account, "e2", "234.5"))

    (invoice_id,) = await _renew(services, clock, sub)

    lines = await _lines(invoice_id)
    assert lines[1] == ("Credits overage: 234.5 × $0.04", 938)  # noqa: RUF001
    assert len(lines) == 2
    total = await UsagePeriodTotal.get(account_id=account.id)
    assert (total.billed_amount, total.billed_unit_amount) == (938, 4)
    assert total.invoice_line_id is not None and total.invoiced_at is not None
    assert await usage_violations() == []


async def test_the_renewal_line_is_clamped_to_the_cap(
    services: ServiceContext, clock: FixedClock
) -> None:
    account, sub = await metered_account()
    await update_overage_settings(
        services, admin_of(account), account, enabled=True, monthly_cap=500
    )
    await report(services, event(account, "e1", "1300"))  # 300 over: $12 uncapped

    (invoice_id,) = await _renew(services, clock, sub)

    lines = await _lines(invoice_id)
    assert lines[1][1] == 500
    assert sum(amount for _, amount in lines) == 2900 + 500


async def test_no_overage_no_line(services: ServiceContext, clock: FixedClock) -> None:
    account, sub = await metered_account()
    await report(services, event(account, "e1", "1300"))  # overage off: recorded, not billed

    (invoice_id,) = await _renew(services, clock, sub)

    assert len(await _lines(invoice_id)) == 1
    total = await UsagePeriodTotal.get(account_id=account.id)
    assert total.invoiced_at is not None and total.billed_amount == 0


async def test_after_the_renewal_the_closed_period_is_invoiced(
    services: ServiceContext, clock: FixedClock
) -> None:
    account, sub = await metered_account()
    await report(services, event(account, "e1", "10"))
    await _renew(services, clock, sub)

    results = await report(
        services,
        event(account, "late", "5", timestamp=sub.current_period_end - timedelta(hours=1)),
        event(account, "new", "5"),
    )

    assert [(r.status, r.reason) for r in results] == [
        ("REJECTED", "timestamp falls in a period that is already invoiced"),
        ("ACCEPTED", None),
    ]
    totals = {t.period_start: t.quantity_micros for t in await UsagePeriodTotal.all()}
    assert totals == {sub.current_period_start: 10_000_000, sub.current_period_end: 5_000_000}


async def test_a_free_plan_renews_without_an_invoice(
    services: ServiceContext, clock: FixedClock
) -> None:
    account, sub = await metered_account(tier=PlanTier.FREE)
    await report(services, event(account, "e1", "50"))

    assert await _renew(services, clock, sub) == []
    assert (await UsagePeriodTotal.get(account_id=account.id)).invoiced_at is not None


@pytest.mark.no_ledger_check
async def test_the_invariants_catch_an_overage_line_past_the_cap(
    services: ServiceContext, clock: FixedClock
) -> None:
    account, sub = await metered_account()
    await update_overage_settings(
        services, admin_of(account), account, enabled=True, monthly_cap=500
    )
    await report(services, event(account, "e1", "1300"))
    (invoice_id,) = await _renew(services, clock, sub)

    await UsagePeriodTotal.filter(account_id=account.id).update(billed_cap=400)
    await InvoiceLine.filter(invoice_id=invoice_id, position=1).update(amount=501)

    problems = await usage_violations()
    assert any("> cap 400" in p for p in problems)
    assert any("does not bill 500" in p for p in problems)
