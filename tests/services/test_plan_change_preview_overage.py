"""The preview is what the change bills: the closing period's overage included.

A change that starts a new period (monthly -> yearly) ends the current one today and
bills its overage at the change; a change that keeps the period (Plus -> Plus 5K) or
waits for its end (a downgrade) bills no overage now. For each, the preview's lines and
`amount_due` equal the invoice the change issues and the charge the sandbox received.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models import (
    Account,
    BillingEvent,
    Invoice,
    InvoiceLine,
    OverageSetting,
    Plan,
    PlanAllowance,
    PlanChangeQuote,
    Subscription,
    UsagePeriodTotal,
)
from services.errors import QuoteExpired
from services.plan_changes import change_plan, preview_plan_change
from services.provider.recording import RecordingProvider
from services.usage import MICROS
from tests.conftest import NOW
from tests.factories import add_card, admin_of, api_key, gql, make_account, subscribe
from tests.graphql.helpers import gid
from tests.plan_change_helpers import Catalogue, all_rows, catalogue
from tests.usage.helpers import credits_meter, event, report


@dataclass(frozen=True)
class Case:
    start: str  # the plan the account is on
    target: str  # the plan it previews and changes to
    used: str  # credits used this period (1,000 included on Plus, $0.04 past them)
    overage_now: int  # the closing period's overage billed at the change, in cents


CASES = {
    # a new period starts today: the month's 500 credits past 1,000 are billed now
    "interval upgrade, overage": Case("plus", "plus_yearly", "1500", 2_000),
    "interval upgrade, no overage": Case("plus", "plus_yearly", "800", 0),
    # the period goes on, re-rated under 5,000 credits: nothing of it billed now
    "same-interval upgrade, overage": Case("plus", "plus_5k", "1500", 0),
    "same-interval upgrade, no overage": Case("plus", "plus_5k", "800", 0),
    # waits for the period end: nothing billed now
    "downgrade, overage": Case("plus_5k", "plus", "5500", 0),
    "downgrade, no overage": Case("plus_5k", "plus", "800", 0),
    "downgrade to Free, overage": Case("plus", "free", "1500", 0),
}


async def metered_plans() -> Catalogue:
    plans = await catalogue()
    meter = await credits_meter()
    for plan, included in (
        (plans.plus, 1_000),
        (plans.plus_5k, 5_000),
        (plans.plus_yearly, 12_000),
        (plans.free, 50),
    ):
        await PlanAllowance.create(
            plan=plan,
            meter=meter,
            included_micros=included * MICROS,
            overage_unit_amount=None if plan is plans.free else 4,
        )
    return plans


async def customer(services, sandbox, plan: Plan, used: str) -> Account:
    account = await make_account()
    sub = await subscribe(account)
    await Subscription.filter(id=sub.id).update(plan_id=plan.id)
    await add_card(services, sandbox, account)
    await OverageSetting.create(account=account, enabled=True, updated_at=NOW)
    await report(services, event(account, "u1", used))
    return account


async def charges_of(provider: RecordingProvider, account: Account) -> list[int]:
    """What the sandbox's books hold for the account's customer: one amount per charge."""
    customer = (await Account.get(id=account.id)).provider_customer_id
    assert customer is not None
    records = await provider.list_charges()
    return [r.charge.amount for r in records if r.customer_id == customer]


async def usage_rows() -> list[dict]:
    return await UsagePeriodTotal.all().order_by("id").values()


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_the_preview_equals_what_the_change_bills_and_charges(
    services, sandbox, provider, case: Case
):
    # given an account with this period's usage
    plans = await metered_plans()
    account = await customer(services, sandbox, getattr(plans, case.start), case.used)
    target = getattr(plans, case.target)
    charged_before = await charges_of(provider, account)

    # when it previews the change
    rows, usage, events = await all_rows(), await usage_rows(), await BillingEvent.all().count()
    quote = await preview_plan_change(services, admin_of(account), None, target.id)

    # then the preview wrote nothing but its quote, and its overage is a line of its own
    rows["PlanChangeQuote"] = await PlanChangeQuote.all().order_by("id").values()
    assert await all_rows() == rows
    assert await usage_rows() == usage
    assert await BillingEvent.all().count() == events
    overage = [line for line in quote.lines if "overage" in line["description"]]
    assert sum(line["amount"] for line in overage) == case.overage_now
    if case.overage_now:
        assert [line["description"] for line in overage] == ["Credits overage: 500 × $0.04"]  # noqa: RUF001
    assert quote.amount_due == sum(line["amount"] for line in quote.lines)

    # when the change is made
    outcome = await change_plan(services, admin_of(account), None, target.id, quote.token)

    # then the one invoice it issued is the preview line for line, the sandbox charged
    # amount_due once (or nothing), and no other invoice was issued for the change
    new_invoices = await Invoice.filter(account_id=account.id).order_by("id")
    charged = (await charges_of(provider, account))[len(charged_before) :]
    if quote.amount_due == 0:
        assert charged == []
    else:
        assert charged == [quote.amount_due]
    if outcome.invoice is None:
        assert quote.lines == [] and new_invoices == []
        return
    assert [i.id for i in new_invoices] == [outcome.invoice.id]
    assert outcome.invoice.total == quote.amount_due
    lines = await InvoiceLine.filter(invoice_id=outcome.invoice.id).order_by("position")
    assert [(x.description, x.amount) for x in lines] == [
        (line["description"], line["amount"]) for line in quote.lines
    ]
    # and the closed period's total is billed by exactly that overage line
    if case.overage_now:
        total = await UsagePeriodTotal.get(account_id=account.id, invoiced_at__not_isnull=True)
        line = await InvoiceLine.get(id=total.invoice_line_id)
        assert (line.invoice_id, line.amount, total.billed_amount) == (
            outcome.invoice.id,
            case.overage_now,
            case.overage_now,
        )


async def test_usage_reported_after_the_preview_expires_an_overage_quote(
    services, sandbox, provider
):
    # given a preview of monthly -> yearly that bills 500 credits of overage
    plans = await metered_plans()
    account = await customer(services, sandbox, plans.plus, "1500")
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_yearly.id)

    # when more usage lands in the closing period before the change is confirmed
    await report(services, event(account, "u2", "100"))

    # then the quote no longer says what would be billed: QUOTE_EXPIRED, nothing charged
    rows = await all_rows()
    provider.reset()
    with pytest.raises(QuoteExpired):
        await change_plan(services, admin_of(account), None, plans.plus_yearly.id, quote.token)
    assert provider.calls == []
    assert await all_rows() == rows

    # and a new preview bills the 600 credits, exactly as the change then does
    quote = await preview_plan_change(services, admin_of(account), None, plans.plus_yearly.id)
    assert "Credits overage: 600 × $0.04" in [line["description"] for line in quote.lines]  # noqa: RUF001
    outcome = await change_plan(
        services, admin_of(account), None, plans.plus_yearly.id, quote.token
    )
    assert outcome.invoice is not None and outcome.invoice.total == quote.amount_due
    assert [c["amount"] for c in provider.calls_to("charge")] == [quote.amount_due]


PREVIEW = """
mutation($plan: ID!) { previewPlanChange(input: {planId: $plan}) {
  ... on PreviewPlanChangeSuccess { preview {
    amountDueNow { amount } overageDueNow { amount formatted }
    lines { description amount { amount } }
  } }
} }
"""


@pytest.mark.parametrize(("target", "overage"), [("plus_yearly", 2_000), ("plus_5k", 0)])
async def test_graphql_preview_shows_the_overage_due_now(
    client, services, sandbox, provider, target: str, overage: int
):
    # given 500 credits past Plus monthly's 1,000 this period
    plans = await metered_plans()
    account = await customer(services, sandbox, plans.plus, "1500")

    # when the customer previews over GraphQL
    plan = gid("Plan", getattr(plans, target).id)
    body = await gql(client, PREVIEW, {"plan": plan}, key=await api_key(account))

    # then overageDueNow is the overage line's amount, part of amountDueNow
    p = body["data"]["previewPlanChange"]["preview"]
    assert p["overageDueNow"]["amount"] == overage
    assert p["amountDueNow"]["amount"] == sum(line["amount"]["amount"] for line in p["lines"])
    assert overage == sum(
        line["amount"]["amount"] for line in p["lines"] if "overage" in line["description"]
    )
