"""Plan-change quotes once made: whether one still holds, and using it (once).

Shared by the plan-change orchestration (services/plan_changes.py) and its money path
(services/plan_change_billing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import Invoice, Payment, PlanChangeQuote, Subscription
from services.usage.billing import rate_closing_period


@dataclass(frozen=True)
class PlanChangeOutcome:
    subscription: Subscription | None
    invoice: Invoice | None  # None for a PERIOD_END change
    payment: Payment | None  # None unless money moved (or is moving)


async def still_matches(quote: PlanChangeQuote) -> bool:
    """The subscription is on the plan and in the period the quote was computed for."""
    sub = await Subscription.get_or_none(account_id=quote.account_id)
    if sub is None:
        return quote.subscription_id is None
    return (
        sub.id == quote.subscription_id
        and sub.plan_id == quote.from_plan_id
        and sub.current_period_end == quote.current_period_end
    )


def quoted_overage(quote: PlanChangeQuote) -> dict[int, int]:
    """The closing period's overage the quote bills: meter → amount (its lines that
    carry a `meter_id`; only a change that starts a new period has any)."""
    return {
        int(line["meter_id"]): int(line["amount"])
        for line in quote.lines
        if line.get("meter_id") is not None
    }


async def overage_still_matches(quote: PlanChangeQuote) -> bool:
    """Inside the claim: the period a new-period change ends still has the overage the
    quote bills. The subscription row is locked first, as a renewal does, so no usage
    batch (FOR SHARE) adds to the period while it is rated."""
    if not quote.new_period or quote.subscription_id is None:
        return True
    sub = await Subscription.select_for_update().get_or_none(id=quote.subscription_id)
    if sub is None:
        return False
    closing = await rate_closing_period(sub)
    return {line.meter_id: line.amount for line in closing.lines} == quoted_overage(quote)


async def claim_quote(quote: PlanChangeQuote, now: datetime, key: str | None, print_: str) -> bool:
    """Inside a transaction: use the quote; only one caller's UPDATE matches."""
    return bool(
        await PlanChangeQuote.filter(id=quote.id, used_at=None).update(
            used_at=now, client_idempotency_key=key, request_fingerprint=print_
        )
    )
