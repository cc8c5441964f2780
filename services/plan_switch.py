"""Switching an account's plan, inside the caller's transaction.

Called from the transaction that records an upgrade's payment (services/settlement.py)
and from the renewal that applies a downgrade or a cancellation (services/renewals.py),
so the plan moves together with the money, or the period, that justifies it. Each
entry point first wins a conditional UPDATE, so a webhook, the reconciler and the
API reporting the same payment switch the plan once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_date

from models import (
    Account,
    BillingInterval,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Plan,
    PlanAllowance,
    PlanChangeQuote,
    PlanTier,
    Subscription,
    SubscriptionStatus,
    UsagePeriodTotal,
)
from models.events import BillingEventType as EV
from services import notifications
from services.events import log as events
from services.money import Money
from services.policy import BillingPolicy
from services.quotes import quoted_overage
from services.usage.billing import bill_ended_period

#: Everything a customer scheduled for the period end, cleared by any switch.
CLEARED = {
    "pending_plan_id": None,
    "cancel_at_period_end": False,
    "cancellation_reason": None,
    "cancellation_comment": None,
    "cancel_requested_at": None,
}


def day(at: datetime) -> str:
    return str(format_date(at, format="medium", locale="en_US"))


async def free_plan() -> Plan:
    """The catalogue's Free plan (made on first use where a catalogue lacks one)."""
    plan = await Plan.filter(tier=PlanTier.FREE).order_by("price_amount", "id").first()
    if plan is None:
        plan, _ = await Plan.get_or_create(
            code="free",
            defaults={
                "name": "Free",
                "tier": PlanTier.FREE,
                "price_amount": 0,
                "currency": "USD",
                "interval": BillingInterval.MONTH,
            },
        )
    return plan


async def upgrade_paid(invoice: Invoice, now: datetime, policy: BillingPolicy) -> None:
    """Inside settlement's transaction: an upgrade's invoice was just paid, switch now."""
    quote = await PlanChangeQuote.get_or_none(invoice_id=invoice.id)
    if quote is None:
        return
    if not await PlanChangeQuote.filter(id=quote.id, applied_at=None).update(applied_at=now):
        return
    await apply_upgrade(quote, now, policy, amount=Money(invoice.total, invoice.currency))


async def apply_upgrade(
    quote: PlanChangeQuote, now: datetime, policy: BillingPolicy, *, amount: Money
) -> None:
    """Put the account on the quoted plan for the quoted period (its applied_at is won)."""
    target = await Plan.get(id=quote.to_plan_id)
    account = await Account.get(id=quote.account_id)
    sub = await Subscription.select_for_update().get_or_none(account_id=account.id)
    previous = await Plan.get_or_none(id=sub.plan_id) if sub is not None else None
    changes: dict[str, Any] = {"plan_id": target.id, **CLEARED}
    if quote.new_period or sub is None:
        changes.update(
            current_period_start=quote.period_start,
            current_period_end=quote.period_end,
            billing_anchor_day=quote.period_start.day,
            status=SubscriptionStatus.ACTIVE,
            past_due_since=None,
            canceled_at=None,
        )
    if sub is None:
        sub = await Subscription.create(account_id=account.id, created_at=now, **changes)
    else:
        if quote.new_period:  # the period ends today: its overage is on this invoice
            await bill_ended_period(sub, quoted_overage(quote), await _overage_lines(quote), now)
        else:  # the period goes on under the new allowance
            await rerate_usage(account.id, sub.current_period_start, target.id)
        await Subscription.filter(id=sub.id).update(**changes)
    await Account.filter(id=account.id).update(tier=target.tier)
    await events.append(
        EV.SUBSCRIPTION_UPDATED, account_id=account.id, subscription_id=sub.id, now=now
    )
    await notifications.enqueue(
        template="plan_changed",
        account=account,
        dedupe_key=f"plan-changed:quote:{quote.id}",
        context={
            "old_plan": previous.name if previous else "Free",
            "new_plan": target.name,
            "amount": amount.format(),
            "scheduled": False,
            "effective_date": day(now),
            "next_billing_date": day(quote.period_end),
            "next_amount": Money(target.price_amount, target.currency).format(),
            "portal_url": policy.portal_url,
        },
        now=now,
    )


