"""Renewals: at period end, issue the next invoice from the plan and queue its charge.

Issuing is database-only and happens in one transaction per subscription, claimed
with `FOR UPDATE SKIP LOCKED` (PostgreSQL) plus a re-check of the period end, so two
workers never issue the same period twice. A downgrade or cancellation scheduled for
the period end is applied by that same guarded UPDATE, so it too happens once; a move
to Free issues no invoice. The charge itself is the collector's job
(services/collection.py): the new invoice is due for collection at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from models import (
    BillingInterval,
    Plan,
    Subscription,
    SubscriptionStatus,
)
from models.events import BillingEventType as EV
from services.context import ServiceContext
from services.events import log as events
from services.invoices import issue_plan_invoice
from services.plan_switch import CLEARED, renewal_target, switched_at_renewal
from services.usage.billing import bill_closing_period, rate_closing_period

RENEWABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)


def add_interval(
    start: datetime, interval: BillingInterval, anchor_day: int | None = None
) -> datetime:
    """Calendar months (or years) on the anchor day, clamped to the month's last day.

    With the anchor the day comes back after a short month: Jan 31 → Feb 28 → Mar 31,
    not Mar 28 (the drift a plain "same day next month" accumulates).
    """
    months = 12 if interval is BillingInterval.YEAR else 1
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    wanted = anchor_day or start.day
    for day in range(wanted, 0, -1):
        try:
            return start.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class RenewalReport:
    renewed: int
    invoices: list[int]


async def renew_due(ctx: ServiceContext, *, limit: int = 100) -> RenewalReport:
    now = ctx.clock.now()
    renewed, invoices = 0, []
    for _ in range(limit):
        invoice_id = await _renew_one(ctx, now)
        if invoice_id is None:
            break
        renewed += 1
        if invoice_id > 0:
            invoices.append(invoice_id)
    return RenewalReport(renewed=renewed, invoices=invoices)


async def _renew_one(ctx: ServiceContext, now: datetime) -> int | None:
    """Renew one due subscription; its new invoice id, 0 for a free plan, None if none due."""
    async with in_transaction():
        sub = (
            await Subscription.filter(status__in=list(RENEWABLE), current_period_end__lte=now)
            .select_for_update(skip_locked=True)
            .order_by("current_period_end", "id")
            .first()
        )
        if sub is None:
            return None
        # Rated before the period moves on: the closing period's overage, under its plan.
        closing = await rate_closing_period(sub)
        current = await Plan.get(id=sub.plan_id)
        # A downgrade or a cancellation the customer scheduled starts with this period.
        switch_to = await renewal_target(sub, current)
        plan = switch_to or current
        start = sub.current_period_end
        anchor = sub.billing_anchor_day or start.day
        end = add_interval(start, plan.interval, anchor)
        period: dict[str, object] = {
            "current_period_start": start,
            "current_period_end": end,
            "billing_anchor_day": anchor,
        }
        if switch_to is not None:
            period.update(plan_id=plan.id, **CLEARED)
        # The guard that makes this happen once: only one renewal moves this period on.
        changed = await Subscription.filter(id=sub.id, current_period_end=start).update(**period)
        if not changed:
            return 0
        await events.append(
            EV.SUBSCRIPTION_UPDATED, account_id=sub.account_id, subscription_id=sub.id, now=now
        )
        if switch_to is not None:
            next_billing = end if plan.price_amount else None
            await switched_at_renewal(sub, current, plan, next_billing, now, ctx.policy)
        if plan.price_amount == 0 and not closing.lines:
            await bill_closing_period(sub, closing, None, now)
            return 0
        issued = await issue_plan_invoice(
            sub,
            plan,
            start=start,
            end=end,
            now=now,
            due_in=ctx.policy.invoice_due_in,
            collect_at=now,
            extra_lines=[(line.description, line.amount) for line in closing.lines],
        )
        await bill_closing_period(sub, closing, issued.id, now)
        return issued.id
