"""What a subscription means for the customer: features on or off, the next bill."""

from __future__ import annotations

from datetime import datetime

from models import Plan, Subscription, SubscriptionStatus
from services.money import Money

_FEATURES_ON = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING)
_BILLS_NEXT = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)


def paid_features_enabled(subscription: Subscription) -> bool:
    return subscription.status in _FEATURES_ON


def next_billing_date(subscription: Subscription, pending: Plan | None = None) -> datetime | None:
    """The period end, unless nothing will be billed then: the subscription ended, was
    canceled at the period end, or moves to a free plan then (`pending`)."""
    if subscription.status not in _BILLS_NEXT or subscription.cancel_at_period_end:
        return None
    if pending is not None and pending.price_amount == 0:
        return None
    return subscription.current_period_end


def next_billing_amount(
    subscription: Subscription, plan: Plan, pending: Plan | None = None
) -> Money | None:
    """The price of the plan the next period is on (a scheduled downgrade's, if any)."""
    if next_billing_date(subscription, pending) is None:
        return None
    billed = pending or plan
    return Money(billed.price_amount, billed.currency)