async def _overage_lines(quote: PlanChangeQuote) -> dict[int, int]:
    """meter → the line of the change's invoice that bills its overage (lines are
    issued in the quote's order, position = index)."""
    invoice_id = (await PlanChangeQuote.get(id=quote.id)).invoice_id
    rows = {row.position: row.id for row in await InvoiceLine.filter(invoice_id=invoice_id)}
    return {
        int(line["meter_id"]): rows[position]
        for position, line in enumerate(quote.lines)
        if line.get("meter_id") is not None and position in rows
    }


async def rerate_usage(account_id: int, period_start: datetime, plan_id: int) -> None:
    """Re-rate the period's usage under the new plan's allowance (DESIGN.md, "Usage"): the
    overage accrued so far is cut to what lies past the new, larger allowance, so usage
    the new plan includes is not billed as overage at the renewal. Inside the switch's
    transaction, with the usage totals of that period locked."""
    included = {a.meter_id: a.included_micros for a in await PlanAllowance.filter(plan_id=plan_id)}
    totals = await UsagePeriodTotal.select_for_update().filter(
        account_id=account_id, period_start=period_start, invoiced_at=None, overage_micros__gt=0
    )
    for total in totals:
        past_new = max(total.quantity_micros - included.get(total.meter_id, 0), 0)
        if past_new < total.overage_micros:
            await UsagePeriodTotal.filter(id=total.id).update(overage_micros=past_new)


async def upgrade_failed(invoice_id: int, now: datetime) -> None:
    """Inside settlement's transaction: an upgrade's charge failed (declined, or 3-D
    Secure abandoned and canceled). The plan stays; the invoice is voided, so no open
    balance is left behind and the customer previews again to retry."""
    quote = await PlanChangeQuote.get_or_none(invoice_id=invoice_id)
    if quote is None:
        return
    await void_upgrade_invoice(invoice_id, quote.account_id, now)


async def void_upgrade_invoice(invoice_id: int, account_id: int, now: datetime) -> None:
    """An upgrade invoice nobody will pay (its charge failed, or it was given up): VOID,
    unless a payment is still on it or money was already taken."""
    if await Invoice.filter(
        id=invoice_id, status=InvoiceStatus.OPEN, active_payment_id=None, amount_paid=0
    ).update(status=InvoiceStatus.VOID, next_attempt_at=None):
        await events.append(
            EV.INVOICE_VOIDED, account_id=account_id, invoice_id=invoice_id, now=now
        )


async def renewal_target(sub: Subscription, plan: Plan) -> Plan | None:
    """The plan a scheduled downgrade or cancellation moves to at this renewal, if any."""
    if sub.cancel_at_period_end:
        return await free_plan()
    if sub.pending_plan_id is not None:
        return await Plan.get(id=sub.pending_plan_id)
    return None


async def switched_at_renewal(
    sub: Subscription,
    old: Plan,
    new: Plan,
    next_billing: datetime | None,
    now: datetime,
    policy: BillingPolicy,
) -> None:
    """Inside the renewal's transaction, after it won the period: the account's tier
    and the email (the end of a paid plan, or the downgrade taking effect)."""
    account = await Account.get(id=sub.account_id)
    await Account.filter(id=account.id).update(tier=new.tier)
    common = {"old_plan": old.name, "new_plan": new.name, "portal_url": policy.portal_url}
    key = f"{sub.id}:{sub.current_period_end.isoformat()}"
    if new.price_amount == 0:
        await notifications.enqueue(
            template="paid_plan_ended",
            account=account,
            dedupe_key=f"paid-plan-ended:{key}",
            context={**common, "canceled": sub.cancel_at_period_end},
            now=now,
        )
        return
    await notifications.enqueue(
        template="plan_changed",
        account=account,
        dedupe_key=f"plan-changed:renewal:{key}",
        context={
            **common,
            "amount": None,
            "scheduled": False,
            "effective_date": day(sub.current_period_end),
            "next_billing_date": day(next_billing) if next_billing else None,
            "next_amount": Money(new.price_amount, new.currency).format(),
        },
        now=now,
    )
