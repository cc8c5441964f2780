"""An upgrade mid-period re-rates the period's usage under the new plan's allowance."""

from __future__ import annotations

from models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    OverageSetting,
    PlanAllowance,
    UsagePeriodTotal,
)
from services.plan_changes import change_plan, preview_plan_change
from services.usage import MICROS
from tests.conftest import NOW
from tests.factories import add_card, admin_of, make_account, subscribe
from tests.plan_change_helpers import catalogue
from tests.usage.helpers import credits_meter, event, report


async def test_an_upgrade_rerates_the_periods_overage(services, sandbox, provider):
    # given Plus (1,000 credits, $0.04 past them, overage on) with 1,500 credits used
    plans = await catalogue()
    meter = await credits_meter()
    for plan, included in ((plans.plus, 1_000), (plans.plus_5k, 5_000)):
        await PlanAllowance.create(
            plan=plan, meter=meter, included_micros=included * MICROS, overage_unit_amount=4
        )
    account = await make_account()
    await subscribe(account)
    await add_card(services, sandbox, account)
    await OverageSetting.create(account=account, enabled=True, updated_at=NOW)
    await report(services, event(account, "u1", "1500"))
    total = await UsagePeriodTotal.get(account_id=account.id)
    assert total.overage_micros == 500 * MICROS

    # when it upgrades to Plus 5K (5,000 credits) in the same period
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_5k.id)
    await change_plan(services, admin_of(account), None, plans.plus_5k.id, quote.token)

    # then nothing it used is overage any more, and overage resumes past 5,000
    await total.refresh_from_db()
    assert (total.quantity_micros, total.overage_micros) == (1_500 * MICROS, 0)
    await report(services, event(account, "u2", "4000"))
    await total.refresh_from_db()
    assert total.overage_micros == 500 * MICROS


async def test_an_interval_change_bills_the_closing_periods_overage_under_the_old_plan(
    services, sandbox, provider
):
    # given Plus monthly (1,000 credits, $0.04 past them, overage on) with 1,500 used
    plans = await catalogue()
    meter = await credits_meter()
    for plan, included in ((plans.plus, 1_000), (plans.plus_yearly, 12_000)):
        await PlanAllowance.create(
            plan=plan, meter=meter, included_micros=included * MICROS, overage_unit_amount=4
        )
    account = await make_account()
    await subscribe(account)
    await add_card(services, sandbox, account)
    await OverageSetting.create(account=account, enabled=True, updated_at=NOW)
    await report(services, event(account, "u1", "1500"))
    before = await UsagePeriodTotal.get(account_id=account.id)

    # when it moves to yearly, which ends the monthly period today
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_yearly.id)
    outcome = await change_plan(
        services, admin_of(account), None, plans.plus_yearly.id, quote.token
    )

    # then the change's invoice is exactly the quote, and the 500 credits past the monthly
    # allowance are billed once, at $0.04, on it (as the preview showed), linked from the
    # closed period's total
    assert outcome.invoice is not None and outcome.invoice.total == quote.amount_due
    await before.refresh_from_db()
    assert before.invoiced_at is not None and before.billed_amount == 2_000
    line = await InvoiceLine.get(id=before.invoice_line_id)
    assert line.invoice_id == outcome.invoice.id and line.amount == 2_000
    assert outcome.invoice.status is InvoiceStatus.PAID
    assert await Invoice.filter(account_id=account.id).count() == 1

    # and late usage dated in the closed period is refused as invoiced, not billed twice
    late = event(account, "late", "10", timestamp=before.period_start)
    (result,) = await report(services, late)
    assert result.status == "REJECTED"
